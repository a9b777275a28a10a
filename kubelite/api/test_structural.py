from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api import schemas, structural
from kubelite.api.catalogue import GVK

POD = schemas.schema_for(GVK("", "v1", "Pod"))
assert POD is not None

CRD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["replicas"],
            "properties": {
                "replicas": {"type": "integer", "minimum": 1, "maximum": 5, "default": 1},
                "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                "name": {"type": "string", "maxLength": 3, "minLength": 2, "pattern": "^[a-z]+$"},
                "ratio": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string"},
                         "x-kubernetes-list-type": "set", "maxItems": 3, "minItems": 1},
                "ports": {"type": "array", "x-kubernetes-list-type": "map",
                          "x-kubernetes-list-map-keys": ["name"],
                          "items": {"type": "object", "properties": {
                              "name": {"type": "string"}, "port": {"type": "integer",
                                                                   "format": "int32"}}}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                         "properties": {"known": {"type": "object",
                                                  "properties": {"a": {"type": "string"}}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "target": {"x-kubernetes-int-or-string": True},
                "note": {"type": "string", "nullable": True},
                "nested": {"type": "object", "default": {},
                           "properties": {"x": {"type": "string", "default": "dx"}}},
                "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "x-kubernetes-preserve-unknown-fields": True},
            },
        },
    },
}


def _cr(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "x"}, "spec": {"replicas": 2, **spec}}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"spec": {"containers": [{"name": "c", "imagePullPolicyy": "Always"}]}},
         ["spec.containers[0].imagePullPolicyy"]),
        ({"metadata": {"name": "p", "labels": {"any": "thing"}, "lables": {}}},
         ["metadata.lables"]),
        ({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 1, "x": 1}]}],
                   "nodeNam": "n"}},
         ["spec.containers[0].ports[0].x", "spec.nodeNam"]),
        ({"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1"}}}]}}, []),
        ({"spec": {"containers": "not-a-list"}}, []),
    ],
    ids=["container-typo", "metadata-typo", "document-order", "map-values-known", "wrong-type"],
)
def test_unknown_fields_of_a_pod_use_strict_decoder_paths(obj: dict[str, Any],
                                                          expected: list[str]) -> None:
    assert structural.unknown_fields({"apiVersion": "v1", "kind": "Pod", **obj}, POD) == expected


def test_free_form_built_in_fields_accept_anything() -> None:
    schema = schemas.schema_for(GVK("apps", "v1", "ControllerRevision"))
    assert schema is not None
    revision = {"metadata": {"name": "r"}, "data": {"any": {"nested": 1}}, "revision": 1}
    assert structural.unknown_fields(revision, schema) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"extra": 1}, ["spec.extra"]),
        ({"free": {"anything": 1, "known": {"a": "x", "b": 2}}}, ["spec.free.known.b"]),
        ({"labels": {"k": "v"}}, []),
        ({"ports": [{"name": "a", "bogus": 1}]}, ["spec.ports[0].bogus"]),
        ({"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"nam": "x"}, "spec": {}}},
         ["spec.template.metadata.nam"]),
    ],
    ids=["unknown", "preserve-unknown-still-checks-known", "map", "list-item", "embedded-resource"],
)
def test_unknown_fields_of_a_custom_resource(spec: dict[str, Any], expected: list[str]) -> None:
    assert structural.unknown_fields(_cr(**spec), CRD) == expected


def test_unknown_fields_checks_custom_resource_metadata_against_object_meta() -> None:
    obj = _cr()
    obj["metadata"]["nmae"] = "x"
    assert structural.unknown_fields(obj, CRD) == ["metadata.nmae"]


def test_prune_drops_unspecified_fields_and_keeps_type_meta_and_preserved_content() -> None:
    obj = _cr(extra=1, free={"anything": {"deep": 1}}, ports=[{"name": "a", "bogus": 1}])
    obj["top"] = True
    pruned = structural.prune(obj, CRD)
    assert sorted(pruned) == ["spec.extra", "spec.ports[0].bogus", "top"]
    assert obj == {**_cr(free={"anything": {"deep": 1}}, ports=[{"name": "a"}])}


def test_apply_defaults_fills_missing_fields_and_defaults_inside_defaults() -> None:
    obj: dict[str, Any] = {"spec": {}}
    structural.apply_defaults(obj, CRD)
    assert obj == {"spec": {"replicas": 1, "mode": "a", "nested": {"x": "dx"}}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"mode": None}, {"mode": "a"}),
        ({"name": None}, {}),
        ({"note": None}, {"note": None}),
        ({"replicas": 3}, {"replicas": 3}),
    ],
    ids=["null-takes-default", "null-without-default-dropped", "nullable-null-kept", "set-kept"],
)
def test_apply_defaults_treats_nulls_as_upstream(spec: dict[str, Any],
                                                 expected: dict[str, Any]) -> None:
    obj = {"spec": {"nested": {"x": "y"}, **spec}}
    structural.apply_defaults(obj, CRD)
    defaults = {"replicas": 1, "mode": "a", "nested": {"x": "y"}}
    assert obj["spec"] == {**defaults, **expected}


