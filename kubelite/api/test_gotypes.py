from __future__ import annotations

from typing import Any

import pytest

from kubelite.api import gotypes, schemas
from kubelite.api.catalogue import GVK
from kubelite.machinery import quantity


def kind_type(kind: str, group: str = "", version: str = "v1") -> gotypes.GoType:
    name = schemas.definition_name(GVK(group, version, kind))
    assert name is not None
    return gotypes.definition_type(name)


def pod_container(**fields: Any) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": "c", **fields}]}}


def deployment_spec(**fields: Any) -> dict[str, Any]:
    return {"spec": fields}


QUANTITY_FORMAT = quantity.ERR_FORMAT_WRONG

# (id, kind, group, body, Go's message)
REFUSED = [
    ("map-gets-array", "ConfigMap", "", {"data": []},
     "json: cannot unmarshal array into Go struct field ConfigMap.data of type "
     "map[string]string"),
    ("map-value-gets-number", "ConfigMap", "", {"data": {"a": 1}},
     "json: cannot unmarshal number into Go struct field ConfigMap.data of type string"),
    ("map-value-gets-bool", "ConfigMap", "", {"data": {"a": True}},
     "json: cannot unmarshal bool into Go struct field ConfigMap.data of type string"),
    ("string-gets-array", "ConfigMap", "", {"metadata": {"name": ["x"]}},
     "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.name of type "
     "string"),
    ("string-gets-object", "ConfigMap", "", {"metadata": {"namespace": {}}},
     "json: cannot unmarshal object into Go struct field ObjectMeta.metadata.namespace of "
     "type string"),
    ("struct-gets-string", "ConfigMap", "", {"metadata": "x"},
     "json: cannot unmarshal string into Go struct field ConfigMap.metadata of type "
     "v1.ObjectMeta"),
    ("labels-value-gets-number", "ConfigMap", "", {"metadata": {"labels": {"a": 5}}},
     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type "
     "string"),
    ("bool-gets-string", "ConfigMap", "", {"immutable": "true"},
     "json: cannot unmarshal string into Go struct field ConfigMap.immutable of type bool"),
    ("slice-gets-object", "Pod", "", {"spec": {"containers": {}}},
     "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type "
     "[]v1.Container"),
    ("list-item-field-path-has-no-index", "Pod", "", pod_container(image=5),
     "json: cannot unmarshal number into Go struct field Container.spec.containers.image of "
     "type string"),
    ("int32-gets-string", "Deployment", "apps", deployment_spec(replicas="3"),
     "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of "
     "type int32"),
    ("int32-gets-fraction", "Deployment", "apps", deployment_spec(replicas=1.5),
     "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas "
     "of type int32"),
    ("int32-gets-float-literal", "Deployment", "apps", deployment_spec(replicas=1.0),
     "json: cannot unmarshal number 1.0 into Go struct field DeploymentSpec.spec.replicas "
     "of type int32"),
    ("int32-overflows", "Deployment", "apps", deployment_spec(replicas=2**31),
     "json: cannot unmarshal number 2147483648 into Go struct field "
     "DeploymentSpec.spec.replicas of type int32"),
    ("int64-overflows", "Pod", "", {"spec": {"activeDeadlineSeconds": 2**63}},
     "json: cannot unmarshal number 9223372036854775808 into Go struct field "
     "PodSpec.spec.activeDeadlineSeconds of type int64"),
    ("int64-gets-bool", "ConfigMap", "", {"metadata": {"generation": False}},
     "json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.generation of "
     "type int64"),
    ("int-or-string-gets-bool", "Deployment", "apps",
     deployment_spec(strategy={"rollingUpdate": {"maxSurge": True}}),
     "json: cannot unmarshal bool into Go struct field "
     "RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32"),
    ("int-or-string-gets-fraction", "Deployment", "apps",
     deployment_spec(strategy={"rollingUpdate": {"maxUnavailable": 0.5}}),
     "json: cannot unmarshal number 0.5 into Go struct field "
     "RollingUpdateDeployment.spec.strategy.rollingUpdate.maxUnavailable of type int32"),
    ("quantity-gets-bad-string", "Pod", "", pod_container(resources={"limits": {"cpu": "x"}}),
     QUANTITY_FORMAT),
    ("quantity-gets-object", "Pod", "", pod_container(resources={"limits": {"cpu": {}}}),
     QUANTITY_FORMAT),
    ("quantity-gets-bool", "Pod", "", pod_container(resources={"limits": {"cpu": True}}),
     QUANTITY_FORMAT),
    ("time-gets-number", "ConfigMap", "", {"metadata": {"creationTimestamp": 5}},
     "json: cannot unmarshal number into Go struct field "
     "ObjectMeta.metadata.creationTimestamp of type string"),
    ("bytes-gets-bad-base64", "Secret", "", {"data": {"a": "abc!"}},
     "illegal base64 data at input byte 3"),
    ("bytes-gets-number", "Secret", "", {"data": {"a": 5}},
     "json: cannot unmarshal number into Go struct field Secret.data of type []uint8"),
    ("byte-array-item-overflows", "Secret", "", {"data": {"a": [256]}},
     "json: cannot unmarshal number 256 into Go struct field Secret.data of type uint8"),
    ("nested-struct-in-list", "HorizontalPodAutoscaler", "autoscaling",
     {"spec": {"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
         "type": "Utilization", "averageUtilization": "5"}}}]}},
     "json: cannot unmarshal string into Go struct field "
     "MetricTarget.spec.metrics.resource.target.averageUtilization of type int32"),
    ("float64-gets-string", "CustomResourceDefinition", "apiextensions.k8s.io",
     {"spec": {"versions": [{"schema": {"openAPIV3Schema": {"maximum": "5"}}}]}},
     "json: cannot unmarshal string into Go struct field "
     "JSONSchemaProps.spec.versions.schema.openAPIV3Schema.maximum of type float64"),
]


