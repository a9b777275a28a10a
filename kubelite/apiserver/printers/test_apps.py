from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
CREATED = (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
TEMPLATE = {"spec": {"containers": [{"name": "web", "image": "nginx"}, {"name": "log", "image": "busybox"}]}}


def row(kind: str, obj: dict) -> list:
    obj = {"metadata": {"name": "x", "creationTimestamp": CREATED}, **obj}
    return table_for("apps", kind, [obj], now=NOW)["rows"][0]["cells"]


@pytest.mark.parametrize(
    ("selector", "want"),
    [
        ({"matchLabels": {"app": "web", "tier": "fe"}}, "app=web,tier=fe"),
        (
            {
                "matchLabels": {"z": "1"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                    {"key": "gone", "operator": "DoesNotExist"},
                    {"key": "a", "operator": "Exists"},
                    {"key": "b", "operator": "NotIn", "values": ["x"]},
                ],
            },
            "a,b notin (x),env in (dev,prod),!gone,z=1",
        ),
        ({}, ""),
        (None, ""),
        ({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, "<invalid>"),
    ],
    ids=["labels", "expressions", "empty", "missing", "invalid"],
)
def test_deployment_cells(selector: dict | None, want: str) -> None:
    spec = {"replicas": 3, "template": TEMPLATE, "selector": selector}
    status = {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    assert row("Deployment", {"spec": spec, "status": status}) == [
        "x",
        "2/3",
        3,
        2,
        "3d",
        "web,log",
        "nginx,busybox",
        want,
    ]


def test_deployment_without_status_is_zero_of_desired() -> None:
    assert row("Deployment", {"spec": {"replicas": 2}})[1:4] == ["0/2", 0, 0]


@pytest.mark.parametrize(
    ("selector", "want"),
    [({"matchLabels": {"app": "web"}}, "app=web"), ({}, "<none>"), ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "<error>")],
    ids=["labels", "empty", "invalid"],
)
def test_replica_set_cells(selector: dict, want: str) -> None:
    obj = {"spec": {"replicas": 2, "selector": selector, "template": TEMPLATE}, "status": {"replicas": 2, "readyReplicas": 1}}
    assert row("ReplicaSet", obj) == ["x", 2, 2, 1, "3d", "web,log", "nginx,busybox", want]


def test_stateful_set_cells() -> None:
    obj = {"spec": {"replicas": 3, "template": TEMPLATE}, "status": {"readyReplicas": 1}}
    assert row("StatefulSet", obj) == ["x", "1/3", "3d", "web,log", "nginx,busybox"]


def test_daemon_set_cells() -> None:
    obj = {
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{"name": "a", "image": "agent:1"}]}},
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert row("DaemonSet", obj) == ["x", 3, 3, 2, 3, 2, "kubernetes.io/os=linux", "3d", "a", "agent:1", "app=agent"]


@pytest.mark.parametrize(
    ("owners", "want"),
    [
        ([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True}], "statefulset.apps/web"),
        ([{"apiVersion": "v1", "kind": "Pod", "name": "p", "controller": True}], "pod/p"),
        ([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "d"}], "<none>"),
        ([], "<none>"),
    ],
    ids=["statefulset", "core-group", "not-controller", "no-owner"],
)
def test_controller_revision_cells(owners: list, want: str) -> None:
    obj = {"metadata": {"name": "x", "creationTimestamp": CREATED, "ownerReferences": owners}, "revision": 4}
    assert table_for("apps", "ControllerRevision", [obj], now=NOW)["rows"][0]["cells"] == ["x", want, 4, "3d"]


def test_workload_columns_and_wide_priorities() -> None:
    defs = table_for("apps", "Deployment", [], now=NOW)["columnDefinitions"]
    assert [(c["name"], c["type"], c["priority"]) for c in defs] == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Up-to-date", "string", 0),
        ("Available", "string", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
        ("Selector", "string", 1),
    ]
    defs = table_for("apps", "ReplicaSet", [], now=NOW)["columnDefinitions"]
    assert [c["type"] for c in defs[1:4]] == ["integer", "integer", "integer"]
