"""Protobuf request bodies to the JSON dicts the rest of kubelite works with.

`decode_object` reads what a client sends with
`Content-Type: application/vnd.kubernetes.protobuf`: the magic `k8s\\x00`, then a
runtime.Unknown {typeMeta {apiVersion = 1, kind = 2} = 1, raw = 2,
contentEncoding = 3, contentType = 4} whose raw bytes are the object's own message.

The result is the dict Go would produce by unmarshalling the message into the API
struct and marshalling that struct to JSON, so a protobuf create and a JSON create store
the same object:

- Go's protobuf writer sends every non-pointer scalar, even when unset (kubectl sends
  `generateName: ""`, `generation: 0`). A zero scalar is kept only where Go's JSON would
  keep it: pointer fields (`replicas: 0` and `automountServiceAccountToken: false` mean
  something) and fields without omitempty. Everything else at zero is left out.
- Non-pointer structs are always written in JSON (`resources: {}`), so an empty message
  stays `{}`; a zero Time is left out (Go writes null or, with omitzero, nothing).
- []byte becomes base64, Quantity its string, IntOrString a number or a string, Time
  RFC 3339, RawExtension and FieldsV1 their JSON; inline structs (a Volume's
  VolumeSource, a Probe's handler) merge into the parent object.

Field numbers the table does not know are skipped and, if the caller passes a list,
reported there as `path: field N`, so the server can warn as it does for unknown JSON
fields. Malformed input raises `DecodeError` (a ValueError): the caller answers 400.
"""

from __future__ import annotations

import base64
from typing import Any

from kubelite.api import schemas
from kubelite.api.protobuf import fields, wellknown, wire
from kubelite.api.protobuf.fields import Field
from kubelite.api.protobuf.wire import DecodeError

MAGIC = b"k8s\x00"

Obj = dict[str, Any]


def decode_object(body: bytes, unknown: list[str] | None = None) -> Obj:
    """The JSON dict of a whole protobuf body (magic + runtime.Unknown envelope), with
    apiVersion and kind from the envelope."""
    if not body.startswith(MAGIC):
        raise DecodeError("protobuf body does not start with the k8s\\x00 magic")
    api_version = kind = encoding = ""
    raw = b""
    for number, wire_type, value in wire.iter_fields(body[len(MAGIC):]):
        if not isinstance(value, bytes):
            continue  # the envelope has only length-delimited fields
        if number == 1:
            for n, wt, v in wire.iter_fields(value):
                if wt == wire.BYTES and isinstance(v, bytes) and n in (1, 2):
                    text = v.decode("utf-8", "replace")
                    api_version, kind = (text, kind) if n == 1 else (api_version, text)
        elif number == 2:
            raw = value
        elif number == 3:
            encoding = value.decode("utf-8", "replace")
    if encoding:
        raise DecodeError(f"protobuf content encoding {encoding!r} is not supported")
    if not kind or not api_version:
        raise DecodeError("protobuf body has no apiVersion or kind")
    definition = fields.definition_for(api_version, kind)
    if definition is None:
        raise DecodeError(f"no protobuf decoding for {api_version} {kind}")
    obj: Obj = {"apiVersion": api_version, "kind": kind}
    obj.update(decode_message(definition, raw, unknown))
    return obj


def decode_message(definition: str, data: bytes, unknown: list[str] | None = None,
                   path: str = "") -> Obj:
    """The JSON dict of one message of the named definition (io.k8s.api.core.v1.Pod)."""
    message = fields.message(definition)
    out: Obj = {}
    inline: list[Obj] = []
    for number, wire_type, value in wire.iter_fields(data):
        f = message.get(number)
        if f is None:
            if unknown is not None:
                unknown.append(f"{path or definition}: field {number}")
            continue
        where = f"{path}.{f.name}" if path else f.name
        if f.map_key is not None:
            key, item = _map_entry(f, _bytes(f, wire_type, value), unknown, where)
            out.setdefault(f.name, {})[key] = item
        elif f.repeated and f.is_message:
            index = len(out.get(f.name, ()))
            item = _message(f.elem, _bytes(f, wire_type, value), unknown, f"{where}[{index}]")
            out.setdefault(f.name, []).append(item)
        elif f.repeated or f.wrapped:
            out.setdefault(f.name, []).extend(_scalars(f, wire_type, value))
        elif f.inline:
            inline.append(decode_message(f.elem, _bytes(f, wire_type, value), unknown, path))
        elif f.is_message:
            item = _message(f.elem, _bytes(f, wire_type, value), unknown, where)
            if item is None or (f.omitzero and not item):
                out.pop(f.name, None)  # Go's zero Time: null in JSON, so absent here
            else:
                out[f.name] = item
        else:
            item = _scalar(f, wire_type, value)
            if f.pointer or f.keep or item:
                out[f.name] = item
            else:
                out.pop(f.name, None)  # a later zero overrides an earlier value
    for extra in inline:
        out.update(extra)
    return out


