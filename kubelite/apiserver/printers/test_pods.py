from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(name: str, *, containers: int = 1, init: int = 0, sidecars: tuple[str, ...] = (), **status: Any) -> dict:
    init_specs = [{"name": f"init{i}"} for i in range(init)]
    init_specs += [{"name": s, "restartPolicy": "Always"} for s in sidecars]
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": f"c{i}"} for i in range(containers)], "initContainers": init_specs},
        "status": status,
    }


def running(ready: bool = True, restarts: int = 0, **extra: Any) -> dict:
    return {"ready": ready, "restartCount": restarts, "state": {"running": {}}, **extra}


def cells(obj: dict) -> list:
    return table_for("", "Pod", [obj], now=NOW)["rows"][0]["cells"][:5]


CASES = [
    pytest.param(
        pod("test1", containers=2, phase="podPhase", containerStatuses=[running(restarts=3), {"restartCount": 3}]),
        ["test1", "1/2", "podPhase", "6", "<unknown>"],
        id="one-running-one-unknown",
    ),
    pytest.param(
        pod(
            "test2",
            containers=2,
            phase="podPhase",
            containerStatuses=[
                running(restarts=3),
                {"restartCount": 3, "state": {"terminated": {"reason": "ContainerTerminatedReason"}}},
            ],
        ),
        ["test2", "1/2", "ContainerTerminatedReason", "6", "<unknown>"],
        id="terminated-reason",
    ),
    pytest.param(
        pod(
            "test3",
            containers=2,
            phase="podPhase",
            containerStatuses=[
                running(restarts=3),
                {"restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            ],
        ),
        ["test3", "1/2", "CrashLoopBackOff", "6", "<unknown>"],
        id="crash-loop",
    ),
    pytest.param(
        pod("test4", containers=2, phase="Running", containerStatuses=[running(), running()]),
        ["test4", "2/2", "Running", "0", "<unknown>"],
        id="all-ready",
    ),
    pytest.param(
        pod(
            "exit",
            phase="Running",
            containerStatuses=[{"restartCount": 0, "state": {"terminated": {"exitCode": 137}}}],
        ),
        ["exit", "0/1", "ExitCode:137", "0", "<unknown>"],
        id="exit-code",
    ),
    pytest.param(
        pod("signal", phase="Running", containerStatuses=[{"state": {"terminated": {"exitCode": 1, "signal": 9}}}]),
        ["signal", "0/1", "Signal:9", "0", "<unknown>"],
        id="signal",
    ),
    pytest.param(
        pod(
            "done",
            phase="Succeeded",
            containerStatuses=[{"state": {"terminated": {"reason": "Completed", "exitCode": 0}}}],
        ),
        ["done", "0/1", "Completed", "0", "<unknown>"],
        id="completed",
    ),
    pytest.param(
        pod(
            "half-done",
            containers=2,
            phase="Running",
            conditions=[{"type": "Ready", "status": "True"}],
            containerStatuses=[running(), {"state": {"terminated": {"reason": "Completed"}}}],
        ),
        ["half-done", "1/2", "Running", "0", "<unknown>"],
        id="completed-but-one-running-and-ready",
    ),
    pytest.param(
        pod(
            "half-done",
            containers=2,
            phase="Running",
            containerStatuses=[running(), {"state": {"terminated": {"reason": "Completed"}}}],
        ),
        ["half-done", "1/2", "NotReady", "0", "<unknown>"],
        id="completed-but-one-running-not-ready",
    ),
    pytest.param(
        pod(
            "test7",
            init=1,
            phase="podPhase",
            initContainerStatuses=[
                running(
                    ready=False,
                    restarts=3,
                    name="init0",
                    lastState={"terminated": {"finishedAt": ago(10)}},
                )
            ],
            containerStatuses=[{"ready": False, "restartCount": 0, "state": {"waiting": {}}}],
        ),
        ["test7", "0/1", "Init:0/1", "3 (10s ago)", "<unknown>"],
        id="init-restarting",
    ),
    pytest.param(
        pod(
            "init-fail",
            init=2,
            phase="Pending",
            initContainerStatuses=[
                {"name": "init0", "state": {"terminated": {"exitCode": 0}}},
                {"name": "init1", "state": {"terminated": {"exitCode": 1}}},
            ],
        ),
        ["init-fail", "0/1", "Init:ExitCode:1", "0", "<unknown>"],
        id="init-exit-code",
    ),
    pytest.param(
        pod(
            "init-signal",
            init=1,
            phase="Pending",
            initContainerStatuses=[{"name": "init0", "state": {"terminated": {"exitCode": 2, "signal": 9}}}],
        ),
        ["init-signal", "0/1", "Init:Signal:9", "0", "<unknown>"],
        id="init-signal",
    ),
    pytest.param(
        pod(
            "init-crash",
            init=1,
            phase="Pending",
            initContainerStatuses=[{"name": "init0", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
        ),
        ["init-crash", "0/1", "Init:CrashLoopBackOff", "0", "<unknown>"],
        id="init-waiting-reason",
    ),
    pytest.param(
        pod(
            "init-pending",
            init=2,
            phase="Pending",
            initContainerStatuses=[
                {"name": "init0", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "init1", "state": {"waiting": {"reason": "PodInitializing"}}},
            ],
        ),
        ["init-pending", "0/1", "Init:1/2", "0", "<unknown>"],
        id="init-progress",
    ),
    pytest.param(
        pod(
            "sidecar",
            sidecars=("proxy",),
            phase="Running",
            conditions=[{"type": "Initialized", "status": "True"}],
            initContainerStatuses=[
                running(
                    name="proxy",
                    started=True,
                    restarts=2,
                    lastState={"terminated": {"finishedAt": ago(300)}},
                )
            ],
            containerStatuses=[running(restarts=1, lastState={"terminated": {"finishedAt": ago(600)}})],
        ),
        ["sidecar", "2/2", "Running", "3 (5m ago)", "<unknown>"],
        id="sidecar-counts-as-container",
    ),
    pytest.param(
        pod(
            "gated",
            phase="Pending",
            conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
        ),
        ["gated", "0/1", "SchedulingGated", "0", "<unknown>"],
        id="scheduling-gated",
    ),
    pytest.param(
        pod("evicted", phase="Failed", reason="Evicted"),
        ["evicted", "0/1", "Evicted", "0", "<unknown>"],
        id="status-reason",
    ),
]


@pytest.mark.parametrize(("obj", "want"), CASES)
def test_pod_cells_match_upstream(obj: dict, want: list) -> None:
    assert cells(obj) == want


@pytest.mark.parametrize(
    ("phase", "reason", "want"),
    [
        ("Running", "", "Terminating"),
        ("Pending", "", "Terminating"),
        ("Running", "NodeLost", "Unknown"),
        ("Succeeded", "", "Succeeded"),
        ("Failed", "", "Failed"),
    ],
    ids=["running", "pending", "node-lost", "succeeded-keeps-phase", "failed-keeps-phase"],
)
def test_pod_being_deleted_shows_terminating_unless_finished(phase: str, reason: str, want: str) -> None:
    obj = pod("p", phase=phase, reason=reason)
    obj["metadata"]["deletionTimestamp"] = ago(5)
    assert cells(obj)[2] == want


def test_pod_age_and_wide_cells() -> None:
    obj = pod("web", phase="Running", podIP="10.42.0.5", nominatedNodeName="n2", containerStatuses=[running()])
    obj["metadata"]["creationTimestamp"] = ago(3 * 3600 + 300)
    obj["spec"]["nodeName"] = "n1"
    obj["spec"]["readinessGates"] = [{"conditionType": "a"}, {"conditionType": "b"}]
    obj["status"]["conditions"] = [{"type": "a", "status": "True"}, {"type": "b", "status": "False"}]
    row = table_for("", "Pod", [obj], now=NOW)["rows"][0]
    assert row["cells"] == ["web", "1/1", "Running", "0", "3h5m", "10.42.0.5", "n1", "n2", "1/2"]
    assert "conditions" not in row


def test_pod_wide_cells_default_to_none() -> None:
    row = table_for("", "Pod", [pod("p", phase="Pending")], now=NOW)["rows"][0]
    assert row["cells"][5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_pod_ip_falls_back_to_pod_ips() -> None:
    obj = pod("p", phase="Running", podIPs=[{"ip": "fd00::5"}])
    assert table_for("", "Pod", [obj], now=NOW)["rows"][0]["cells"][5] == "fd00::5"


@pytest.mark.parametrize(
    ("phase", "want"),
    [
        ("Succeeded", [{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}]),
        ("Failed", [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]),
    ],
    ids=["succeeded", "failed"],
)
def test_finished_pods_carry_row_conditions(phase: str, want: list) -> None:
    assert table_for("", "Pod", [pod("p", phase=phase)], now=NOW)["rows"][0]["conditions"] == want


def test_pod_columns_match_upstream() -> None:
    columns = table_for("", "Pod", [], now=NOW)["columnDefinitions"]
    assert [(c["name"], c["type"], c["format"], c["priority"]) for c in columns] == [
        ("Name", "string", "name", 0),
        ("Ready", "string", "", 0),
        ("Status", "string", "", 0),
        ("Restarts", "string", "", 0),
        ("Age", "string", "", 0),
        ("IP", "string", "", 1),
        ("Node", "string", "", 1),
        ("Nominated Node", "string", "", 1),
        ("Readiness Gates", "string", "", 1),
    ]


def test_pod_template_cells() -> None:
    obj = {
        "metadata": {"name": "tmpl"},
        "template": {
            "metadata": {"labels": {"b": "2", "a": "1"}},
            "spec": {"containers": [{"name": "x", "image": "busybox"}, {"name": "y", "image": "nginx"}]},
        },
    }
    assert table_for("", "PodTemplate", [obj], now=NOW)["rows"][0]["cells"] == [
        "tmpl",
        "x,y",
        "busybox,nginx",
        "a=1,b=2",
    ]
