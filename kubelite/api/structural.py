"""Walks of an object (a plain dict) against its schema: unknown fields, pruning,
defaulting and validation.

The schema is either a built-in kind's definition (`schemas.schema_for(gvk)`, with
`$ref`s that are followed as the walk goes) or a CRD's `openAPIV3Schema` (structural:
every node says its type, no refs). The two differ in one place: a built-in object
schema with neither properties nor additionalProperties (RawExtension, FieldsV1, JSON)
holds arbitrary content, while in a structural schema such a node holds nothing and
everything under it is unknown unless `x-kubernetes-preserve-unknown-fields` says so.

Upstream counterparts and what is kept from them:
- `unknown_fields`: the strict decoder's paths (`spec.containers[0].foo`, no leading
  dot, list indices in brackets) in document order, as in
  `strict decoding error: unknown field "spec.containers[0].foo"`.
- `prune`: apiextensions-apiserver's pruning (schema/pruning/algorithm.go):
  apiVersion, kind and metadata survive at the root and in embedded resources.
- `apply_defaults`: structural defaulting (schema/defaulting/algorithm.go): a missing
  field, or a null one that is not nullable, takes its `default`; a non-nullable null
  without a default is dropped first, as PruneNonNullableNullsWithoutDefaults does.
- `validate`: kube-openapi's validator as apiextensions-apiserver reports it
  (kubeOpenAPIResultToFieldErrors): field paths, reasons and messages such as
  `Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
"""

from __future__ import annotations

import copy
import functools
import math
import re
from collections.abc import Callable
from typing import Any

import orjson

from kubelite.api import schemas
from kubelite.api.schemas import Schema, resolve
from kubelite.machinery.errors import Cause

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_TYPE_META = ("apiVersion", "kind")


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


@functools.cache
def _builtin_ids() -> frozenset[int]:
    return frozenset(id(s) for s in schemas.definitions().values())


def _is_builtin(schema: Schema) -> bool:
    return "$ref" in schema or id(schema) in _builtin_ids()


def _object_meta() -> Schema:
    return schemas.definitions()[OBJECT_META]


# --- unknown fields ------------------------------------------------------------------

def unknown_fields(obj: Any, schema: Schema) -> list[str]:
    """Paths of every field in `obj` its schema does not know, in document order.

    Honors additionalProperties (maps), x-kubernetes-preserve-unknown-fields,
    x-kubernetes-embedded-resource (checked as a resource: its metadata against
    ObjectMeta) and free-form built-in types. Values of the wrong type are left to
    validation: a walk does not descend where the shapes disagree.
    """
    out: list[str] = []
    _unknown(obj, schema, "", True, _is_builtin(schema), out)
    return out


def _unknown(value: Any, schema: Schema, path: str, root: bool, builtin: bool,
             out: list[str]) -> None:
    s = resolve(schema)
    if isinstance(value, list):
        items = s.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _unknown(item, items, _index(path, i), False, builtin, out)
        return
    if not isinstance(value, dict):
        return
    resource = root or s.get("x-kubernetes-embedded-resource") is True
    props: dict[str, Schema] = s.get("properties") or {}
    extra = s.get("additionalProperties")
    preserve = s.get("x-kubernetes-preserve-unknown-fields") is True
    if builtin and not props and extra is None:
        return  # RawExtension, FieldsV1, JSON: free-form by design
    if not builtin and not props and extra is None and not preserve and \
            "object" not in schemas.types_of(s) and not resource:
        return  # untyped node (int-or-string, value validations only): nothing to say
    for key, child in value.items():
        sub = _child(path, key)
        if resource and key in _TYPE_META:
            continue
        if resource and key == "metadata":
            _unknown(child, props["metadata"] if builtin and "metadata" in props
                     else _object_meta(), sub, False, True, out)
        elif key in props:
            _unknown(child, props[key], sub, False, builtin, out)
        elif isinstance(extra, dict):
            _unknown(child, extra, sub, False, builtin, out)
        elif not preserve and extra is not True:
            out.append(sub)