@pytest.mark.parametrize("kind,group,body,message", [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_mistyped_field_gets_go_decoder_message(kind: str, group: str, body: dict[str, Any],
                                                message: str) -> None:
    version = "v2" if group == "autoscaling" else "v1"  # v1 has no metrics list
    with pytest.raises(gotypes.DecodeError) as err:
        gotypes.check(kind_type(kind, group, version), body)
    assert str(err.value) == message


ACCEPTED = [
    ("int-or-string-as-string", "Deployment", "apps",
     deployment_spec(strategy={"rollingUpdate": {"maxSurge": "25%"}})),
    ("int-or-string-as-int", "Deployment", "apps",
     deployment_spec(strategy={"rollingUpdate": {"maxSurge": 2}})),
    ("quantity-as-number", "Pod", "", pod_container(resources={"limits": {"cpu": 1.5}})),
    ("quantity-as-string", "Pod", "", pod_container(resources={"limits": {"memory": "1Gi"}})),
    ("raw-extension-anything", "ControllerRevision", "apps", {"data": [1, {"a": None}]}),
    ("free-form-managed-fields", "ConfigMap", "",
     {"metadata": {"managedFields": [{"fieldsV1": {"f:data": {".": {}}}}]}}),
    ("unknown-fields-left-alone", "ConfigMap", "", {"spec": [1], "data": {"a": "b"}}),
    ("base64-with-newlines", "Secret", "", {"data": {"a": "YWJj\nZA=="}}),
    ("crd-schema-recursion", "CustomResourceDefinition", "apiextensions.k8s.io",
     {"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {
         "type": "object", "properties": {"a": {"type": "object", "properties": {
             "b": {"type": "integer", "x-kubernetes-preserve-unknown-fields": True,
                   "default": {"any": "json"}}}}}}}}]}}),
]


@pytest.mark.parametrize("kind,group,body", [r[1:] for r in ACCEPTED],
                         ids=[r[0] for r in ACCEPTED])
def test_well_typed_body_is_accepted_unchanged(kind: str, group: str,
                                               body: dict[str, Any]) -> None:
    before = repr(body)
    assert gotypes.check(kind_type(kind, group), body) is body
    assert repr(body) == before


NULLS = [
    ("struct-field-dropped", "ConfigMap", "", {"data": None, "metadata": {"name": None}},
     {"metadata": {}}),
    ("map-value-becomes-empty-string", "ConfigMap", "", {"data": {"a": None}},
     {"data": {"a": ""}}),
    ("list-item-becomes-empty-struct", "Pod", "", {"spec": {"containers": [None]}},
     {"spec": {"containers": [{}]}}),
    ("string-list-item-becomes-empty", "ConfigMap", "", {"metadata": {"finalizers": [None]}},
     {"metadata": {"finalizers": [""]}}),
    ("byte-array-becomes-base64", "Secret", "", {"data": {"a": [104, 105]}},
     {"data": {"a": "aGk="}}),
]


@pytest.mark.parametrize("kind,group,body,settled", [r[1:] for r in NULLS],
                         ids=[r[0] for r in NULLS])
def test_nulls_settle_to_go_zero_values(kind: str, group: str, body: dict[str, Any],
                                        settled: dict[str, Any]) -> None:
    assert gotypes.check(kind_type(kind, group), body) == settled


def test_first_type_mismatch_wins_but_unmarshaler_error_stops_at_once() -> None:
    deployment = kind_type("Deployment", "apps")
    two_mismatches = {"metadata": {"name": 1}, "spec": {"replicas": "x"}}
    with pytest.raises(gotypes.DecodeError, match="ObjectMeta.metadata.name"):
        gotypes.check(deployment, two_mismatches)
    # A Quantity's own UnmarshalJSON fails decoding outright, past an earlier mismatch.
    pod = {"metadata": {"name": 1}, **pod_container(resources={"limits": {"cpu": "x"}})}
    with pytest.raises(gotypes.DecodeError, match="quantities must match"):
        gotypes.check(kind_type("Pod"), pod)


def test_root_that_is_not_a_struct_names_the_go_value() -> None:
    with pytest.raises(gotypes.DecodeError) as err:
        gotypes.check(gotypes.object_meta(), "x")
    assert str(err.value) == "json: cannot unmarshal string into Go value of type v1.ObjectMeta"
