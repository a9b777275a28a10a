"""Pod status from the runtime's view, checked against upstream's getPhase and
generateAPIPodStatus outcomes (kubelet_pods_test.go)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.container_config import RESTART_COUNT
from kubelite.kubelet.pod_status import Waiting, generate
from kubelite.kubelet.runtime_state import PodRuntime, group
from kubelite.kubelet.sandbox_config import CONTAINER_NAME_LABEL, POD_UID_LABEL

UID = "uid-1"
RUNNING, EXITED = cri.ContainerState.RUNNING, cri.ContainerState.EXITED
Obj = dict[str, Any]


def _sandbox(ready: bool = True) -> cri.PodSandboxStatus:
    return cri.PodSandboxStatus(
        "sb", cri.PodSandboxMetadata("p", "default", UID),
        cri.SandboxState.READY if ready else cri.SandboxState.NOTREADY, 1,
        ips=("10.42.0.7",), labels={POD_UID_LABEL: UID})


def _container(name: str, state: cri.ContainerState, code: int = 0,
               restarts: int = 0) -> cri.ContainerStatus:
    return cri.ContainerStatus(
        f"{name}-{restarts}", "sb", cri.ContainerMetadata(name, restarts), state,
        created_at=restarts + 1, started_at=1_700_000_000_000_000_000,
        finished_at=1_700_000_001_000_000_000 if state is EXITED else 0, exit_code=code,
        image_ref="sha256:abc", labels={POD_UID_LABEL: UID, CONTAINER_NAME_LABEL: name},
        annotations={RESTART_COUNT: str(restarts)})


def _pod(policy: str = "Always", containers: tuple[str, ...] = ("app",),
         inits: tuple[Obj, ...] = ()) -> Obj:
    return {"metadata": {"name": "p", "namespace": "default", "uid": UID},
            "spec": {"restartPolicy": policy,
                     "containers": [{"name": n, "image": "img"} for n in containers],
                     **({"initContainers": list(inits)} if inits else {})},
            "status": {"phase": "Pending"}}


def _view(*containers: cri.ContainerStatus, ready: bool = True) -> PodRuntime:
    return group(UID, [_sandbox(ready)], list(containers))


def _status(pod: Obj, view: PodRuntime, **options: Any) -> Obj:
    return generate(pod, view, host_ip="192.0.2.1", scheme="runc", now="T", **options)


@pytest.mark.parametrize(("policy", "containers", "waiting", "terminal", "phase"), [
    ("Always", [], {}, False, "Pending"),
    ("Always", [("app", RUNNING, 0)], {}, False, "Running"),
    ("Always", [("app", EXITED, 1)], {}, False, "Running"),
    ("Never", [("app", EXITED, 0)], {}, False, "Succeeded"),
    ("Never", [("app", EXITED, 2)], {}, False, "Failed"),
    ("OnFailure", [("app", EXITED, 2)], {}, False, "Running"),
    ("OnFailure", [("app", EXITED, 0)], {}, False, "Succeeded"),
    ("Always", [("app", EXITED, 1)], {"app": Waiting("CrashLoopBackOff")}, False, "Running"),
    ("Always", [], {"app": Waiting("ErrImagePull")}, False, "Pending"),
    ("Always", [("app", EXITED, 0)], {}, True, "Succeeded"),
    ("Always", [("app", EXITED, 143)], {}, True, "Failed"),
], ids=["nothing-yet", "running", "always-restarting", "never-succeeded", "never-failed",
        "onfailure-restarting", "onfailure-succeeded", "crash-loop", "image-pull",
        "terminated-clean", "terminated-killed"])
def test_phase(policy: str, containers: list[tuple[str, cri.ContainerState, int]],
               waiting: dict[str, Waiting], terminal: bool, phase: str) -> None:
    view = _view(*(_container(n, s, c) for n, s, c in containers))
    status = _status(_pod(policy), view, waiting=waiting, terminal=terminal)
    assert status["phase"] == phase


def test_running_container_status_and_conditions() -> None:
    status = _status(_pod(), _view(_container("app", RUNNING)))
    container = status["containerStatuses"][0]
    assert container == {"name": "app", "image": "img", "imageID": "sha256:abc",
                         "containerID": "runc://app-0", "ready": True, "started": True,
                         "restartCount": 0, "lastState": {},
                         "state": {"running": {"startedAt": "2023-11-14T22:13:20Z"}}}
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"PodReadyToStartContainers": "True", "Initialized": "True",
                          "ContainersReady": "True", "Ready": "True", "PodScheduled": "True"}
    assert (status["podIP"], status["hostIP"]) == ("10.42.0.7", "192.0.2.1")


def test_a_crash_loop_shows_waiting_with_the_exit_as_last_state() -> None:
    view = _view(_container("app", EXITED, 1, restarts=0), _container("app", EXITED, 1, restarts=1))
    status = _status(_pod(), view, waiting={"app": Waiting("CrashLoopBackOff", "back-off 10s")})
    container = status["containerStatuses"][0]
    assert container["state"] == {"waiting": {"reason": "CrashLoopBackOff",
                                              "message": "back-off 10s"}}
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert container["restartCount"] == 1
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["reason"], ready["message"]) == ("ContainersNotReady",
                                                   "containers with unready status: [app]")


def test_init_containers_gate_initialized_and_app_waits_pod_initializing() -> None:
    pod = _pod(inits=({"name": "setup", "image": "img"},
                      {"name": "proxy", "image": "img", "restartPolicy": "Always"}))
    status = _status(pod, _view(_container("setup", RUNNING)))
    assert status["phase"] == "Pending"
    initialized = next(c for c in status["conditions"] if c["type"] == "Initialized")
    assert initialized["message"] == "containers with incomplete status: [setup proxy]"
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    status = _status(pod, _view(_container("setup", EXITED, 0), _container("proxy", RUNNING),
                                _container("app", RUNNING)))
    assert status["phase"] == "Running"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Initialized"] == "True"


def test_a_terminal_phase_stays_and_transition_times_are_kept() -> None:
    pod = _pod("Never")
    pod["status"] = {"phase": "Succeeded", "conditions": [
        {"type": "Initialized", "status": "True", "lastTransitionTime": "EARLIER"},
        {"type": "DisruptionTarget", "status": "True", "lastTransitionTime": "X"}]}
    status = _status(pod, _view(ready=False))
    assert status["phase"] == "Succeeded"
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Initialized"]["lastTransitionTime"] == "EARLIER"
    assert "DisruptionTarget" in conditions


def test_readiness_gates_hold_ready_back() -> None:
    pod = _pod()
    pod["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"}]
    status = _status(pod, _view(_container("app", RUNNING)))
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ReadinessGatesNotReady")
    assert next(c for c in status["conditions"] if c["type"] == "ContainersReady")["status"] == "True"