def test_apply_defaults_does_not_share_default_values_between_objects() -> None:
    a: dict[str, Any] = {"spec": {}}
    b: dict[str, Any] = {"spec": {}}
    structural.apply_defaults(a, CRD)
    structural.apply_defaults(b, CRD)
    a["spec"]["nested"]["x"] = "changed"
    assert b["spec"]["nested"]["x"] == "dx"


@pytest.mark.parametrize(
    ("spec", "field", "reason", "message"),
    [
        ({"replicas": "string"}, "spec.replicas", "FieldValueTypeInvalid",
         'Invalid value: "string": spec.replicas in body must be of type integer: "string"'),
        ({"mode": "c"}, "spec.mode", "FieldValueNotSupported",
         'Unsupported value: "c": supported values: "a", "b"'),
        ({"replicas": 9}, "spec.replicas", "FieldValueInvalid",
         "Invalid value: 9: spec.replicas in body should be less than or equal to 5"),
        ({"replicas": 0}, "spec.replicas", "FieldValueInvalid",
         "Invalid value: 0: spec.replicas in body should be greater than or equal to 1"),
        ({"ratio": 0}, "spec.ratio", "FieldValueInvalid",
         "Invalid value: 0: spec.ratio in body should be greater than 0"),
        ({"name": "abcd"}, "spec.name", "FieldValueTooLong", "Too long: may not be more than 3 bytes"),
        ({"name": "a"}, "spec.name", "FieldValueInvalid",
         'Invalid value: "a": spec.name in body should be at least 2 chars long'),
        ({"name": "AB"}, "spec.name", "FieldValueInvalid",
         "Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'"),
        ({"tags": []}, "spec.tags", "FieldValueInvalid",
         "Invalid value: 0: spec.tags in body should have at least 1 items"),
        ({"tags": ["a", "b", "c", "d"]}, "spec.tags", "FieldValueTooMany",
         "Too many: 4: must have at most 3 items"),
        ({"tags": ["a", "a"]}, "spec.tags[1]", "FieldValueDuplicate", 'Duplicate value: "a"'),
        ({"ports": [{"name": "a"}, {"name": "a"}]}, "spec.ports[1]", "FieldValueDuplicate",
         'Duplicate value: {"name":"a"}'),
        ({"ports": [{"name": "a", "port": 2**31}]}, "spec.ports[0].port", "FieldValueInvalid",
         'Invalid value: 2147483648: spec.ports[0].port in body must be of type int32: "2147483648"'),
        ({"target": True}, "spec.target", "FieldValueTypeInvalid",
         'Invalid value: "boolean": spec.target in body must be of type integer,string: "boolean"'),
        ({"mode": None}, "spec.mode", "FieldValueTypeInvalid",
         'Invalid value: "null": spec.mode in body must be of type string: "null"'),
        ({"labels": {"k": 1}}, "spec.labels.k", "FieldValueTypeInvalid",
         'Invalid value: "integer": spec.labels.k in body must be of type string: "integer"'),
    ],
    ids=["type", "enum", "maximum", "minimum", "exclusive-minimum", "max-length", "min-length",
         "pattern", "min-items", "max-items", "set-duplicate", "map-duplicate", "int32-range",
         "int-or-string", "null-not-nullable", "map-value-type"],
)
def test_validate_reports_upstream_cause(spec: dict[str, Any], field: str, reason: str,
                                         message: str) -> None:
    causes = structural.validate(_cr(**spec), CRD)
    assert [(c.field, c.type, c.message) for c in causes] == [(field, reason, message)]


def test_validate_reports_missing_required_field() -> None:
    obj = _cr()
    del obj["spec"]["replicas"]
    causes = structural.validate(obj, CRD)
    assert [(c.field, c.type, c.message) for c in causes] == [
        ("spec.replicas", "FieldValueRequired", "Required value")]


def test_validate_accepts_a_valid_object_including_nullable_null_and_int_or_string() -> None:
    obj = _cr(mode="b", name="ab", ratio=0.5, tags=["a", "b"], note=None, target="50%",
              ports=[{"name": "a", "port": 80}, {"name": "b"}], labels={"k": "v"})
    assert structural.validate(copy.deepcopy(obj), CRD) == []


def test_validate_prefixes_paths_when_validating_a_sub_object() -> None:
    causes = structural.validate({"replicas": "x"}, CRD["properties"]["spec"], path="spec")
    assert [c.field for c in causes] == ["spec.replicas"]
