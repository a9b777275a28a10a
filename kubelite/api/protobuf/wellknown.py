"""Types whose protobuf message differs from their JSON form.

apimachinery gives a few types a custom JSON encoding, so their wire message cannot be
read with the field table alone:

| type | protobuf | JSON |
|---|---|---|
| meta/v1 Time | {seconds int64 = 1, nanos int32 = 2} | "2006-01-02T15:04:05Z" (seconds, UTC) |
| meta/v1 MicroTime | same | "2006-01-02T15:04:05.000000Z" |
| meta/v1 Duration | {duration int64 ns = 1} | Go duration string, "1h2m3.5s" |
| resource Quantity | {string = 1} | the string |
| intstr IntOrString | {type = 1 (0 int, 1 string), intVal = 2, strVal = 3} | number or string |
| runtime RawExtension, meta/v1 FieldsV1 | {raw bytes = 1} | the raw JSON itself |

A zero Time (seconds = nanos = 0) is Go's zero time, which JSON writes as null; callers
leave such a field out. Conversions in both directions live here so the decoder and
the encoder cannot disagree.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import orjson

from kubelite.api.protobuf import wire
from kubelite.api.protobuf.wire import DecodeError

_UNITS = (("h", 3600 * 10**9), ("m", 60 * 10**9), ("s", 10**9),
          ("ms", 10**6), ("us", 10**3), ("µs", 10**3), ("μs", 10**3), ("ns", 1))


def _int_fields(data: bytes) -> dict[int, int | bytes]:
    return {number: value for number, _, value in wire.iter_fields(data)}


# Time ------------------------------------------------------------------------------


def decode_time(data: bytes, *, micro: bool) -> str | None:
    """RFC 3339 in UTC, or None for Go's zero time."""
    f = _int_fields(data)
    seconds = wire.signed(int(f.get(1, 0)), 64)
    nanos = wire.signed(int(f.get(2, 0)), 32)
    if seconds == 0 and nanos == 0:
        return None
    try:
        t = datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise DecodeError(f"time {seconds}s out of range") from None
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if micro:
        text += f".{nanos // 1000:06d}"
    return text + "Z"


def encode_time(text: str) -> bytes:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    seconds = int(t.timestamp() // 1)
    out = wire.varint_field(1, seconds)
    if t.microsecond:
        out += wire.varint_field(2, t.microsecond * 1000)
    return out


# Duration --------------------------------------------------------------------------


def format_duration(ns: int) -> str:
    """Go's time.Duration.String()."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 10**9:  # under a second: one unit, with a fraction
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if ns >= size:
                return sign + _fraction(ns, size) + unit
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    text = _fraction(rest, 10**9) + "s"
    if hours or minutes:
        text = f"{minutes}m" + text
    if hours:
        text = f"{hours}h" + text
    return sign + text


def _fraction(value: int, size: int) -> str:
    whole, frac = divmod(value, size)
    if not frac:
        return str(whole)
    digits = len(str(size)) - 1
    return f"{whole}." + f"{frac:0{digits}d}".rstrip("0")


def parse_duration(text: str) -> int:
    """Nanoseconds of a Go duration string ("1h2m3.5s", "-300ms"), as time.ParseDuration
    reads it (both micro signs included)."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body == "0":
        return 0
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|μs|ns|m|s)", body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"invalid duration {text!r}")
    sizes = dict(_UNITS)
    return sign * round(sum(float(n) * sizes[u] for n, u in parts))


def decode_duration(data: bytes) -> str:
    return format_duration(wire.signed(int(_int_fields(data).get(1, 0)), 64))


# Quantity, IntOrString, raw JSON ---------------------------------------------------


def decode_quantity(data: bytes) -> str:
    value = _int_fields(data).get(1, b"")
    if not isinstance(value, bytes):
        raise DecodeError("quantity: field 1 is not a string")
    return value.decode("utf-8", "replace") or "0"


def decode_int_or_string(data: bytes) -> int | str:
    f = _int_fields(data)
    if f.get(1, 0) == 1:
        value = f.get(3, b"")
        if not isinstance(value, bytes):
            raise DecodeError("intstr: strVal is not a string")
        return value.decode("utf-8", "replace")
    return wire.signed(int(f.get(2, 0)), 32)


def encode_int_or_string(value: int | str) -> bytes:
    if isinstance(value, str):
        return wire.varint_field(1, 1) + wire.bytes_field(3, value.encode())
    return wire.varint_field(1, 0) + wire.varint_field(2, value)


def decode_raw_json(data: bytes, decode_object: Any) -> Any:
    """A RawExtension or FieldsV1: field 1 holds JSON, or (RawExtension inside a
    protobuf object) a nested `k8s\\x00` protobuf object."""
    raw = _int_fields(data).get(1, b"")
    if not isinstance(raw, bytes):
        raise DecodeError("raw extension: field 1 is not bytes")
    if not raw:
        return None
    if raw.startswith(b"k8s\x00"):
        return decode_object(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise DecodeError("raw extension does not hold JSON") from None
