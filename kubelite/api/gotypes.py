"""Request bodies of built-in kinds, decoded as strictly as kube-apiserver's Go decoder.

kube-apiserver unmarshals a body into the kind's Go struct (sigs.k8s.io/json, a fork of
encoding/json), so a value of the wrong JSON type never gets past decoding: the client
gets a 400 such as `json: cannot unmarshal array into Go struct field ConfigMap.data of
type map[string]string`. kubelite keeps objects as plain JSON, so it replays that
decoding against the pinned schemas instead: each definition is compiled once into a
tree of `GoType`s (struct, map, slice, string, int32/int64, float64, bool, []byte, and
the types with their own UnmarshalJSON: Quantity, IntOrString, Time, free-form
RawExtension/JSON) and an object is walked along it.

What is kept from Go:
- The message: `json: cannot unmarshal <what> into Go struct field <Struct>.<path> of
  type <type>`, where <Struct> is the innermost struct holding the field and <path>
  the JSON field names from the root, without map keys or list indices. A number that
  does not fit an integer field is named with its text (`number 1.5`).
- Which error wins: a plain type mismatch is remembered and decoding goes on (the first
  one is reported), while an error from a type's own UnmarshalJSON (Quantity,
  IntOrString, Time) stops decoding at once.
- []byte is base64 (`illegal base64 data at input byte N`, with Go's byte offset), or
  a JSON array of bytes, which Go re-encodes as base64.
- null is always accepted and leaves the Go zero value: a struct field set to null is
  dropped, a null map value or list item becomes its element's zero value ("" for a
  string, {} for a struct), so strategies never meet a None where Go has a value.

What is not: Go names its named string and map types (`v1.Protocol`, `v1.ResourceList`);
the schemas only say `string` and `map[string]resource.Quantity`, which is what these
messages print. Time strings and Quantity normalisation are left to the code that
already owns them (timefields, the strategies); only Quantity's syntax is checked here.
"""

from __future__ import annotations

import binascii
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubelite.api import schemas
from kubelite.api.schemas import Schema
from kubelite.machinery import quantity
from kubelite.machinery.go_base64 import base64_error
from kubelite.machinery.go_json import json_value_name, unmarshal_type_error

# GoType.kind values (plain ints: compared on every value of every write).
STRUCT, MAP, SLICE, STRING, INT, FLOAT, BOOL, BYTES, QUANTITY, INT_OR_STRING, TIME, ANY = \
    range(12)

_FREE_FORM = frozenset({
    schemas.RAW_EXTENSION, schemas.FIELDS_V1, schemas.UNKNOWN,
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
})
_INT_LIMITS = {32: 2**31, 64: 2**63}


@dataclass(slots=True, eq=False)
class GoType:
    kind: int
    name: str  # reflect.Type.String(): "v1.Container", "map[string]string", "int32"
    struct: str = ""  # reflect.Type.Name() of a struct: "Container"
    fields: dict[str, GoType] = field(default_factory=dict)
    elem: GoType | None = None  # of a map or slice
    bits: int = 64  # of an int
    # Python types a value may have to be taken as is, without a call: the fast path
    # for the leaves that make up most of an object.
    ok: frozenset[type] = frozenset()


class DecodeError(ValueError):
    """A body Go would not decode; str() is Go's error text."""


_SCALARS = {
    STRING: GoType(STRING, "string", ok=frozenset({str})),
    BOOL: GoType(BOOL, "bool", ok=frozenset({bool})),
    FLOAT: GoType(FLOAT, "float64", ok=frozenset({int, float})),
    BYTES: GoType(BYTES, "[]uint8"),
    QUANTITY: GoType(QUANTITY, "resource.Quantity"),
    INT_OR_STRING: GoType(INT_OR_STRING, "intstr.IntOrString", ok=frozenset({str})),
    TIME: GoType(TIME, "v1.Time", ok=frozenset({str})),
    ANY: GoType(ANY, "interface {}", ok=frozenset({dict, list, str, int, float, bool})),
}
_INT32 = GoType(INT, "int32", bits=32)
_INT64 = GoType(INT, "int64", bits=64)