def _bytes(f: Field, wire_type: int, value: wire.FieldValue) -> bytes:
    if wire_type != wire.BYTES or not isinstance(value, bytes):
        raise DecodeError(f"field {f.name} ({f.number}): expected a length-delimited value")
    return value


def _message(definition: str, data: bytes, unknown: list[str] | None, path: str) -> Any:
    """A message value in its JSON form; None for a zero Time."""
    if definition == schemas.TIME or definition == schemas.MICRO_TIME:
        return wellknown.decode_time(data, micro=definition == schemas.MICRO_TIME)
    if definition == schemas.QUANTITY:
        return wellknown.decode_quantity(data)
    if definition == schemas.INT_OR_STRING:
        return wellknown.decode_int_or_string(data)
    if definition == schemas.DURATION:
        return wellknown.decode_duration(data)
    if definition == schemas.RAW_EXTENSION or definition == schemas.FIELDS_V1:
        return wellknown.decode_raw_json(data, lambda raw: decode_object(raw, unknown))
    return decode_message(definition, data, unknown, path)


def _map_entry(f: Field, data: bytes, unknown: list[str] | None, path: str) -> tuple[str, Any]:
    key: Any = ""
    item: Any = None
    for number, wire_type, value in wire.iter_fields(data):
        if number == 1:
            key = _scalar(Field(1, "key", f.map_key or "string"), wire_type, value)
        elif number == 2:
            if f.wrapped:  # map[string]ExtraValue: the value is {repeated string items = 1}
                item = _unwrap(f, _bytes(f, wire_type, value))
            elif f.is_message:
                item = _message(f.elem, _bytes(f, wire_type, value), unknown, f"{path}[{key}]")
            else:
                item = _scalar(f, wire_type, value)
    if item is None:  # an absent value is the value type's zero
        item = [] if f.wrapped else {} if f.is_message else _zero(f.elem)
    return str(key), item


def _zero(elem: str) -> Any:
    return {"bool": False, "string": "", "bytes": "", "double": 0.0, "float": 0.0}.get(elem, 0)


def _scalars(f: Field, wire_type: int, value: wire.FieldValue) -> list[Any]:
    """The items of one occurrence of a repeated scalar: one value, or a packed run,
    or (a named slice like Verbs) a wrapper message whose field 1 repeats them."""
    if f.wrapped:
        return _unwrap(f, _bytes(f, wire_type, value))
    if wire_type == wire.BYTES and f.elem not in ("string", "bytes"):
        assert isinstance(value, bytes)
        if f.elem in ("double", "float"):
            size = 8 if f.elem == "double" else 4
            return [_scalar(f, wire.FIXED64 if size == 8 else wire.FIXED32,
                            int.from_bytes(value[i:i + size], "little"))
                    for i in range(0, len(value) - size + 1, size)]
        return [_scalar(f, wire.VARINT, v) for v in wire.iter_packed_varints(value)]
    return [_scalar(f, wire_type, value)]


def _unwrap(f: Field, data: bytes) -> list[Any]:
    items = Field(1, f.name, f.elem, repeated=True)
    return [v for n, wt, raw in wire.iter_fields(data) if n == 1 for v in _scalars(items, wt, raw)]


def _scalar(f: Field, wire_type: int, value: wire.FieldValue) -> Any:
    elem = f.elem
    if elem in ("string", "bytes"):
        if not isinstance(value, bytes) or wire_type != wire.BYTES:
            raise DecodeError(f"field {f.name} ({f.number}): expected {elem}")
        if elem == "bytes":
            return base64.b64encode(value).decode("ascii")
        return value.decode("utf-8", "replace")  # Go's JSON also replaces invalid UTF-8
    if not isinstance(value, int):
        raise DecodeError(f"field {f.name} ({f.number}): expected a number")
    if elem == "double":
        return wire.double(value) if wire_type == wire.FIXED64 else _bad(f)
    if elem == "float":
        return wire.single(value) if wire_type == wire.FIXED32 else _bad(f)
    if wire_type != wire.VARINT:
        return _bad(f)
    if elem == "bool":
        return value != 0
    if elem == "int32":
        return wire.signed(value, 32)
    if elem == "int64":
        return wire.signed(value, 64)
    return value & (0xFFFFFFFF if elem == "uint32" else 0xFFFFFFFFFFFFFFFF)


def _bad(f: Field) -> Any:
    raise DecodeError(f"field {f.name} ({f.number}): wrong wire type for {f.elem}")
