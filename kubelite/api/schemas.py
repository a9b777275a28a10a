"""The pinned Kubernetes type schemas, loaded once and looked up by group/version/kind.

kubernetes-validate ships the definitions of every 1.35 type (with
`x-kubernetes-group-version-kind`, patch strategies and merge keys, list types and
map keys) as JSON Schema with `$ref`s of the form `#/$defs/<name>`. Everything
schema-driven in kubelite (OpenAPI documents, unknown-field detection, strategic merge
patch, server-side apply) reads them through this module, so they are parsed once.

A schema here is a plain dict; `resolve` follows a `$ref` so callers can walk from a
kind's root schema down any path without caring where the references are.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import orjson

from kubelite.api.catalogue import GVK, ResourceSpec

KUBERNETES_VERSION = "1.35.0"
_SCHEMA_DIR = f"kubernetes-json-schema/v{KUBERNETES_VERSION}-local"
_REF_PREFIX = "#/$defs/"

Schema = dict[str, Any]

# Definition names the server itself refers to.
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
TIME = META + "Time"
MICRO_TIME = META + "MicroTime"
DURATION = META + "Duration"
FIELDS_V1 = META + "FieldsV1"
OBJECT_META = META + "ObjectMeta"
LIST_META = META + "ListMeta"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"
UNKNOWN = "io.k8s.apimachinery.pkg.runtime.Unknown"


@functools.cache
def definitions() -> dict[str, Schema]:
    """Every definition by its full name (`io.k8s.api.core.v1.Pod`)."""
    path = importlib.resources.files("kubernetes_validate") / _SCHEMA_DIR / "_definitions.json"
    defs: dict[str, Schema] = orjson.loads(path.read_bytes())["$defs"]
    return defs


@functools.cache
def _names_by_gvk() -> dict[GVK, str]:
    out: dict[GVK, str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            key = GVK(gvk["group"], gvk["version"], gvk["kind"])
            # meta/v1 types (DeleteOptions, WatchEvent...) are tagged with every group;
            # the first definition that claims a kind wins, which is the kind's own.
            out.setdefault(key, name)
    return out


def definition_name(gvk: GVK) -> str | None:
    return _names_by_gvk().get(gvk)


def schema_for(gvk: GVK) -> Schema | None:
    """The root schema of a built-in kind, or None if kubelite has no schema for it."""
    name = definition_name(gvk)
    return definitions()[name] if name else None


def resource_schema(spec: ResourceSpec, version: str | None = None) -> Schema | None:
    """The schema of a resource as `version` (default: storage) shows it: a custom
    resource's from its CRD, a built-in's from the pinned definitions."""
    version = version or spec.storage_version
    if spec.crd_schemas is not None:
        return spec.crd_schemas.get(version)
    return schema_for(spec.gvk(version))


def ref_name(schema: Schema) -> str | None:
    """The definition name a schema refers to (`io.k8s...`), None if it is inline."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        return ref[len(_REF_PREFIX):]
    return None


def resolve(schema: Schema) -> Schema:
    """Follow `$ref`s until an inline schema; keys beside a `$ref` are kept on top."""
    while (name := ref_name(schema)) is not None:
        target = definitions()[name]
        extra = {k: v for k, v in schema.items() if k not in ("$ref", "description")}
        schema = {**target, **extra} if extra else target
    return schema


def property_schema(schema: Schema, field: str) -> Schema | None:
    """The schema of `field` inside an object schema (resolved), or None if unknown.
    For a map (additionalProperties) any field name yields the value schema."""
    schema = resolve(schema)
    props = schema.get("properties")
    if props and field in props:
        return resolve(props[field])
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return resolve(extra)
    return None


def items_schema(schema: Schema) -> Schema | None:
    """The schema of a list's items (resolved), or None."""
    items = resolve(schema).get("items")
    return resolve(items) if isinstance(items, dict) else None


def types_of(schema: Schema) -> set[str]:
    """The JSON types a schema admits, without "null" (kubernetes-validate allows null
    on optional fields)."""
    t = resolve(schema).get("type")
    if t is None:
        return set()
    if isinstance(t, str):
        return {t} - {"null"}
    return set(t) - {"null"}