@functools.cache
def definition_type(name: str) -> GoType:
    """The Go type of a definition (`io.k8s.api.core.v1.Pod`), compiled once. Recursive
    definitions (JSONSchemaProps) are fine: a struct is cached before its fields."""
    return _compile_definition(name, {})


def _compile_definition(name: str, seen: dict[str, GoType]) -> GoType:
    if name in seen:
        return seen[name]
    if name == schemas.QUANTITY:
        return _SCALARS[QUANTITY]
    if name == schemas.INT_OR_STRING:
        return _SCALARS[INT_OR_STRING]
    if name in (schemas.TIME, schemas.MICRO_TIME):
        return _SCALARS[TIME]
    schema = schemas.definitions()[name]
    props = schema.get("properties")
    if name in _FREE_FORM or not props:
        return _compile(schema, seen) if schema.get("type") else _SCALARS[ANY]
    parts = name.split(".")
    node = GoType(STRUCT, f"{parts[-2]}.{parts[-1]}", struct=parts[-1])
    seen[name] = node
    node.fields = {key: _compile(sub, seen) for key, sub in props.items()}
    return node


def _compile(schema: Schema, seen: dict[str, GoType]) -> GoType:
    ref = schemas.ref_name(schema)
    if ref is not None:
        return _compile_definition(ref, seen)
    types = schemas.types_of(schema)
    fmt = schema.get("format")
    if "array" in types:
        items = schema.get("items")
        elem = _compile(items, seen) if isinstance(items, dict) else _SCALARS[ANY]
        return GoType(SLICE, "[]" + elem.name, elem=elem)
    if "object" in types:
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            elem = _compile(extra, seen)
            return GoType(MAP, "map[string]" + elem.name, elem=elem)
        return _SCALARS[ANY]
    if "string" in types:
        if fmt == "byte":
            return _SCALARS[BYTES]
        if fmt == "int-or-string":
            return _SCALARS[INT_OR_STRING]
        return _SCALARS[STRING]
    if "integer" in types:
        return _INT32 if fmt == "int32" else _INT64
    if "number" in types:
        return _SCALARS[FLOAT]
    if "boolean" in types:
        return _SCALARS[BOOL]
    return _SCALARS[ANY]


def object_meta() -> GoType:
    return definition_type(schemas.OBJECT_META)


# --- decoding ---------------------------------------------------------------------

def check(t: GoType, value: Any) -> Any:
    """Decode `value` as Go would into `t`; raises DecodeError with Go's message.
    Nulls and byte arrays are rewritten in place as Go would re-encode them; the
    (possibly new) value is returned for the caller to store."""
    state = _State()
    value = _walk(t, value, "", "", state)
    if state.first is not None:
        raise DecodeError(state.first)
    return value


class _State:
    __slots__ = ("first",)

    def __init__(self) -> None:
        self.first: str | None = None  # the first remembered type mismatch

    def save(self, message: str) -> None:
        if self.first is None:
            self.first = message


class _Abort(Exception):
    pass


