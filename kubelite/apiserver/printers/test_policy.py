from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
CREATED = (NOW - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(group: str, kind: str, obj: dict, name: str = "x") -> list:
    obj = {"metadata": {"name": name, "creationTimestamp": CREATED}, **obj}
    return table_for(group, kind, [obj], now=NOW)["rows"][0]["cells"]


def resource(name: str, **target) -> dict:
    return {"type": "Resource", "resource": {"name": name, "target": target}}


@pytest.mark.parametrize(
    ("metrics", "current", "want"),
    [
        ([], [], "<none>"),
        ([resource("cpu", type="Utilization", averageUtilization=80)], [], "cpu: <unknown>/80%"),
        (
            [resource("cpu", type="Utilization", averageUtilization=80)],
            [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 12, "averageValue": "120m"}}}],
            "cpu: 12%/80%",
        ),
        ([resource("memory", type="AverageValue", averageValue="100Mi")], [], "memory: <unknown>/100Mi"),
        (
            [{"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}}],
            [{"type": "Pods", "pods": {"current": {"averageValue": "500"}}}],
            "500/1k",
        ),
        (
            [{"type": "External", "external": {"target": {"type": "AverageValue", "averageValue": "30"}}}],
            [],
            "<unknown>/30 (avg)",
        ),
        (
            [{"type": "Object", "object": {"target": {"type": "Value", "value": "10"}}}],
            [{"type": "Object", "object": {"current": {"value": "4"}}}],
            "4/10",
        ),
        (
            [resource("cpu", type="Utilization", averageUtilization=50)] * 3,
            [],
            "cpu: <unknown>/50%, cpu: <unknown>/50% + 1 more...",
        ),
        ([{"type": "Bogus"}], [], "<unknown type>"),
    ],
    ids=["none", "cpu-unknown", "cpu", "average-value", "pods", "external-avg", "object-value", "more", "unknown-type"],
)
def test_hpa_targets(metrics: list, current: list, want: str) -> None:
    obj = {
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 10, "metrics": metrics},
        "status": {"currentReplicas": 3, "currentMetrics": current},
    }
    assert row("autoscaling", "HorizontalPodAutoscaler", obj) == ["x", "Deployment/web", want, "1", 10, 3, "30m"]


def test_hpa_v1_shape_reads_cpu_percentage() -> None:
    obj = {
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5, "targetCPUUtilizationPercentage": 70},
        "status": {"currentReplicas": 2, "currentCPUUtilizationPercentage": 35},
    }
    assert row("autoscaling", "HorizontalPodAutoscaler", obj) == ["x", "Deployment/web", "cpu: 35%/70%", "<unset>", 5, 2, "30m"]


@pytest.mark.parametrize(
    ("spec", "want"),
    [({"minAvailable": 2}, ["2", "N/A"]), ({"maxUnavailable": "25%"}, ["N/A", "25%"])],
    ids=["min-available", "max-unavailable"],
)
def test_pod_disruption_budget_cells(spec: dict, want: list) -> None:
    obj = {"spec": spec, "status": {"disruptionsAllowed": 1}}
    assert row("policy", "PodDisruptionBudget", obj) == ["x", *want, 1, "30m"]


def test_priority_class_and_runtime_class_cells() -> None:
    obj = {"value": 1000, "globalDefault": True, "preemptionPolicy": "Never"}
    assert row("scheduling.k8s.io", "PriorityClass", obj) == ["x", 1000, True, "30m", "Never"]
    assert row("scheduling.k8s.io", "PriorityClass", {"value": 5}) == ["x", 5, False, "30m", ""]
    assert row("node.k8s.io", "RuntimeClass", {"handler": "runc"}) == ["x", "runc", "30m"]


def test_flow_schemas_are_sorted_by_precedence_then_name() -> None:
    def schema(name: str, precedence: int) -> dict:
        return {
            "metadata": {"name": name, "creationTimestamp": CREATED},
            "spec": {"priorityLevelConfiguration": {"name": "global"}, "matchingPrecedence": precedence},
        }

    objs = [schema("b", 1000), schema("z", 200), schema("a", 1000)]
    objs[0]["spec"]["distinguisherMethod"] = {"type": "ByUser"}
    objs[0]["status"] = {"conditions": [{"type": "Dangling", "status": "False"}]}
    rows = table_for("flowcontrol.apiserver.k8s.io", "FlowSchema", objs, now=NOW)["rows"]
    assert [r["cells"] for r in rows] == [
        ["z", "global", 200, "<none>", "30m", "?"],
        ["a", "global", 1000, "<none>", "30m", "?"],
        ["b", "global", 1000, "ByUser", "30m", "False"],
    ]
    assert [r["object"]["metadata"]["name"] for r in rows] == ["z", "a", "b"]


def test_priority_level_configuration_cells() -> None:
    limited = {
        "type": "Limited",
        "limited": {
            "nominalConcurrencyShares": 30,
            "limitResponse": {"type": "Queue", "queuing": {"queues": 64, "handSize": 6, "queueLengthLimit": 50}},
        },
    }
    assert row("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", {"spec": limited}) == [
        "x", "Limited", 30, 64, 6, 50, "30m",
    ]
    assert row("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", {"spec": {"type": "Exempt"}}) == [
        "x", "Exempt", "<none>", "<none>", "<none>", "<none>", "30m",
    ]