# --- pruning -------------------------------------------------------------------------

def prune(obj: Any, schema: Schema, *, resource_root: bool = True) -> list[str]:
    """Drop, in place, every field a structural schema does not specify; returns the
    dropped paths (what fieldValidation=Warn/Strict reports for custom resources).
    With `resource_root` (a whole object), apiVersion, kind and metadata at the root
    are kept; without it (a default value inside a schema), the root is plain data."""
    out: list[str] = []
    _prune(obj, schema, "", resource_root, out)
    return out


def _prune(value: Any, schema: Schema | None, path: str, root: bool, out: list[str]) -> None:
    s = resolve(schema) if schema is not None else {}
    if isinstance(value, list):
        items = s.get("items")
        for i, item in enumerate(value):
            _prune(item, items if isinstance(items, dict) else None, _index(path, i), False, out)
        return
    if not isinstance(value, dict):
        return
    resource = root or s.get("x-kubernetes-embedded-resource") is True
    props: dict[str, Schema] = s.get("properties") or {}
    extra = s.get("additionalProperties")
    preserve = s.get("x-kubernetes-preserve-unknown-fields") is True
    for key in list(value):
        sub = _child(path, key)
        if resource and (key in _TYPE_META or key == "metadata"):
            continue  # ObjectMeta is coerced on its own, never pruned by the CRD schema
        if key in props:
            _prune(value[key], props[key], sub, False, out)
        elif isinstance(extra, dict):
            _prune(value[key], extra, sub, False, out)
        elif not preserve and extra is not True:
            out.append(sub)
            del value[key]


# --- defaulting ----------------------------------------------------------------------

def apply_defaults(obj: Any, schema: Schema) -> None:
    """Set, in place, every `default` of a structural schema where the field is missing
    (or null without `nullable`); defaults are applied inside defaults too."""
    _default(obj, schema)


def _non_nullable_null(value: Any, schema: Schema) -> bool:
    return value is None and not schema.get("nullable")


def _default(value: Any, schema: Schema) -> None:
    s = resolve(schema)
    if isinstance(value, dict):
        props: dict[str, Schema] = s.get("properties") or {}
        extra = s.get("additionalProperties")
        for key, raw in props.items():
            prop = resolve(raw)
            if key not in value:
                if "default" in prop:
                    value[key] = copy.deepcopy(prop["default"])
            elif _non_nullable_null(value[key], prop):
                if "default" in prop:
                    value[key] = copy.deepcopy(prop["default"])
                else:
                    del value[key]  # a null the schema neither allows nor can replace
        for key in list(value):
            if key in props:
                _default(value[key], props[key])
            elif isinstance(extra, dict):
                sub = resolve(extra)
                if _non_nullable_null(value[key], sub):
                    if "default" not in sub:
                        del value[key]
                        continue
                    value[key] = copy.deepcopy(sub["default"])
                _default(value[key], sub)
    elif isinstance(value, list):
        items = s.get("items")
        if not isinstance(items, dict):
            return
        sub = resolve(items)
        for i, item in enumerate(value):
            if _non_nullable_null(item, sub) and "default" in sub:
                value[i] = copy.deepcopy(sub["default"])
            _default(value[i], sub)


# --- validation ----------------------------------------------------------------------

_OMIT = object()


def _go_number(n: float | int) -> str:
    """Go's %v of a float64: integral values without a fraction."""
    if isinstance(n, float) and n.is_integer() and abs(n) < 1e21:
        return str(int(n))
    return repr(n) if isinstance(n, float) else str(n)


