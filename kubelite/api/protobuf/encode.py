"""JSON dicts to the Kubernetes protobuf encoding: the inverse of `decode`.

The encoder writes only what the dict holds (proto2 presence), in field-number order,
maps sorted by key and repeated scalars unpacked, as Go's generated code does; it does
not add the zero-valued non-pointer fields Go would also send, and the decoder reads
both forms alike. It serves tests (encode a dict, decode it, compare) and any caller
that answers a client asking for protobuf. A key the table does not know raises
`ValueError`, so a typo in a test object fails loudly instead of vanishing.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from kubelite.api import schemas
from kubelite.api.protobuf import fields, wellknown, wire
from kubelite.api.protobuf.decode import MAGIC
from kubelite.api.protobuf.fields import Field

Obj = dict[str, Any]


def encode_object(obj: Obj) -> bytes:
    """Magic + runtime.Unknown envelope around the object's message."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    definition = fields.definition_for(api_version, kind)
    if definition is None:
        raise ValueError(f"no protobuf encoding for {api_version} {kind}")
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    type_meta = wire.bytes_field(1, api_version.encode()) + wire.bytes_field(2, kind.encode())
    return MAGIC + (wire.bytes_field(1, type_meta)
                    + wire.bytes_field(2, encode_message(definition, body))
                    + wire.bytes_field(3, b"") + wire.bytes_field(4, b""))


def encode_message(definition: str, obj: Obj) -> bytes:
    message = fields.message(definition)
    inline = [f for f in message.values() if f.inline]
    inline_keys = {name: f.number for f in inline for name in _json_names(f.elem)}
    named = fields.by_name(definition)
    parts: dict[int, bytes] = {}
    grouped: dict[int, Obj] = {}
    for key, value in obj.items():
        f = named.get(key)
        if f is None and key in inline_keys:
            grouped.setdefault(inline_keys[key], {})[key] = value
            continue
        if f is None:
            raise ValueError(f"{definition} has no field {key!r}")
        if value is not None:
            parts[f.number] = _field(f, value)
    for number, sub in grouped.items():
        parts[number] = wire.bytes_field(number, encode_message(message[number].elem, sub))
    return b"".join(parts[n] for n in sorted(parts))


def _json_names(definition: str) -> set[str]:
    """JSON names an inline message contributes to its parent (recursively)."""
    names: set[str] = set()
    for f in fields.message(definition).values():
        names |= _json_names(f.elem) if f.inline else {f.name}
    return names


def _field(f: Field, value: Any) -> bytes:
    n = f.number
    if f.map_key is not None:
        out = []
        for key in sorted(value):
            item = value[key]
            if f.wrapped:
                encoded_value = wire.bytes_field(2, b"".join(_scalar(1, f.elem, v) for v in item))
            elif f.is_message:
                encoded_value = wire.bytes_field(2, _message(f.elem, item))
            else:
                encoded_value = _scalar(2, f.elem, item)
            entry = _scalar(1, f.map_key, key) + encoded_value
            out.append(wire.bytes_field(n, entry))
        return b"".join(out)
    if f.wrapped:
        return wire.bytes_field(n, b"".join(_scalar(1, f.elem, v) for v in value))
    if f.repeated:
        return b"".join(_single(f, item) for item in value)
    return _single(f, value)


def _single(f: Field, value: Any) -> bytes:
    if f.is_message:
        return wire.bytes_field(f.number, _message(f.elem, value))
    return _scalar(f.number, f.elem, value)


def _message(definition: str, value: Any) -> bytes:
    if definition in (schemas.TIME, schemas.MICRO_TIME):
        return wellknown.encode_time(value)
    if definition == schemas.QUANTITY:
        return wire.bytes_field(1, str(value).encode())
    if definition == schemas.INT_OR_STRING:
        return wellknown.encode_int_or_string(value)
    if definition == schemas.DURATION:
        return wire.varint_field(1, wellknown.parse_duration(value))
    if definition in (schemas.RAW_EXTENSION, schemas.FIELDS_V1):
        return wire.bytes_field(1, orjson.dumps(value))
    return encode_message(definition, value)


def _scalar(number: int, elem: str, value: Any) -> bytes:
    if elem == "string":
        return wire.bytes_field(number, str(value).encode())
    if elem == "bytes":
        return wire.bytes_field(number, base64.b64decode(value))
    if elem == "double":
        return wire.double_field(number, float(value))
    if elem == "float":
        return wire.float_field(number, float(value))
    if elem == "bool":
        return wire.varint_field(number, 1 if value else 0)
    return wire.varint_field(number, int(value))
