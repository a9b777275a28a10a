"""Field ownership of ordinary writes (Update managers) and what objects set."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api.catalogue import GVK
from kubelite.api.schemas import schema_for
from kubelite.apiserver.patch.fieldpath import FieldSet, PathElement
from kubelite.apiserver.patch.managed_fields import _compare_create, create_baseline, update_managed_fields
from kubelite.apiserver.patch.typed import FieldPathError, compare, fields_of

DEPLOYMENT = schema_for(GVK("apps", "v1", "Deployment"))
T0, T1 = "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"


def nginx() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "nginx"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [{"name": "nginx", "image": "nginx", "resources": {},
                                    "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
                    "securityContext": {},
                },
            },
        },
    }


@pytest.mark.parametrize(
    "obj,schema,expected",
    [
        pytest.param(
            {"spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}}}}, DEPLOYMENT,
            {"f:spec": {"f:replicas": {}, "f:selector": {}}}, id="atomic-map-is-a-leaf",
        ),
        pytest.param(
            {"metadata": {"finalizers": ["b", "a"]}}, DEPLOYMENT,
            {"f:metadata": {"f:finalizers": {"v:\"a\"": {}, "v:\"b\"": {}}}}, id="set-items-by-value",
        ),
        pytest.param(
            {"spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["x"]}]}}}}, DEPLOYMENT,
            {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"c\"}": {".": {}, "f:args": {}, "f:name": {}}}}}}},
            id="list-map-items-and-atomic-list",
        ),
        pytest.param(
            {"a": {"b": {"c": 1}}, "l": [1, 2]}, None,
            {"f:a": {".": {}, "f:b": {".": {}, "f:c": {}}}, "f:l": {}}, id="no-schema-maps-granular-lists-atomic",
        ),
        pytest.param({"spec": {"paused": None, "strategy": {}}}, DEPLOYMENT,
                     {"f:spec": {"f:paused": {}, "f:strategy": {}}}, id="null-and-empty-map-are-leaves"),
    ],
)
def test_fields_of(obj: dict[str, Any], schema: Any, expected: dict[str, Any]) -> None:
    assert fields_of(obj, schema).to_fields_v1() == expected


def test_fields_of_defaults_protocol_key_and_rejects_missing_keys_when_strict() -> None:
    ports = {"spec": {"template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}}}}
    assert fields_of(ports, DEPLOYMENT).has(
        (*(PathElement.field(f) for f in ("spec", "template", "spec", "containers")),
         PathElement.key({"name": "c"}), PathElement.field("ports"),
         PathElement.key({"containerPort": 80, "protocol": "TCP"}))
    )
    with pytest.raises(FieldPathError, match='omits key field "name"'):
        fields_of({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}, DEPLOYMENT, strict=True)


def test_create_records_fields_like_kubectl_create() -> None:
    managed = update_managed_fields(None, nginx(), "kubectl-create", "Update", "apps/v1", DEPLOYMENT, None, now=T0)
    assert managed == [{
        "manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1", "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:replicas": {}, "f:selector": {},
                "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}, "f:type": {}},
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {
                        "f:containers": {"k:{\"name\":\"nginx\"}": {
                            ".": {}, "f:image": {}, "f:name": {},
                            "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                ".": {}, "f:containerPort": {}, "f:protocol": {}}},
                            "f:resources": {}}},
                        "f:securityContext": {},
                    },
                },
            },
        },
    }]


EVENT = schema_for(GVK("", "v1", "Event"))
POD = schema_for(GVK("", "v1", "Pod"))


@pytest.mark.parametrize("obj, schema", [
    pytest.param(nginx(), DEPLOYMENT, id="deployment"),
    pytest.param({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "d"},
                  "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Scheduled",
                  "message": "m", "count": 1, "type": "Normal", "eventTime": None,
                  "series": {}}, EVENT, id="event-scalars-null-and-empty-map"),
    pytest.param({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "p-"},
                  "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}],
                           "priority": 0, "enableServiceLinks": True}}, POD, id="pod-required-and-by-value"),
    pytest.param({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": 3, "tags": ["a"]},
                  "count": 2.5}, None, id="schemaless"),
])
def test_create_comparison_is_the_walk_from_the_baseline(obj: dict[str, Any], schema: Any) -> None:
    # The create shortcut (parts by top-level field, scalars without a walk) must
    # agree with comparing the whole object against its create baseline.
    for _ in range(2):  # the second time from the cached parts
        fast = _compare_create(copy.deepcopy(obj), schema)
        walked = compare(create_baseline(obj, schema), obj, schema)
        assert (fast.added, fast.modified, fast.removed) == (walked.added, walked.modified, walked.removed)


def test_update_moves_changed_fields_and_keeps_the_rest() -> None:
    old = nginx()
    managed = update_managed_fields(None, old, "kubectl-create", "Update", "apps/v1", DEPLOYMENT, None, now=T0)
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 3
    managed = update_managed_fields(old, new, "kube-controller-manager", "Update", "apps/v1", DEPLOYMENT, managed, now=T1)
    by_name = {m["manager"]: m for m in managed}
    assert by_name["kube-controller-manager"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in by_name["kubectl-create"]["fieldsV1"]["f:spec"]
    assert by_name["kubectl-create"]["time"] == T0
    assert [m["manager"] for m in managed] == ["kubectl-create", "kube-controller-manager"]  # oldest first


def test_removed_fields_leave_their_owner_and_empty_managers_are_dropped() -> None:
    old = {"metadata": {"name": "x", "labels": {"a": "1"}, "annotations": {"n": "1"}}}
    managed = update_managed_fields(None, old, "m1", "Update", "v1", None, None, now=T0)
    emptied = {"metadata": {"name": "x", "labels": {}, "annotations": {"n": "1"}}}
    assert update_managed_fields(old, emptied, "m2", "Update", "v1", None, managed, now=T1)[0]["fieldsV1"] == {
        "f:metadata": {"f:annotations": {".": {}, "f:n": {}}, "f:labels": {}},  # the map node stays owned
    }
    gone = {"metadata": {"name": "x"}}
    assert update_managed_fields(old, gone, "m2", "Update", "v1", None, managed, now=T1) == []


def test_no_change_keeps_managed_fields_and_time() -> None:
    obj = nginx()
    managed = update_managed_fields(None, obj, "a", "Update", "apps/v1", DEPLOYMENT, None, now=T0)
    assert update_managed_fields(obj, copy.deepcopy(obj), "b", "Update", "apps/v1", DEPLOYMENT, managed, now=T1) == managed


def test_ignored_paths_are_never_owned() -> None:
    old: dict[str, Any] = {"spec": {"replicas": 1}}
    new = {"spec": {"replicas": 2}, "status": {"replicas": 2}}
    managed = update_managed_fields(old, new, "m", "Update", "apps/v1", DEPLOYMENT, None, now=T0,
                                    ignored=FieldSet.of((PathElement.field("status"),)))
    assert managed[0]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
