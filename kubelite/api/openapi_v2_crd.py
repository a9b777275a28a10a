"""A custom resource's definitions as /openapi/v2 publishes them.

kubectl's client-side validation (the only kind a `kind: List` gets, and what
`--validate` falls back to) reads v2 schemas strictly: an object with `properties`
rejects every other field, and a typed field rejects `null`. A CRD's schema can say
more than that reader understands, so upstream publishes a weaker v2 schema
(apiextensions-apiserver `controller/openapi/v2/conversion.go` and `builder.go`
`buildKubeNative`), and so does this module:

- a root that keeps unknown fields (or no schema) becomes just `type: object`: no
  properties at all, not even apiVersion, kind and metadata, or kubectl would refuse
  every other field;
- inside, a `nullable` node loses its type, items and properties (null must pass);
  a node that keeps unknown fields loses its items and properties, and its `object`
  type; an `array` left without items loses its type; and a nullable property is no
  longer required;
- `allOf`, `anyOf`, `oneOf` and `not` go (swagger 2.0 has no junctors); the schema
  converter drops them too;
- an embedded resource (`x-kubernetes-embedded-resource`) that does not keep unknown
  fields gets apiVersion, kind and metadata properties, and requires kind and
  apiVersion (`addEmbeddedProperties`), as the kind itself does.

The v3 documents are not affected: they carry the CRD's schema as written.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kubelite.api import schemas
from kubelite.api.catalogue import ResourceSpec
from kubelite.api.openapi import Schema, crd_definitions, definition_name

_JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
# The descriptions upstream gives an embedded resource's type and object meta.
_EMBEDDED_API_VERSION = (
    "apiVersion defines the versioned schema of this representation of an object. Servers "
    "should convert recognized schemas to the latest internal value, and may reject "
    "unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources")
_EMBEDDED_KIND = (
    "kind is a string value representing the type of this object. In CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds")
_OBJECT_META_DESCRIPTION = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata")


def crd_definitions_v2(resource: ResourceSpec, version: str) -> dict[str, Schema]:
    """The kind and list definitions of a custom resource for /openapi/v2 (in the
    pinned JSON Schema form, like `openapi.crd_definitions`)."""
    schema = (resource.crd_schemas or {}).get(version)
    if not schema or schema.get("x-kubernetes-preserve-unknown-fields") is True:
        out = crd_definitions(resource, version)
        name = definition_name(resource, version)
        out[name] = {"type": "object",
                     "x-kubernetes-group-version-kind": out[name]["x-kubernetes-group-version-kind"]}
        return out
    weakened = dataclasses.replace(
        resource, crd_schemas={**(resource.crd_schemas or {}), version: structural_v2(schema)})
    return crd_definitions(weakened, version)


def structural_v2(schema: Schema) -> Schema:
    """A copy of a structural schema cut down to what kubectl's v2 reader accepts."""
    out = {k: v for k, v in schema.items() if k not in _JUNCTORS}
    if out.pop("nullable", False) is True:
        for key in ("type", "items", "properties"):
            out.pop(key, None)
    preserves = out.get("x-kubernetes-preserve-unknown-fields") is True
    if preserves:
        out.pop("items", None)
        out.pop("properties", None)
    if (out.get("type") == "array" and "items" not in out) or \
            (preserves and out.get("type") == "object"):
        del out["type"]
    properties: dict[str, Any] | None = out.get("properties")
    if properties is not None:
        nullable = {name for name, prop in properties.items()
                    if isinstance(prop, dict) and prop.get("nullable") is True}
        if nullable and "required" in out:
            out["required"] = [r for r in out["required"] if r not in nullable]
            if not out["required"]:
                del out["required"]
        out["properties"] = {name: structural_v2(prop) if isinstance(prop, dict) else prop
                             for name, prop in properties.items()}
    items = out.get("items")
    if isinstance(items, dict):
        out["items"] = structural_v2(items)
    additional = out.get("additionalProperties")
    if isinstance(additional, dict):
        if additional.get("nullable") is True:
            out.pop("required", None)
        out["additionalProperties"] = structural_v2(additional)
    if out.get("x-kubernetes-embedded-resource") is True and not preserves:
        out["properties"] = {**out.get("properties", {}),
                             "apiVersion": {"description": _EMBEDDED_API_VERSION, "type": "string"},
                             "kind": {"description": _EMBEDDED_KIND, "type": "string"},
                             "metadata": {"$ref": "#/$defs/" + schemas.OBJECT_META,
                                          "description": _OBJECT_META_DESCRIPTION}}
        required = list(out.get("required", []))
        out["required"] = required + [r for r in ("kind", "apiVersion") if r not in required]
    return out
