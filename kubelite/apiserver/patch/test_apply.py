"""Server-side apply scenarios after the Kubernetes docs and fieldmanager tests."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api.catalogue import GVK
from kubelite.api.schemas import schema_for
from kubelite.apiserver.patch.apply import apply
from kubelite.apiserver.patch.managed_fields import update_managed_fields
from kubelite.machinery.errors import BadRequest, Conflict

DEPLOYMENT = schema_for(GVK("apps", "v1", "Deployment"))
CONFIGMAP = schema_for(GVK("", "v1", "ConfigMap"))
T0, T1, T2 = "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"


def config(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"}, "spec": spec}


def containers(*items: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"containers": list(items)}}


NGINX = config(
    replicas=3,
    selector={"matchLabels": {"app": "nginx"}},
    template={
        "metadata": {"labels": {"app": "nginx"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}]},
    },
)


def managers_of(managed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["manager"]: m["fieldsV1"] for m in managed}


def test_first_apply_creates_object_and_managed_fields_as_upstream() -> None:
    obj, managed = apply({}, NGINX, "kubectl", False, DEPLOYMENT, None, now=T0)
    assert managed == [{
        "manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "time": T0, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {
            "f:replicas": {}, "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                    ".": {}, "f:image": {}, "f:name": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}},
                }}},
            },
        }},
    }]
    assert obj["metadata"]["managedFields"] == managed
    assert obj["spec"] == NGINX["spec"]


def test_configmap_apply_matches_docs_example() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
          "data": {"key": "some value"}}
    _, managed = apply({}, cm, "kubectl", False, CONFIGMAP, None, now=T0)
    assert managed[0]["fieldsV1"] == {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}}


def test_two_managers_own_different_fields() -> None:
    obj, managed = apply({}, config(replicas=3), "alice", False, DEPLOYMENT, None, now=T0)
    obj, managed = apply(obj, config(paused=True), "bob", False, DEPLOYMENT, managed, now=T1)
    assert obj["spec"] == {"replicas": 3, "paused": True}
    assert managers_of(managed) == {"alice": {"f:spec": {"f:replicas": {}}}, "bob": {"f:spec": {"f:paused": {}}}}


def test_conflict_on_replicas_with_an_applier() -> None:
    obj, managed = apply({}, config(replicas=3), "alice", False, DEPLOYMENT, None, now=T0)
    with pytest.raises(Conflict) as raised:
        apply(obj, config(replicas=5), "bob", False, DEPLOYMENT, managed, now=T1)
    assert raised.value.to_status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas',
        "reason": "Conflict", "code": 409,
        "details": {"causes": [{"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".spec.replicas"}]},
    }


def test_conflict_with_an_update_manager_names_its_version() -> None:
    obj, managed = apply({}, config(replicas=3), "kubectl", False, DEPLOYMENT, None, now=T0)
    scaled = copy.deepcopy(obj)
    scaled["spec"]["replicas"] = 10
    managed = update_managed_fields(obj, scaled, "kube-controller-manager", "Update", "apps/v1", DEPLOYMENT, managed, now=T1)
    with pytest.raises(Conflict) as raised:
        apply(scaled, config(replicas=3), "kubectl", False, DEPLOYMENT, managed, now=T2)
    assert raised.value.message == (
        'Apply failed with 1 conflict: conflict with "kube-controller-manager" using apps/v1: .spec.replicas'
    )
    assert raised.value.causes[0].message == 'conflict with "kube-controller-manager" using apps/v1'


def test_several_conflicts_are_listed_per_manager() -> None:
    obj, managed = apply({}, config(replicas=3, paused=True), "alice", False, DEPLOYMENT, None, now=T0)
    with pytest.raises(Conflict) as raised:
        apply(obj, config(replicas=5, paused=False), "bob", False, DEPLOYMENT, managed, now=T1)
    assert raised.value.message == (
        'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.paused\n- .spec.replicas'
    )
    assert [c.field for c in raised.value.causes] == [".spec.paused", ".spec.replicas"]


def test_same_value_shares_ownership_without_conflict() -> None:
    obj, managed = apply({}, config(replicas=3), "alice", False, DEPLOYMENT, None, now=T0)
    obj, managed = apply(obj, config(replicas=3), "bob", False, DEPLOYMENT, managed, now=T1)
    assert managers_of(managed) == {"alice": {"f:spec": {"f:replicas": {}}}, "bob": {"f:spec": {"f:replicas": {}}}}


def test_force_moves_ownership() -> None:
    obj, managed = apply({}, config(replicas=3, paused=True), "alice", False, DEPLOYMENT, None, now=T0)
    obj, managed = apply(obj, config(replicas=5), "bob", True, DEPLOYMENT, managed, now=T1)
    assert obj["spec"]["replicas"] == 5
    assert managers_of(managed) == {"alice": {"f:spec": {"f:paused": {}}}, "bob": {"f:spec": {"f:replicas": {}}}}


def test_dropping_a_field_from_the_config_removes_it() -> None:
    obj, managed = apply({}, config(replicas=3, paused=True), "alice", False, DEPLOYMENT, None, now=T0)
    obj, managed = apply(obj, config(replicas=3), "alice", False, DEPLOYMENT, managed, now=T1)
    assert obj["spec"] == {"replicas": 3}
    assert managers_of(managed) == {"alice": {"f:spec": {"f:replicas": {}}}}


def test_dropped_field_stays_while_another_manager_owns_it() -> None:
    obj, managed = apply({}, config(replicas=3), "alice", False, DEPLOYMENT, None, now=T0)
    obj, managed = apply(obj, config(replicas=3), "bob", False, DEPLOYMENT, managed, now=T1)
    obj, managed = apply(obj, config(paused=False), "alice", False, DEPLOYMENT, managed, now=T2)
    assert obj["spec"] == {"replicas": 3, "paused": False}
    assert managers_of(managed)["bob"] == {"f:spec": {"f:replicas": {}}}


def test_dropping_leaves_fields_nobody_applied() -> None:
    live = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"},
            "spec": {"replicas": 3, "paused": True, "revisionHistoryLimit": 10}}
    obj, managed = apply(live, config(replicas=3, paused=True), "alice", False, DEPLOYMENT, None, now=T0)
    obj, managed = apply(obj, config(replicas=3), "alice", False, DEPLOYMENT, managed, now=T1)
    assert obj["spec"] == {"replicas": 3, "revisionHistoryLimit": 10}


def test_container_list_map_applied_by_two_managers() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    schema = schema_for(GVK("", "v1", "Pod"))
    obj, managed = apply({}, {**pod, **containers({"name": "app", "image": "app:1"})}, "alice", False, schema, None, now=T0)
    obj, managed = apply(obj, {**pod, **containers({"name": "log", "image": "log:1"})}, "bob", False, schema, managed, now=T1)
    assert [c["name"] for c in obj["spec"]["containers"]] == ["app", "log"]
    assert managers_of(managed)["bob"] == {"f:spec": {"f:containers": {
        "k:{\"name\":\"log\"}": {".": {}, "f:image": {}, "f:name": {}}}}}
    # alice changes her image and drops nothing of bob's
    obj, managed = apply(obj, {**pod, **containers({"name": "app", "image": "app:2"})}, "alice", False, schema, managed, now=T2)
    assert obj["spec"]["containers"] == [{"name": "app", "image": "app:2"}, {"name": "log", "image": "log:1"}]
    # alice drops her container: it goes, bob's stays
    obj, managed = apply(obj, {**pod, "spec": {"containers": [{"name": "log", "image": "log:1"}]}}, "alice", False, schema, managed, now=T2)
    assert obj["spec"]["containers"] == [{"name": "log", "image": "log:1"}]
    # and changing bob's image is a conflict
    with pytest.raises(Conflict) as raised:
        apply(obj, {**pod, **containers({"name": "log", "image": "log:2"})}, "alice", False, schema, managed, now=T2)
    assert raised.value.causes[0].field == '.spec.containers[name="log"].image'


def test_set_items_merge() -> None:
    meta = {"apiVersion": "v1", "kind": "ConfigMap"}
    obj, managed = apply({}, {**meta, "metadata": {"name": "c", "finalizers": ["a"]}}, "alice", False, CONFIGMAP, None, now=T0)
    obj, managed = apply(obj, {**meta, "metadata": {"name": "c", "finalizers": ["b"]}}, "bob", False, CONFIGMAP, managed, now=T1)
    assert obj["metadata"]["finalizers"] == ["a", "b"]


def test_no_op_apply_keeps_the_time_stamp() -> None:
    obj, managed = apply({}, config(replicas=3), "alice", False, DEPLOYMENT, None, now=T0)
    again, managed2 = apply(obj, config(replicas=3), "alice", False, DEPLOYMENT, managed, now=T1)
    assert managed2 == managed and again == obj


@pytest.mark.parametrize(
    "applied,message",
    [
        pytest.param({**config(), "metadata": {"name": "x", "managedFields": []}}, "metadata.managedFields must be nil",
                     id="managed-fields-in-config"),
        pytest.param(config(template={"spec": {"containers": [{"image": "x"}]}}),
                     'failed to create typed patch object: .spec.template.spec.containers: element 0: associative '
                     'list with keys has an element that omits key field "name" (and doesn\'t have default value)',
                     id="list-map-item-without-key"),
    ],
)
def test_bad_configs_are_bad_requests(applied: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        apply({}, applied, "alice", False, DEPLOYMENT, None, now=T0)
    assert raised.value.message == message
