"""The protobuf wire format: just what the Kubernetes encoding uses.

A message is a sequence of (tag, value) pairs; the tag is `number << 3 | wire type`.
Kubernetes uses wire types 0 (varint: bool, int32, int64, uint), 1 (fixed64: double),
2 (length-delimited: string, bytes, embedded message, packed repeated scalar) and
5 (fixed32: float). Integers are plain two's complement varints, never zigzag: a
negative int32 or int64 takes ten bytes. Groups (wire types 3 and 4) are not used by
any Kubernetes type and are rejected.

Reading never trusts lengths: a truncated or overlong value raises `DecodeError`, so a
hostile body can cost at most one pass over its own bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, BYTES, FIXED32 = 0, 1, 2, 5

FieldValue = int | bytes


class DecodeError(ValueError):
    """The body is not valid protobuf for the type it claims to be."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the varint at pos, unsigned."""
    value = shift = 0
    end = len(data)
    while pos < end:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint longer than 10 bytes")
    raise DecodeError("truncated varint")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, FieldValue]]:
    """(number, wire type, value) for each field: an int for varint and fixed
    types (fixed ones raw, unsigned), the bytes for length-delimited ones."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise DecodeError("field number 0")
        if wire_type == VARINT:
            value, pos = read_varint(data, pos)
            yield number, wire_type, value
        elif wire_type == BYTES:
            length, pos = read_varint(data, pos)
            if pos + length > end:
                raise DecodeError(f"field {number}: length {length} past the end")
            yield number, wire_type, data[pos:pos + length]
            pos += length
        elif wire_type == FIXED64:
            if pos + 8 > end:
                raise DecodeError(f"field {number}: truncated fixed64")
            yield number, wire_type, int.from_bytes(data[pos:pos + 8], "little")
            pos += 8
        elif wire_type == FIXED32:
            if pos + 4 > end:
                raise DecodeError(f"field {number}: truncated fixed32")
            yield number, wire_type, int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        else:
            raise DecodeError(f"field {number}: unsupported wire type {wire_type}")


def iter_packed_varints(data: bytes) -> Iterator[int]:
    pos = 0
    while pos < len(data):
        value, pos = read_varint(data, pos)
        yield value


def signed(value: int, bits: int) -> int:
    """Two's complement reading of an unsigned varint, truncated to `bits` as Go does."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def double(raw: int) -> float:
    return float(struct.unpack("<d", raw.to_bytes(8, "little"))[0])


def single(raw: int) -> float:
    return float(struct.unpack("<f", raw.to_bytes(4, "little"))[0])


# Writing -------------------------------------------------------------------------


def varint(value: int) -> bytes:
    """A varint; negative values as ten-byte two's complement, like Go's int64."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def varint_field(number: int, value: int) -> bytes:
    return tag(number, VARINT) + varint(value)


def bytes_field(number: int, value: bytes) -> bytes:
    return tag(number, BYTES) + varint(len(value)) + value


def double_field(number: int, value: float) -> bytes:
    return tag(number, FIXED64) + struct.pack("<d", value)


def float_field(number: int, value: float) -> bytes:
    return tag(number, FIXED32) + struct.pack("<f", value)
