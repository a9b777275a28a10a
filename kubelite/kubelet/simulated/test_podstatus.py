from __future__ import annotations

import pytest

from kubelite.kubelet.simulated.podstatus import (
    EXIT_AFTER, EXIT_CODE, ExitPlan, exit_plan, finished_status, kubelet_conditions_hold,
    parse_go_duration, restarted_status, restarts_after_exit, restored_conditions, running_status)


@pytest.mark.parametrize("text, seconds", [
    ("5s", 5.0), ("1m30s", 90.0), ("1.5h", 5400.0), ("300ms", 0.3), ("0", 0.0),
    ("2h45m0.5s", 9900.5), ("-1s", -1.0), ("1us", 1e-6), ("1µs", 1e-6), (".5s", 0.5),
], ids=["seconds", "minutes-seconds", "fractional-hours", "milliseconds", "bare-zero",
        "hours-minutes-seconds", "negative", "microseconds", "micro-sign", "leading-dot"])
def test_parse_go_duration_reads_what_go_reads(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "5x", "s", "1m 30s", "1.2.3s", "-"],
                         ids=["empty", "no-unit", "bad-unit", "no-number", "space",
                              "two-dots", "sign-only"])
def test_parse_go_duration_rejects_what_go_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_duration(text)


def pod(annotations: dict[str, str] | None = None, **spec: object) -> dict[str, object]:
    return {"metadata": {"name": "p", "namespace": "default", "uid": "u1",
                         "annotations": annotations or {}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}], **spec},
            "status": {"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "x"}]}}


@pytest.mark.parametrize("annotations, plan", [
    ({}, None),
    ({EXIT_AFTER: "5s"}, ExitPlan(5.0, 0)),
    ({EXIT_AFTER: "1m30s", EXIT_CODE: "3"}, ExitPlan(90.0, 3)),
], ids=["none", "default-code", "with-code"])
def test_exit_plan_reads_the_annotations(annotations: dict[str, str],
                                         plan: ExitPlan | None) -> None:
    assert exit_plan(pod(annotations)) == plan


@pytest.mark.parametrize("annotations", [
    {EXIT_AFTER: "soon"}, {EXIT_AFTER: "-5s"}, {EXIT_AFTER: "5s", EXIT_CODE: "x"},
    {EXIT_AFTER: "5s", EXIT_CODE: "256"},
], ids=["bad-duration", "negative", "bad-code", "code-out-of-range"])
def test_exit_plan_refuses_malformed_annotations(annotations: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        exit_plan(pod(annotations))


@pytest.mark.parametrize("policy, code, restarts", [
    ("Always", 0, True), ("Always", 1, True), ("OnFailure", 0, False),
    ("OnFailure", 2, True), ("Never", 0, False), ("Never", 1, False),
], ids=["always-0", "always-1", "onfailure-0", "onfailure-2", "never-0", "never-1"])
def test_restart_policy_decides_restarts(policy: str, code: int, restarts: bool) -> None:
    assert restarts_after_exit(policy, code) is restarts


def test_running_status_reports_containers_init_containers_and_conditions() -> None:
    p = pod(initContainers=[{"name": "init", "image": "busybox"},
                            {"name": "sidecar", "image": "envoy", "restartPolicy": "Always"}])
    status = running_status(p, host_ip="198.18.0.1", pod_ip="10.42.0.2", now="T")
    assert status["phase"] == "Running"
    assert status["podIPs"] == [{"ip": "10.42.0.2"}] and status["hostIP"] == "198.18.0.1"
    assert status["qosClass"] == "BestEffort"
    (app,) = status["containerStatuses"]
    assert app["ready"] and app["started"] and app["state"] == {"running": {"startedAt": "T"}}
    assert app["containerID"].startswith("simulated://") and app["imageID"].startswith("nginx@sha256:")
    init, sidecar = status["initContainerStatuses"]
    assert init["state"]["terminated"]["reason"] == "Completed"
    assert "running" in sidecar["state"]
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [
        ("PodReadyToStartContainers", "True"), ("Initialized", "True"), ("Ready", "True"),
        ("ContainersReady", "True"), ("PodScheduled", "True")]


@pytest.mark.parametrize("code, phase, reason", [
    (0, "Succeeded", "PodCompleted"), (1, "Failed", "ContainersNotReady"),
], ids=["exit-0", "exit-1"])
def test_finished_status_is_terminal(code: int, phase: str, reason: str) -> None:
    p = pod()
    p["status"] = running_status(p, host_ip="h", pod_ip="i", now="T0")
    status = finished_status(p, code=code, now="T1")
    assert status["phase"] == phase
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == code
    assert terminated["reason"] == ("Completed" if code == 0 else "Error")
    assert (terminated["startedAt"], terminated["finishedAt"]) == ("T0", "T1")
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", reason)


def test_restarted_status_counts_and_keeps_the_last_state() -> None:
    p = pod()
    p["status"] = running_status(p, host_ip="h", pod_ip="i", now="T0")
    status = restarted_status(p, code=2, now="T1")
    (app,) = status["containerStatuses"]
    assert app["restartCount"] == 1
    assert app["lastState"]["terminated"]["exitCode"] == 2
    assert app["state"] == {"running": {"startedAt": "T1"}}
    assert app["containerID"] != p["status"]["containerStatuses"][0]["containerID"]


def test_conditions_another_writer_changed_are_put_back_and_others_kept() -> None:
    ready = [{"type": t, "status": "True", "lastTransitionTime": "T0"} for t in (
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")]
    scheduled = {"type": "PodScheduled", "status": "True", "lastTransitionTime": "T0"}
    pod = {"status": {"conditions": [*ready, scheduled]}}
    assert kubelet_conditions_hold(pod)
    marked = {"status": {"conditions": [
        *(c if c["type"] != "Ready" else {**c, "status": "False", "lastTransitionTime": "T1"}
          for c in ready), scheduled]}}
    assert not kubelet_conditions_hold(marked)
    restored = {c["type"]: c for c in restored_conditions(marked, now="T2")["conditions"]}
    assert {t: (c["status"], c["lastTransitionTime"]) for t, c in restored.items()} == {
        "PodReadyToStartContainers": ("True", "T0"), "Initialized": ("True", "T0"),
        "Ready": ("True", "T2"), "ContainersReady": ("True", "T0"), "PodScheduled": ("True", "T0")}