def _go_value(value: Any) -> str:
    """How field.Error prints a bad value: strings quoted, scalars bare, else JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    if isinstance(value, (int, float)):
        return _go_number(value)
    if value is None:
        return "null"
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _cause(reason: str, title: str, path: str, value: Any = _OMIT, detail: str = "") -> Cause:
    message = title if value is _OMIT else f"{title}: {_go_value(value)}"
    if detail:
        message += f": {detail}"
    return Cause(reason, message, path)


def _invalid(path: str, value: Any, detail: str) -> Cause:
    return _cause("FieldValueInvalid", "Invalid value", path, value, detail)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _types(s: Schema) -> list[str]:
    if s.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]
    t = s.get("type")
    if t is None:
        return []
    return [t] if isinstance(t, str) else [x for x in t if x != "null"]


def _type_ok(actual: str, allowed: list[str]) -> bool:
    return actual in allowed or (actual == "integer" and "number" in allowed)


_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def validate(obj: Any, schema: Schema, path: str = "") -> list[Cause]:
    """Check `obj` against an OpenAPI v3 schema; one Cause per violation, with upstream's
    field path, reason and message. `path` prefixes every field (e.g. when validating
    a sub-object)."""
    out: list[Cause] = []
    _validate(obj, schema, path, out)
    return out


def _validate(value: Any, schema: Schema, path: str, out: list[Cause]) -> None:
    s = resolve(schema)
    name = path or "."  # how kube-openapi names the root in its messages
    types = _types(s)
    actual = _type_name(value)
    if value is None:
        if s.get("nullable") or not types:
            return
        out.append(_cause("FieldValueTypeInvalid", "Invalid value", path, "null",
                          f"{name} in body must be of type {','.join(types)}: \"null\""))
        return
    if types and not _type_ok(actual, types):
        out.append(_cause("FieldValueTypeInvalid", "Invalid value", path, actual,
                          f"{name} in body must be of type {','.join(types)}: \"{actual}\""))
        return  # the other checks assume the type
    if "enum" in s and value not in s["enum"]:
        allowed = ", ".join(orjson.dumps(v if isinstance(v, str) else orjson.dumps(v).decode()).decode()
                            for v in s["enum"])
        out.append(_cause("FieldValueNotSupported", "Unsupported value", path, value,
                          f"supported values: {allowed}"))
    if isinstance(value, str):
        _validate_string(value, s, path, name, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _validate_number(value, s, path, name, out)
    elif isinstance(value, list):
        _validate_array(value, s, path, name, out)
    elif isinstance(value, dict):
        _validate_object(value, s, path, name, out)
    _validate_combinators(value, s, path, name, out)


def _validate_string(value: str, s: Schema, path: str, name: str, out: list[Cause]) -> None:
    if "maxLength" in s and len(value) > s["maxLength"]:
        limit = int(s["maxLength"])
        out.append(_cause("FieldValueTooLong", "Too long", path,
                          detail=f"may not be more than {limit} byte{'' if limit == 1 else 's'}"))
    if "minLength" in s and len(value) < s["minLength"]:
        out.append(_invalid(path, value, f"{name} in body should be at least "
                                         f"{int(s['minLength'])} chars long"))
    pattern = s.get("pattern")
    if pattern is not None and _search(pattern)(value) is None:
        out.append(_invalid(path, value, f"{name} in body should match '{pattern}'"))


@functools.lru_cache(maxsize=512)
def _search(pattern: str) -> Callable[[str], Any]:
    return re.compile(pattern).search


def _validate_number(value: float, s: Schema, path: str, name: str, out: list[Cause]) -> None:
    fmt = s.get("format")
    if fmt in _INT_RANGES and isinstance(value, int):
        low, high = _INT_RANGES[fmt]
        if not low <= value <= high:
            out.append(_invalid(path, value, f"{name} in body must be of type {fmt}: "
                                             f"\"{_go_number(value)}\""))
    if "multipleOf" in s and s["multipleOf"]:
        ratio = value / s["multipleOf"]
        if not math.isclose(ratio, round(ratio), abs_tol=1e-9):
            out.append(_invalid(path, value, f"{name} in body should be a multiple of "
                                             f"{_go_number(s['multipleOf'])}"))
    if "maximum" in s:
        high, exclusive = s["maximum"], bool(s.get("exclusiveMaximum"))
        if value > high or (exclusive and value == high):
            word = "less than" if exclusive else "less than or equal to"
            out.append(_invalid(path, value, f"{name} in body should be {word} {_go_number(high)}"))
    if "minimum" in s:
        low, exclusive = s["minimum"], bool(s.get("exclusiveMinimum"))
        if value < low or (exclusive and value == low):
            word = "greater than" if exclusive else "greater than or equal to"
            out.append(_invalid(path, value, f"{name} in body should be {word} {_go_number(low)}"))


def _validate_array(value: list[Any], s: Schema, path: str, name: str, out: list[Cause]) -> None:
    if "maxItems" in s and len(value) > s["maxItems"]:
        limit = int(s["maxItems"])
        out.append(_cause("FieldValueTooMany", "Too many", path, len(value),
                          f"must have at most {limit} item{'' if limit == 1 else 's'}"))
    if "minItems" in s and len(value) < s["minItems"]:
        out.append(_invalid(path, len(value), f"{name} in body should have at least "
                                              f"{int(s['minItems'])} items"))
    list_type = s.get("x-kubernetes-list-type")
    if s.get("uniqueItems") and list_type != "set" and _first_duplicate(value) is not None:
        out.append(_invalid(path, _OMIT_AS_EMPTY, f"{name} in body shouldn't contain duplicates"))
    if list_type == "set":
        seen: set[bytes] = set()
        for i, item in enumerate(value):
            key = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
            if key in seen:
                out.append(_cause("FieldValueDuplicate", "Duplicate value", _index(path, i), item))
            seen.add(key)
    elif list_type == "map":
        keys = s.get("x-kubernetes-list-map-keys") or []
        seen = set()
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            ident = {k: item[k] for k in keys if k in item}
            key = orjson.dumps(ident, option=orjson.OPT_SORT_KEYS)
            if key in seen:
                out.append(_cause("FieldValueDuplicate", "Duplicate value", _index(path, i), ident))
            seen.add(key)
    items = s.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _validate(item, items, _index(path, i), out)


_OMIT_AS_EMPTY = ""  # kube-openapi reports no value for duplicates; the error shows ""


def _first_duplicate(value: list[Any]) -> int | None:
    seen: set[bytes] = set()
    for i, item in enumerate(value):
        key = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
        if key in seen:
            return i
        seen.add(key)
    return None


def _validate_object(value: dict[str, Any], s: Schema, path: str, name: str,
                     out: list[Cause]) -> None:
    for key in s.get("required") or ():
        if key not in value:
            out.append(_cause("FieldValueRequired", "Required value", _child(path, key)))
    if "maxProperties" in s and len(value) > s["maxProperties"]:
        limit = int(s["maxProperties"])
        out.append(_cause("FieldValueTooMany", "Too many", path, len(value),
                          f"must have at most {limit} item{'' if limit == 1 else 's'}"))
    if "minProperties" in s and len(value) < s["minProperties"]:
        out.append(_invalid(path, len(value), f"{name} in body should have at least "
                                              f"{int(s['minProperties'])} properties"))
    props: dict[str, Schema] = s.get("properties") or {}
    extra = s.get("additionalProperties")
    for key, child in value.items():
        if key in props:
            _validate(child, props[key], _child(path, key), out)
        elif isinstance(extra, dict):
            _validate(child, extra, _child(path, key), out)


def _validate_combinators(value: Any, s: Schema, path: str, name: str, out: list[Cause]) -> None:
    for sub in s.get("allOf") or ():
        _validate(value, sub, path, out)
    if s.get("anyOf") and not any(not validate(value, sub, path) for sub in s["anyOf"]):
        out.append(_invalid(path, value, f"{name} in body must validate at least one schema (anyOf)"))
    if s.get("oneOf"):
        matches = sum(1 for sub in s["oneOf"] if not validate(value, sub, path))
        if matches != 1:
            out.append(_invalid(path, value, f"{name} in body must validate one and only one "
                                             "schema (oneOf)"))
    if isinstance(s.get("not"), dict) and not validate(value, s["not"], path):
        out.append(_invalid(path, value, f"{name} in body must not validate the schema (not)"))
