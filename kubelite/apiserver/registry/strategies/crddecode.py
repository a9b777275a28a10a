"""What kube-apiserver's decoder refuses in a CRD schema before any validation runs.

Upstream decodes a CRD into Go structs, so `maxLength: "5"` or `required: true` never
reaches validation: the request fails with 400 and the JSON decoder's words
(`json: cannot unmarshal string into Go struct field JSONSchemaProps...maxLength of type
int64`). kubelite keeps objects as dicts, so `decode_problem` walks each
openAPIV3Schema checking every JSONSchemaProps keyword's JSON type the same way, and
the strategy turns a problem into that 400. Past this check, every walker (pruning,
defaulting, custom resource validation) may rely on the keywords' types.
"""

from __future__ import annotations

from typing import Any

from kubelite.machinery.go_json import json_value_name, unmarshal_type_error

from .jsonvalues import as_list, as_object

_INT64 = ("maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties")
_FLOAT64 = ("maximum", "minimum", "multipleOf")
_BOOL = ("exclusiveMaximum", "exclusiveMinimum", "uniqueItems", "nullable",
         "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string",
         "x-kubernetes-preserve-unknown-fields")
_STRING = ("id", "$schema", "$ref", "description", "type", "format", "title", "pattern",
           "x-kubernetes-list-type", "x-kubernetes-map-type")
_STRINGS = ("required", "x-kubernetes-list-map-keys")
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SCHEMA_LISTS = ("allOf", "oneOf", "anyOf")


def _problem(value: Any, path: str, go_type: str) -> str:
    return unmarshal_type_error(json_value_name(value), go_type, "JSONSchemaProps", path)


def decode_problem(schema: Any, path: str) -> str:
    """The decoder's complaint about `schema` at JSON path `path` ("" if none)."""
    if schema is None:
        return ""
    if not isinstance(schema, dict):
        return _problem(schema, path, "v1.JSONSchemaProps")
    for key, value in schema.items():
        at = f"{path}.{key}"
        if value is None:
            continue
        if key in _INT64 and (not isinstance(value, int) or isinstance(value, bool)):
            if not (isinstance(value, float) and value.is_integer()):
                return _problem(value, at, "int64")
        elif key in _FLOAT64 and (not isinstance(value, (int, float))
                                  or isinstance(value, bool)):
            return _problem(value, at, "float64")
        elif key in _BOOL and not isinstance(value, bool):
            return _problem(value, at, "bool")
        elif key in _STRING and not isinstance(value, str):
            return _problem(value, at, "string")
        elif key in _STRINGS and not (isinstance(value, list)
                                      and all(isinstance(v, str) for v in value)):
            return _problem(value, at, "[]string")
        elif key == "enum" and not isinstance(value, list):
            return _problem(value, at, "[]v1.JSON")
        elif key == "x-kubernetes-validations" and not (
                isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return _problem(value, at, "v1.ValidationRules")
        problem = _nested_problem(key, value, at)
        if problem:
            return problem
    return ""


def _nested_problem(key: str, value: Any, at: str) -> str:
    if key in _SCHEMA_MAPS:
        if not isinstance(value, dict):
            return _problem(value, at, "map[string]v1.JSONSchemaProps")
        return next((p for p in (decode_problem(v, at) for v in value.values()) if p), "")
    if key in _SCHEMA_LISTS:
        if not isinstance(value, list):
            return _problem(value, at, "[]v1.JSONSchemaProps")
        return next((p for p in (decode_problem(v, at) for v in value) if p), "")
    if key == "not":
        return decode_problem(value, at)
    if key == "items":
        items = value if isinstance(value, list) else [value]
        return next((p for p in (decode_problem(v, at) for v in items) if p), "")
    if key in ("additionalProperties", "additionalItems") and not isinstance(value, bool):
        return decode_problem(value, at)
    if key == "dependencies":
        if not isinstance(value, dict):
            return _problem(value, at, "v1.JSONSchemaDependencies")
        return next((p for p in (decode_problem(v, at) for v in value.values()
                                 if not isinstance(v, list)) if p), "")
    return ""


def crd_decode_problem(crd: Any) -> str:
    """The first schema problem in any version of a CRD, as the decoder words it."""
    spec = as_object(as_object(crd).get("spec"))
    for version in as_list(spec.get("versions")):
        schema = as_object(as_object(version).get("schema")).get("openAPIV3Schema")
        problem = decode_problem(schema, "spec.versions.schema.openAPIV3Schema")
        if problem:
            return problem
    return ""
