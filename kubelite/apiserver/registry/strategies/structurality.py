"""Is a CRD schema structural, and are its defaults sound? (apiextensions-apiserver
pkg/apiserver/schema/validation.go ValidateStructural, complete.go, and
schema/defaulting/validation.go ValidateDefaults.)

A structural schema says what every field is outside of value validations: each node
has a `type` (unless x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields
stands in for it), arrays have `items`, the root is an object whose `metadata` may only
restrict name and generateName, and inside allOf/anyOf/oneOf/not only value
validations appear (no type, description, default, nullable, extensions or
additionalProperties), and every field a root-level junctor mentions is also a real
property. Upstream sorts these errors by their text; so does `structural_causes`.

`default_causes` runs only on a structural schema: a default must survive pruning
unchanged and must validate against its own schema (kubelite.api.structural's pruning
and validation, the same code that serves custom resources).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from kubelite.api import structural
from kubelite.machinery.errors import Cause

from .causes import forbidden, invalid, required
from .jsonvalues import as_object, as_str

Schema = dict[str, Any]

_ROOT, _ITEM, _FIELD = "root", "item", "field"
_EMPTY_TYPE = {_ROOT: "must not be empty at the root",
               _ITEM: "must not be empty for specified array items",
               _FIELD: "must not be empty for specified object fields"}
_JUNCTORS = ("anyOf", "allOf", "oneOf")
_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]
# Keywords of a structural node besides type and default; metadata at the root may hold
# nothing but name/generateName properties.
_NODE_KEYWORDS = (
    "title", "description", "nullable", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type",
    "x-kubernetes-validations", "format", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "multipleOf", "enum", "maxProperties", "minProperties", "required",
    "allOf", "oneOf", "anyOf", "not", "items", "additionalProperties")


def structural_causes(schema: Schema, path: str) -> list[Cause]:
    causes = _invariants(schema, _ROOT, path) + _completeness(schema, path)
    return sorted(causes, key=lambda c: f"{c.field}: {c.message}")


def _flag(schema: Schema, key: str) -> bool:
    return schema.get(key) is True


def _invariants(s: Schema, level: str, path: str) -> list[Cause]:
    causes: list[Cause] = []
    kind = as_str(s.get("type"))
    items = s.get("items")
    if kind == "array" and not isinstance(items, dict):
        causes.append(required(path + ".items", "must be specified"))
    if isinstance(items, dict):
        causes.extend(_invariants(items, _ITEM, path + ".items"))
    props = as_object(s.get("properties"))
    for name, prop in props.items():
        if isinstance(prop, dict):
            causes.extend(_invariants(prop, _FIELD, f"{path}.properties[{name}]"))
    extra = s.get("additionalProperties")
    if extra is not None and "additionalProperties" in s:
        if level == _ROOT:
            causes.append(forbidden(path + ".additionalProperties", "must not be used at the root"))
        if isinstance(extra, dict):
            causes.extend(_invariants(extra, _FIELD, path + ".additionalProperties"))
    if _flag(s, "x-kubernetes-int-or-string"):
        if _flag(s, "x-kubernetes-preserve-unknown-fields"):
            causes.append(invalid(path + ".x-kubernetes-preserve-unknown-fields", True,
                                  "must be false if x-kubernetes-int-or-string is true"))
        if _flag(s, "x-kubernetes-embedded-resource"):
            causes.append(invalid(path + ".x-kubernetes-embedded-resource", True,
                                  "must be false if x-kubernetes-int-or-string is true"))
    causes.extend(_value_validation(s, _is_int_or_string_any_of(s),
                                    _is_int_or_string_all_of(s), level, path))
    embedded = _flag(s, "x-kubernetes-embedded-resource")
    if embedded and kind != "object":
        detail = "must be object if x-kubernetes-embedded-resource is true"
        causes.append(invalid(path + ".type", kind, detail) if kind
                      else required(path + ".type", detail))
    elif not kind and not _flag(s, "x-kubernetes-int-or-string") \
            and not _flag(s, "x-kubernetes-preserve-unknown-fields"):
        causes.append(required(path + ".type", _EMPTY_TYPE[level]))
    if embedded and extra is not None and "additionalProperties" in s:
        causes.append(forbidden(path + ".additionalProperties",
                                "must not be used if x-kubernetes-embedded-resource is set"))
    if level == _ROOT and kind and kind != "object":
        causes.append(invalid(path + ".type", kind, "must be object at the root"))
    check_meta = level == _ROOT or embedded
    for name in ("kind", "apiVersion"):
        sub = props.get(name)
        if check_meta and isinstance(sub, dict) and sub.get("type") != "string":
            causes.append(invalid(f"{path}.properties[{name}].type", sub.get("type") or "",
                                  "must be string"))
    metadata = props.get("metadata")
    if isinstance(metadata, dict):
        causes.extend(_metadata(metadata, check_meta, level, f"{path}.properties[metadata]"))
    if embedded and not _flag(s, "x-kubernetes-preserve-unknown-fields") and not props:
        causes.append(required(path + ".properties", "must not be empty if "
                               "x-kubernetes-embedded-resource is true without "
                               "x-kubernetes-preserve-unknown-fields"))
    return causes


def _metadata(s: Schema, check_meta: bool, level: str, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if check_meta and s.get("type") != "object":
        causes.append(invalid(path + ".type", s.get("type") or "", "must be object"))
    if level == _ROOT:
        props = as_object(s.get("properties"))
        names_only = bool(props) and set(props) <= {"name", "generateName"}
        restricts_more = bool(props) and not names_only
        if restricts_more or any(_set(s, key) for key in _NODE_KEYWORDS):
            causes.append(forbidden(path, "must not specify anything other than name and "
                                          "generateName, but metadata is implicitly specified"))
    return causes


def _set(s: Schema, key: str) -> bool:
    value = s.get(key)
    return value is not None and value is not False and value not in ("", [], {})


def _is_int_or_string_any_of(s: Schema) -> bool:
    return s.get("anyOf") == _INT_OR_STRING_ANY_OF


def _is_int_or_string_all_of(s: Schema) -> bool:
    all_of = s.get("allOf")
    return isinstance(all_of, list) and bool(all_of) and isinstance(all_of[0], dict) \
        and all_of[0].get("anyOf") == _INT_OR_STRING_ANY_OF


def _value_validation(v: Schema, skip_any_of: bool, skip_first_all_of_any_of: bool,
                      level: str, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not skip_any_of:
        causes.extend(_nested_each(v, "anyOf", level, path))
    for i, sub in enumerate(_schemas(v.get("allOf"))):
        if sub is not None:
            causes.extend(_nested(sub, skip_first_all_of_any_of and i == 0, level,
                                  f"{path}.allOf[{i}]"))
    causes.extend(_nested_each(v, "oneOf", level, path))
    if isinstance(v.get("not"), dict):
        causes.extend(_nested(v["not"], False, level, path + ".not"))
    pattern = v.get("pattern")
    if isinstance(pattern, str) and pattern:
        problem = regexp_problem(pattern)
        if problem:
            causes.append(invalid(path + ".pattern", pattern,
                                  f"must be a valid regular expression, but isn't: {problem}"))
    return causes


def _nested_each(v: Schema, junctor: str, level: str, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, sub in enumerate(_schemas(v.get(junctor))):
        if sub is not None:
            causes.extend(_nested(sub, False, level, f"{path}.{junctor}[{i}]"))
    return causes


def _nested(v: Schema, skip_any_of: bool, level: str, path: str) -> list[Cause]:
    """validateNestedValueValidation: inside a junctor only value validations may appear."""
    causes = _value_validation(v, skip_any_of, False, level, path)
    if isinstance(v.get("items"), dict):
        causes.extend(_nested(v["items"], False, level, path + ".items"))
    props = as_object(v.get("properties"))
    for name, prop in props.items():
        if isinstance(prop, dict):
            causes.extend(_nested(prop, False, _FIELD, f"{path}.properties[{name}]"))
    checks = (("type", "must be empty to be structural"),
              ("additionalProperties", "must be undefined to be structural"),
              ("default", "must be undefined to be structural"),
              ("title", "must be empty to be structural"),
              ("description", "must be empty to be structural"),
              ("nullable", "must be false to be structural"),
              ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
              ("x-kubernetes-embedded-resource", "must be false to be structural"),
              ("x-kubernetes-int-or-string", "must be false to be structural"),
              ("x-kubernetes-list-map-keys", "must be empty to be structural"),
              ("x-kubernetes-list-type", "must be undefined to be structural"),
              ("x-kubernetes-map-type", "must be undefined to be structural"),
              ("x-kubernetes-validations", "must be empty to be structural"))
    for key, detail in checks:
        present = v.get(key) is not None if key in (
            "additionalProperties", "default", "x-kubernetes-list-type",
            "x-kubernetes-map-type") else _set(v, key)
        if present:
            causes.append(forbidden(f"{path}.{key}", detail))
    if "metadata" in props:
        causes.append(forbidden(path + ".properties[metadata]",
                                "must not be specified in a nested context"))
    return causes


def _completeness(s: Schema, path: str) -> list[Cause]:
    """Every field a root-level junctor speaks of must also be specified outside it."""
    return _junctor_completeness(s, s, path, path)


def _junctor_completeness(v: Schema, s: Schema | None, s_path: str, v_path: str
                          ) -> list[Cause]:
    causes: list[Cause] = []
    if isinstance(v.get("not"), dict):
        causes.extend(_nested_completeness(v["not"], s, s_path, v_path + ".not"))
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(_schemas(v.get(junctor))):
            if sub is not None:
                causes.extend(_nested_completeness(sub, s, s_path, f"{v_path}.{junctor}[{i}]"))
    return causes


def _nested_completeness(v: Schema, s: Schema | None, s_path: str, v_path: str
                         ) -> list[Cause]:
    if s is None:
        return [required(s_path, f"because it is defined in {v_path}")]
    causes = _junctor_completeness(v, s, s_path, v_path)
    if isinstance(v.get("items"), dict):
        items = (as_object(s.get("items")) or None)
        causes.extend(_nested_completeness(v["items"], items, s_path + ".items",
                                           v_path + ".items"))
    s_props = as_object(s.get("properties"))
    v_props = as_object(v.get("properties"))
    for name, prop in v_props.items():
        if not isinstance(prop, dict):
            continue
        at, where = f"{s_path}.properties[{name}]", f"{v_path}.properties[{name}]"
        if not isinstance(s_props.get(name), dict):
            causes.append(required(at, f"because it is defined in {where}"))
        else:
            causes.extend(_nested_completeness(prop, s_props[name], at, where))
    return causes


def _schemas(value: Any) -> list[Schema | None]:
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, dict) else None for item in value]


# Go's RE2 refuses what Python's re accepts beyond it: lookaround and backreferences.
_PERL_ONLY = re.compile(r"\(\?(<?[=!])")
_BACKREFERENCE = re.compile(r"\\[1-9]")


def regexp_problem(pattern: str) -> str:
    """Why Go's regexp.Compile would refuse `pattern` ("" if it would not), worded as Go."""
    found = _PERL_ONLY.search(pattern)
    if found:
        return f"error parsing regexp: invalid or unsupported Perl syntax: `{found.group(0)}`"
    found = _BACKREFERENCE.search(pattern)
    if found:
        return f"error parsing regexp: invalid escape sequence: `{found.group(0)}`"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"error parsing regexp: {exc.msg}: `{pattern}`"
    return ""


