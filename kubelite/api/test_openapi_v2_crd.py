from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.catalogue import ResourceSpec
from kubelite.api.openapi_v2_crd import crd_definitions_v2, structural_v2

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("plain-schema-unchanged",
     {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}},
     {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}}),
    ("nullable-loses-type-items-and-properties",
     {"type": "object", "nullable": True, "properties": {"a": {"type": "string"}}, "description": "d"},
     {"description": "d"}),
    ("preserving-object-loses-properties-and-type",
     {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
      "properties": {"a": {"type": "string"}}},
     {"x-kubernetes-preserve-unknown-fields": True}),
    ("preserving-array-loses-items-then-type",
     {"type": "array", "x-kubernetes-preserve-unknown-fields": True, "items": {"type": "string"}},
     {"x-kubernetes-preserve-unknown-fields": True}),
    ("nullable-property-is-no-longer-required",
     {"type": "object", "required": ["a", "b"],
      "properties": {"a": {"type": "string", "nullable": True}, "b": {"type": "string"}}},
     {"type": "object", "required": ["b"], "properties": {"a": {}, "b": {"type": "string"}}}),
    ("last-required-goes-with-its-key",
     {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "nullable": True}}},
     {"type": "object", "properties": {"a": {}}}),
    ("nullable-map-values-drop-required",
     {"type": "object", "required": ["x"],
      "additionalProperties": {"type": "string", "nullable": True}},
     {"type": "object", "additionalProperties": {}}),
    ("junctors-go-at-every-depth",
     {"type": "object", "anyOf": [{"required": ["a"]}], "properties": {"a": {
         "type": "array", "items": {"type": "integer", "oneOf": [{"minimum": 1}], "not": {}},
         "allOf": [{"maxItems": 2}]}}},
     {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}}}}),
    ("preserving-embedded-resource-stays-open",
     {"type": "object", "x-kubernetes-embedded-resource": True,
      "x-kubernetes-preserve-unknown-fields": True},
     {"x-kubernetes-embedded-resource": True, "x-kubernetes-preserve-unknown-fields": True}),
]


def test_embedded_resource_gets_type_and_object_meta() -> None:
    schema = {"type": "object", "properties": {"template": {
        "type": "object", "x-kubernetes-embedded-resource": True, "required": ["spec"],
        "properties": {"spec": {"type": "object"}}}}}
    template = structural_v2(schema)["properties"]["template"]
    assert set(template["properties"]) == {"spec", "apiVersion", "kind", "metadata"}
    assert template["properties"]["metadata"]["$ref"].endswith("meta.v1.ObjectMeta")
    assert template["required"] == ["spec", "kind", "apiVersion"]


@pytest.mark.parametrize(("schema", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_structural_v2_keeps_only_what_kubectls_v2_reader_accepts(
        schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert structural_v2(schema) == expected


def _gadget(schema: dict[str, Any] | None) -> ResourceSpec:
    return ResourceSpec("ex.com", ("v1",), "Gadget", "gadgets",
                        crd_schemas={"v1": schema} if schema is not None else {})


@pytest.mark.parametrize("schema", [None, {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                           "properties": {"spec": {"type": "object"}}}],
                         ids=["no-schema", "root-preserves-unknown-fields"])
def test_kind_that_keeps_unknown_fields_is_a_bare_object(schema: dict[str, Any] | None) -> None:
    definitions = crd_definitions_v2(_gadget(schema), "v1")
    assert definitions["com.ex.v1.Gadget"] == {
        "type": "object",
        "x-kubernetes-group-version-kind": [{"group": "ex.com", "kind": "Gadget", "version": "v1"}]}
    assert "items" in definitions["com.ex.v1.GadgetList"]["properties"]


def test_structural_kind_keeps_type_meta_and_weakened_fields() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "note": {"type": "string", "nullable": True}, "size": {"type": "integer"}}}}}
    kind = crd_definitions_v2(_gadget(schema), "v1")["com.ex.v1.Gadget"]
    assert set(kind["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert kind["properties"]["spec"]["properties"] == {"note": {}, "size": {"type": "integer"}}
    assert schema["properties"]["spec"]["properties"]["note"]["nullable"] is True  # not mutated
