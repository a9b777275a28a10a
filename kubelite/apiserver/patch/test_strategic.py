"""Strategic merge patch against the pinned Deployment/Pod schemas, cases after
strategicpatch/patch_test.go and what `kubectl apply` / `kubectl patch` send."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.api.catalogue import GVK
from kubelite.api.schemas import schema_for
from kubelite.apiserver.patch.strategic import apply_strategic_merge_patch
from kubelite.machinery.errors import BadRequest, InternalError, Invalid

DEPLOYMENT = schema_for(GVK("apps", "v1", "Deployment"))
POD = schema_for(GVK("", "v1", "Pod"))


def deployment(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
        "spec": {"replicas": 1, **spec, "template": {"spec": {"containers": list(containers)}}},
    }


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["template"]["spec"]["containers"]


def pod_spec_patch(**fields: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": fields}}}


LIVE = deployment(
    {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
     "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}]},
    {"name": "sidecar", "image": "sidecar:1"},
    {"name": "logger", "image": "logger:1"},
)


CONTAINER_CASES = [
    pytest.param(
        pod_spec_patch(containers=[{"name": "sidecar", "image": "sidecar:2"}, {"name": "metrics", "image": "m:1"}]),
        [("app", "app:1"), ("sidecar", "sidecar:2"), ("metrics", "m:1"), ("logger", "logger:1")],
        id="merge-by-name-keeps-others-new-item-after-its-patch-neighbour",
    ),
    pytest.param(
        pod_spec_patch(**{
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}, {"name": "logger"}, {"name": "metrics"}],
            "containers": [{"name": "sidecar", "image": "sidecar:2"}, {"name": "metrics", "image": "m:1"}],
        }),
        [("app", "app:1"), ("sidecar", "sidecar:2"), ("logger", "logger:1"), ("metrics", "m:1")],
        id="kubectl-apply-set-element-order-appends-new-container",
    ),
    pytest.param(
        pod_spec_patch(**{
            "$setElementOrder/containers": [{"name": "logger"}, {"name": "app"}, {"name": "sidecar"}],
        }),
        [("logger", "logger:1"), ("app", "app:1"), ("sidecar", "sidecar:1")],
        id="set-element-order-alone-reorders",
    ),
    pytest.param(
        pod_spec_patch(containers=[{"name": "sidecar", "$patch": "delete"}]),
        [("app", "app:1"), ("logger", "logger:1")],
        id="delete-directive-removes-item",
    ),
    pytest.param(
        pod_spec_patch(containers=[{"$patch": "replace"}, {"name": "only", "image": "only:1"}]),
        [("only", "only:1")],
        id="replace-directive-replaces-list",
    ),
    pytest.param(
        pod_spec_patch(**{
            "$setElementOrder/containers": [{"name": "app"}, {"name": "logger"}],
            "containers": [{"name": "sidecar", "$patch": "delete"}],
        }),
        [("app", "app:1"), ("logger", "logger:1")],
        id="kubectl-apply-drops-a-container",
    ),
]


@pytest.mark.parametrize("patch,expected", CONTAINER_CASES)
def test_containers_merge_by_name(patch: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    out = apply_strategic_merge_patch(LIVE, patch, DEPLOYMENT)
    assert [(c["name"], c["image"]) for c in containers_of(out)] == expected


def test_original_is_not_mutated() -> None:
    before = copy.deepcopy(LIVE)
    apply_strategic_merge_patch(LIVE, pod_spec_patch(containers=[{"name": "app", "image": "x"}]), DEPLOYMENT)
    assert LIVE == before


def test_changed_image_keeps_other_fields_of_the_container() -> None:
    out = apply_strategic_merge_patch(LIVE, pod_spec_patch(containers=[{"name": "app", "image": "app:2"}]), DEPLOYMENT)
    app = containers_of(out)[0]
    assert app["image"] == "app:2" and [e["name"] for e in app["env"]] == ["A", "B"] and len(app["ports"]) == 2


@pytest.mark.parametrize(
    "env_patch,expected",
    [
        pytest.param([{"name": "B", "value": "20"}], [("A", "1"), ("B", "20")], id="change-one"),
        # Like upstream's mergeSortedSlice, an item with no live neighbour goes first.
        pytest.param([{"name": "C", "value": "3"}], [("C", "3"), ("A", "1"), ("B", "2")], id="add-one-goes-first"),
        pytest.param(
            [{"name": "B", "value": "2"}, {"name": "C", "value": "3"}], [("A", "1"), ("B", "2"), ("C", "3")],
            id="add-one-after-patched-neighbour",
        ),
        pytest.param([{"name": "A", "$patch": "delete"}], [("B", "2")], id="delete-one"),
        pytest.param([{"name": "A", "value": None}], [("A", None), ("B", "2")], id="null-deletes-field-of-item"),
    ],
)
def test_env_merges_by_name(env_patch: list[dict[str, Any]], expected: list[tuple[str, Any]]) -> None:
    out = apply_strategic_merge_patch(LIVE, pod_spec_patch(containers=[{"name": "app", "env": env_patch}]), DEPLOYMENT)
    assert [(e["name"], e.get("value")) for e in containers_of(out)[0]["env"]] == expected


def test_ports_merge_by_container_port() -> None:
    patch = pod_spec_patch(containers=[{"name": "app", "ports": [{"containerPort": 443, "name": "https"}, {"containerPort": 8080}]}])
    ports = containers_of(apply_strategic_merge_patch(LIVE, patch, DEPLOYMENT))[0]["ports"]
    assert ports == [
        {"containerPort": 80, "protocol": "TCP"},
        {"containerPort": 443, "protocol": "TCP", "name": "https"},
        {"containerPort": 8080},
    ]


def test_args_without_merge_strategy_are_replaced() -> None:
    live = deployment({"name": "app", "args": ["a", "b"]})
    out = apply_strategic_merge_patch(live, pod_spec_patch(containers=[{"name": "app", "args": ["c"]}]), DEPLOYMENT)
    assert containers_of(out)[0]["args"] == ["c"]


@pytest.mark.parametrize(
    "patch,expected",
    [
        pytest.param({"metadata": {"finalizers": ["c"]}}, ["c", "a", "b"], id="merge-primitive-set-new-first"),
        pytest.param({"metadata": {"finalizers": ["b", "c"]}}, ["a", "b", "c"], id="no-duplicates"),
        pytest.param({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, ["b"], id="delete-from-primitive-list"),
        pytest.param(
            {"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}},
            ["c", "b", "a"],
            id="set-element-order-on-primitives",
        ),
        pytest.param({"metadata": {"finalizers": None}}, None, id="null-deletes-list"),
    ],
)
def test_primitive_merge_list(patch: dict[str, Any], expected: list[str] | None) -> None:
    live = {"metadata": {"name": "x", "finalizers": ["a", "b"]}}
    out = apply_strategic_merge_patch(live, patch, DEPLOYMENT)
    assert out["metadata"].get("finalizers") == expected


@pytest.mark.parametrize(
    "patch,expected",
    [
        pytest.param({"metadata": {"labels": {"tier": None, "v": "2"}}}, {"app": "web", "v": "2"}, id="null-deletes-key"),
        pytest.param({"metadata": {"labels": {"$patch": "replace", "only": "1"}}}, {"only": "1"}, id="replace-map"),
        pytest.param({"metadata": {"labels": {"$patch": "delete"}}}, {}, id="delete-map"),
    ],
)
def test_map_directives(patch: dict[str, Any], expected: dict[str, str]) -> None:
    assert apply_strategic_merge_patch(LIVE, patch, DEPLOYMENT)["metadata"]["labels"] == expected


def test_retain_keys_clears_unlisted_fields_of_strategy() -> None:
    live = deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}})
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert apply_strategic_merge_patch(live, patch, DEPLOYMENT)["spec"]["strategy"] == {"type": "Recreate"}


def test_volumes_merge_by_name_with_retain_keys() -> None:
    live = {"spec": {"volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "c"}}]}}
    patch = {"spec": {"volumes": [{"name": "data", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/d"}}]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["spec"]["volumes"] == [{"name": "data", "hostPath": {"path": "/d"}}, {"name": "cfg", "configMap": {"name": "c"}}]


def test_no_schema_replaces_lists_and_merges_maps() -> None:
    out = apply_strategic_merge_patch({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"c": 3}, "l": [3]}, None)
    assert out == {"a": {"b": 1, "c": 3}, "l": [3]}


def test_new_field_carries_no_directives() -> None:
    out = apply_strategic_merge_patch({}, {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x", "env": None}]}}}}, DEPLOYMENT)
    assert containers_of(out) == [{"name": "a", "image": "x"}]


ERROR_CASES = [
    pytest.param(pod_spec_patch(containers=[{"image": "x"}]), InternalError,
                 "map: map[image:x] does not contain declared merge key: name", id="item-missing-merge-key"),
    pytest.param({"metadata": {"labels": {"$patch": "bogus"}}}, InternalError,
                 "unknown patch type: bogus in map: map[$patch:bogus]", id="unknown-map-directive"),
    pytest.param(pod_spec_patch(containers=[{"name": "a", "$patch": "merge"}]), InternalError,
                 "merging lists cannot yet be specified in the patch", id="merge-directive-in-list"),
    pytest.param({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}, BadRequest,
                 "invalid patch format of primitive list", id="bad-delete-list-key"),
    pytest.param({"metadata": {"$retainKeys": "name"}}, BadRequest, "invalid patch format of retainKeys", id="retain-keys-not-a-list"),
    pytest.param({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}, BadRequest,
                 "invalid patch format of retainKeys", id="patch-field-outside-retain-keys"),
    pytest.param({"metadata": {"finalizers": [["a"]]}}, Invalid,
                 "the server rejected our request due to an error in our request", id="list-of-lists"),
]


@pytest.mark.parametrize("patch,error,message", ERROR_CASES)
def test_errors_match_upstream(patch: dict[str, Any], error: type[Exception], message: str) -> None:
    live = copy.deepcopy(LIVE)
    live["metadata"]["finalizers"] = ["f"]
    live["spec"]["strategy"] = {"type": "RollingUpdate"}
    with pytest.raises(error) as raised:
        apply_strategic_merge_patch(live, patch, DEPLOYMENT)
    assert raised.value.message == message  # type: ignore[attr-defined]