# --- defaults ----------------------------------------------------------------------------

def default_causes(schema: Schema, path: str) -> list[Cause]:
    """ValidateDefaults: the root is treated as a resource (like an embedded one)."""
    return _defaults(schema, path, inside_meta=False, resource=True)


def _defaults(s: Schema, path: str, *, inside_meta: bool, resource: bool) -> list[Cause]:
    causes: list[Cause] = []
    resource = resource or _flag(s, "x-kubernetes-embedded-resource")
    if resource:
        inside_meta = False
    value = s.get("default")
    if value is not None:
        at = path + ".default"
        if not inside_meta:
            pruned = copy.deepcopy(value)
            structural.prune(pruned, s, resource_root=resource)
            if pruned != value:
                causes.append(invalid(at, value, "must not have unknown fields"))
        causes.extend(structural.validate(value, s, at))
    # additionalProperties is not followed: defaults are forbidden there
    if isinstance(s.get("items"), dict):
        causes.extend(_defaults(s["items"], path + ".items", inside_meta=inside_meta,
                                resource=False))
    props = as_object(s.get("properties"))
    for name, prop in props.items():
        if isinstance(prop, dict):
            meta = inside_meta or (resource and name in ("metadata", "apiVersion", "kind"))
            causes.extend(_defaults(prop, f"{path}.properties[{name}]", inside_meta=meta,
                                    resource=False))
    return causes
