"""The OpenAPI rules a CRD's openAPIV3Schema must follow (apiextensions' validation.go:
validateCustomResourceDefinitionValidation and ValidateCustomResourceDefinitionOpenAPISchema).

`validate_schema(schema, path, status_enabled=...)` returns, in upstream's order:
1. with the status subresource on, the root may only carry the fields upstream lists
   (and only `type: object`); the root may never be nullable;
2. the structural-schema rules (`structurality.structural_causes`), sorted by their text
   as upstream sorts them; only when those pass, the checks of every `default`;
3. the per-node OpenAPI rules: unsupported keywords (`$ref`, `definitions`, ...),
   uniqueItems, additionalProperties beside properties, the x-kubernetes-* extensions
   (list-type, list-map-keys, map-type, preserve-unknown-fields) and the static parts of
   x-kubernetes-validations. CEL rules are not compiled.

`path` is where the schema sits in the *internal* CRD shape upstream validates: a schema
shared by every version reports at `spec.validation.openAPIV3Schema`, one that differs
per version at `spec.versions[i].schema.openAPIV3Schema` (see `crdspec`).
Schemas are the plain JSON of v1 JSONSchemaProps; a keyword of the wrong JSON type is
treated as absent rather than crashing the request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kubelite.machinery.errors import Cause

from .causes import forbidden, invalid, not_supported
from .jsonvalues import as_object, as_list
from .crdextensions import extension_causes, map_list_key_causes, x_validation_causes
from .structurality import default_causes, structural_causes

Schema = dict[str, Any]

OPENAPI_V3_TYPES = ("array", "boolean", "integer", "number", "object", "string")
_META_FIELDS = ("metadata", "kind", "apiVersion")

# JSONSchemaProps' Go fields in declaration order, by JSON name: the status-subresource
# root check walks them in this order and names the first one not allowed.
_GO_FIELDS = (
    ("id", "ID"), ("$schema", "Schema"), ("$ref", "Ref"), ("description", "Description"),
    ("type", "Type"), ("format", "Format"), ("title", "Title"), ("default", "Default"),
    ("maximum", "Maximum"), ("exclusiveMaximum", "ExclusiveMaximum"),
    ("minimum", "Minimum"), ("exclusiveMinimum", "ExclusiveMinimum"),
    ("maxLength", "MaxLength"), ("minLength", "MinLength"), ("pattern", "Pattern"),
    ("maxItems", "MaxItems"), ("minItems", "MinItems"), ("uniqueItems", "UniqueItems"),
    ("multipleOf", "MultipleOf"), ("enum", "Enum"), ("maxProperties", "MaxProperties"),
    ("minProperties", "MinProperties"), ("required", "Required"), ("items", "Items"),
    ("allOf", "AllOf"), ("oneOf", "OneOf"), ("anyOf", "AnyOf"), ("not", "Not"),
    ("properties", "Properties"), ("additionalProperties", "AdditionalProperties"),
    ("patternProperties", "PatternProperties"), ("dependencies", "Dependencies"),
    ("additionalItems", "AdditionalItems"), ("definitions", "Definitions"),
    ("externalDocs", "ExternalDocs"), ("example", "Example"), ("nullable", "Nullable"),
    ("x-kubernetes-preserve-unknown-fields", "XPreserveUnknownFields"),
    ("x-kubernetes-embedded-resource", "XEmbeddedResource"),
    ("x-kubernetes-int-or-string", "XIntOrString"),
    ("x-kubernetes-list-map-keys", "XListMapKeys"), ("x-kubernetes-list-type", "XListType"),
    ("x-kubernetes-map-type", "XMapType"), ("x-kubernetes-validations", "XValidations"),
)
_ALLOWED_AT_STATUS_ROOT = (
    "Description", "Type", "Format", "Title", "Maximum", "ExclusiveMaximum", "Minimum",
    "ExclusiveMinimum", "MaxLength", "MinLength", "Pattern", "MaxItems", "MinItems",
    "UniqueItems", "MultipleOf", "Required", "Items", "Properties", "ExternalDocs", "Example",
    "XPreserveUnknownFields", "XValidations")


@dataclass(frozen=True, slots=True)
class _Context:
    """specStandardValidatorV3: what the walk knows about where it is."""
    allow_defaults: bool = True
    disallow_reason: str = ""
    inside_resource_meta: bool = False

    def without_defaults(self, reason: str) -> _Context:
        return replace(self, allow_defaults=False, disallow_reason=reason)


# Keywords held by pointers in JSONSchemaProps: set as soon as present (even `0`, `false`).
_POINTER_KEYWORDS = frozenset({
    "$ref", "default", "maximum", "minimum", "maxLength", "minLength", "maxItems", "minItems",
    "multipleOf", "maxProperties", "minProperties", "items", "not", "additionalProperties",
    "additionalItems", "externalDocs", "example", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type", "x-kubernetes-map-type", "dependencies"})


def is_set(schema: Schema, key: str) -> bool:
    """Whether the Go field behind `key` holds a non-zero value."""
    value = schema.get(key)
    if key in _POINTER_KEYWORDS:
        return value is not None
    return value is not None and value is not False and value not in ("", [], {}, 0)


def validate_schema(schema: Any, path: str, *, status_enabled: bool) -> list[Cause]:
    if not isinstance(schema, dict):
        return []
    causes: list[Cause] = []
    if status_enabled:
        causes.extend(_status_root_causes(schema, path))
    if schema.get("nullable") is True:
        causes.append(forbidden(path + ".nullable", "nullable cannot be true at the root"))
    structural = structural_causes(schema, path)
    causes.extend(structural or default_causes(schema, path))
    causes.extend(_schema_causes(schema, path, _Context(), root=True))
    return causes


def _status_root_causes(schema: Schema, path: str) -> list[Cause]:
    for key, go_name in _GO_FIELDS:
        if not is_set(schema, key):
            continue
        if go_name == "Type":
            if schema[key] != "object":
                return [invalid(path + ".type", schema[key], 'only "object" is allowed as the '
                                "type at the root of the schema if the status subresource "
                                "is enabled")]
            continue
        if go_name not in _ALLOWED_AT_STATUS_ROOT:
            allowed = " ".join(_ALLOWED_AT_STATUS_ROOT)
            return [invalid(path, schema, f"only [{allowed}] fields are allowed at the root "
                                          "of the schema if the status subresource is enabled")]
    return []


def sub_schemas(schema: Schema, path: str) -> list[tuple[str, Schema]]:
    """(path, schema) of each schema nested in `schema` that upstream recurses into, other
    than properties and additionalProperties (which carry context of their own)."""
    out: list[tuple[str, Schema]] = []
    if isinstance(schema.get("not"), dict):
        out.append((path + ".not", schema["not"]))
    for junctor in ("allOf", "oneOf", "anyOf"):
        for i, sub in enumerate(as_list(schema.get(junctor))):
            if isinstance(sub, dict):
                out.append((f"{path}.{junctor}[{i}]", sub))
    for name, sub in as_object(schema.get("definitions")).items():
        if isinstance(sub, dict):
            out.append((f"{path}.definitions[{name}]", sub))
    return out


def _schema_causes(schema: Schema, path: str, ctx: _Context, *, root: bool = False
                   ) -> list[Cause]:
    causes = _keyword_causes(schema, path, ctx)
    if schema.get("uniqueItems") is True:
        causes.append(forbidden(path + ".uniqueItems", "uniqueItems cannot be set to true since "
                                "the runtime complexity becomes quadratic"))
    props = as_object(schema.get("properties"))
    extra = schema.get("additionalProperties")
    if "additionalProperties" in schema and extra is not None:
        if props and (extra is False or isinstance(extra, dict)):
            causes.append(forbidden(path + ".additionalProperties",
                                    "additionalProperties and properties are mutual exclusive"))
        if isinstance(extra, dict):
            # pruning without an actual value is ambiguous inside object metadata
            sub = (ctx.without_defaults("inside additionalProperties applying to object "
                                        "metadata") if ctx.inside_resource_meta else ctx)
            causes.extend(_schema_causes(extra, path + ".additionalProperties", sub))
    for name, prop in props.items():
        if not isinstance(prop, dict):
            continue
        sub = ctx
        if (root or schema.get("x-kubernetes-embedded-resource") is True) \
                and name in _META_FIELDS:
            sub = replace(sub, inside_resource_meta=True)
            if root:
                sub = sub.without_defaults(f"in top-level {name}")
        causes.extend(_schema_causes(prop, f"{path}.properties[{name}]", sub))
    for sub_path, sub_schema in sub_schemas(schema, path):
        causes.extend(_schema_causes(sub_schema, sub_path, ctx))
    items = schema.get("items")
    if isinstance(items, dict):
        causes.extend(_schema_causes(items, path + ".items", ctx))
    elif isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, dict):
                causes.extend(_schema_causes(item, f"{path}.items[{i}]", ctx))
    for name, dep in as_object(schema.get("dependencies")).items():
        if isinstance(dep, dict):
            causes.extend(_schema_causes(dep, f"{path}.dependencies[{name}]", ctx))
    causes.extend(extension_causes(schema, path))
    causes.extend(map_list_key_causes(schema, path))
    causes.extend(x_validation_causes(schema, path))
    return causes


def _keyword_causes(schema: Schema, path: str, ctx: _Context) -> list[Cause]:
    """specStandardValidatorV3.validate: keywords a CRD schema may not use."""
    causes: list[Cause] = []
    kind = schema.get("type")
    if kind not in (None, "") and kind not in OPENAPI_V3_TYPES:
        causes.append(not_supported(path + ".type", kind, OPENAPI_V3_TYPES))
    if schema.get("default") is not None and not ctx.allow_defaults:
        detail = "must not be set"
        if ctx.disallow_reason:
            detail += " " + ctx.disallow_reason
        causes.append(forbidden(path + ".default", detail))
    if is_set(schema, "id"):
        causes.append(forbidden(path + ".id", "id is not supported"))
    for key in ("additionalItems", "patternProperties", "definitions", "dependencies"):
        if is_set(schema, key):
            causes.append(forbidden(f"{path}.{key}", f"{key} is not supported"))
    if is_set(schema, "$ref"):
        causes.append(forbidden(path + ".$ref", "$ref is not supported"))
    if kind == "null":
        causes.append(forbidden(path + ".type", "type cannot be set to null, use nullable as an "
                                                "alternative"))
    if isinstance(schema.get("items"), list) and schema["items"]:
        causes.append(forbidden(path + ".items", "items must be a schema object and not an "
                                                 "array"))
    if ctx.inside_resource_meta and schema.get("x-kubernetes-embedded-resource") is True:
        causes.append(forbidden(path + ".x-kubernetes-embedded-resource",
                                "must not be used inside of resource meta"))
    return causes