def _number_text(value: int | float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _zero(t: GoType) -> Any:
    """What a null becomes as a map value or list item (None: it stays null)."""
    kind = t.kind
    if kind == STRUCT:
        return {}
    if kind == STRING:
        return ""
    if kind in (INT, FLOAT, INT_OR_STRING):
        return 0
    if kind == BOOL:
        return False
    if kind == QUANTITY:
        return "0"
    return None


def _walk(t: GoType, value: Any, struct: str, path: str, state: _State) -> Any:
    kind = t.kind
    if kind == STRUCT:
        if type(value) is not dict:
            state.save(unmarshal_type_error(json_value_name(value), t.name, struct, path))
            return value
        fields = t.fields
        nulls = None
        for key, child in value.items():
            sub = fields.get(key)
            # Unknown fields are fieldValidation's business.
            if sub is None or type(child) in sub.ok:
                continue
            if child is None:
                nulls = [key] if nulls is None else nulls + [key]
                continue
            new = _walk(sub, child, t.struct, f"{path}.{key}" if path else key, state)
            if new is not child:
                value[key] = new
        if nulls:
            for key in nulls:
                del value[key]
        return value
    if kind == STRING:
        if type(value) is not str:
            state.save(unmarshal_type_error(json_value_name(value), "string", struct, path))
        return value
    if kind == MAP or kind == SLICE:
        entries: Iterable[tuple[Any, Any]]
        if kind == MAP:
            if type(value) is not dict:
                state.save(unmarshal_type_error(json_value_name(value), t.name, struct, path))
                return value
            entries = value.items()
        else:
            if type(value) is not list:
                state.save(unmarshal_type_error(json_value_name(value), t.name, struct, path))
                return value
            entries = enumerate(value)
        elem = t.elem
        if elem is None or elem.kind == ANY:
            return value
        ok = elem.ok
        for key, child in entries:
            if type(child) in ok:
                continue
            if child is None:
                zero = _zero(elem)
                if zero is not None:
                    value[key] = zero
                continue
            new = _walk(elem, child, struct, path, state)
            if new is not child:
                value[key] = new
        return value
    if kind == INT:
        if type(value) is int:
            limit = _INT_LIMITS[t.bits]
            if not -limit <= value < limit:
                state.save(unmarshal_type_error(f"number {value}", t.name, struct, path))
        elif type(value) is float:
            state.save(unmarshal_type_error(f"number {_number_text(value)}", t.name, struct, path))
        else:
            state.save(unmarshal_type_error(json_value_name(value), t.name, struct, path))
        return value
    if kind == BOOL:
        if type(value) is not bool:
            state.save(unmarshal_type_error(json_value_name(value), "bool", struct, path))
        return value
    if kind == FLOAT:
        if type(value) is not int and type(value) is not float:
            state.save(unmarshal_type_error(json_value_name(value), "float64", struct, path))
        return value
    if kind == BYTES:
        return _bytes(value, struct, path, state)
    if kind == QUANTITY:
        _quantity(value)
        return value
    if kind == INT_OR_STRING:
        if type(value) is str:
            return value
        if type(value) is int and -2**31 <= value < 2**31:
            return value
        what = f"number {_number_text(value)}" if type(value) in (int, float) else json_value_name(value)
        raise DecodeError(unmarshal_type_error(what, "int32", struct, path))
    if kind == TIME:
        if type(value) is not str:
            raise DecodeError(unmarshal_type_error(json_value_name(value), "string", struct, path))
        return value
    return value  # ANY


def _quantity(value: Any) -> None:
    """resource.Quantity.UnmarshalJSON: the raw JSON text (unquoted) must parse."""
    if isinstance(value, (list, dict, bool)):
        raise DecodeError(quantity.ERR_FORMAT_WRONG)
    error = _quantity_error(value) if type(value) is str else _number_quantity_error(value)
    if error is not None:
        raise DecodeError(error)


@functools.lru_cache(maxsize=4096)
def _quantity_error(text: str) -> str | None:
    """Cached: objects repeat the same few quantities ("100m", "64Mi") on every write."""
    return _number_quantity_error(text)


def _number_quantity_error(value: Any) -> str | None:
    try:
        quantity.parse_json(value)
    except ValueError as exc:
        return str(exc)
    return None


def _bytes(value: Any, struct: str, path: str, state: _State) -> Any:
    if type(value) is str:
        error = base64_error(value.encode())
        if error is not None:
            state.save(error)
        return value
    if type(value) is list:
        # Go decodes an array of numbers into []byte, and encodes it back as base64.
        ok = True
        for item in value:
            if item is None:
                continue
            if type(item) is not int or not 0 <= item < 256:
                what = f"number {_number_text(item)}" if type(item) in (int, float) \
                    else json_value_name(item)
                state.save(unmarshal_type_error(what, "uint8", struct, path))
                ok = False
        if ok:
            return binascii.b2a_base64(bytes(b or 0 for b in value), newline=False).decode()
        return value
    state.save(unmarshal_type_error(json_value_name(value), "[]uint8", struct, path))
    return value
