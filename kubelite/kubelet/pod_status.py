"""A pod's API status from what the runtime holds (kubelet_pods.go
generateAPIPodStatus, convertToAPIContainerStatuses, getPhase; pkg/kubelet/status/
generate.go). Pure: the pod, its runtime view, the reasons the last sync could not
start containers, the probe results and the moment in; the status out.

Container states: running (startedAt), terminated (exitCode, reason Completed/Error or
the runtime's, startedAt, finishedAt, containerID `<runtime>://<id>`), or waiting:
PodInitializing while the pod has init containers (ContainerCreating without), or the
reason the sync recorded (ErrImagePull, ImagePullBackOff, CrashLoopBackOff,
CreateContainerConfigError, ...), with the exited instance as lastState.

Phase as getPhase: Pending until initialized and every container started; Running
while one runs (or, restartPolicy Always / OnFailure, while failed ones restart);
with all containers done, Succeeded when all exited 0, else Failed (Never), else
Running (they restart). A failed init container under restartPolicy Never fails the
pod. A terminal phase, once reported, stays.

Conditions: PodReadyToStartContainers (a ready sandbox), Initialized, ContainersReady,
Ready (ContainersReady and every readiness gate True) and PodScheduled, their
lastTransitionTime kept while their status holds; other writers' conditions stay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api.qos import qos_class
from kubelite.kubelet import cri
from kubelite.kubelet.runtime_state import PodRuntime, restart_count
from kubelite.machinery.timestamps import format_time
import datetime

Obj = dict[str, Any]

KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready",
                      "PodScheduled")
TERMINAL = ("Succeeded", "Failed")


@dataclass(frozen=True)
class Waiting:
    """Why the last sync did not start a container (upstream's reasonCache)."""

    reason: str
    message: str = ""


@dataclass(frozen=True)
class ProbeView:
    """The probe results a status needs; defaults for a kubelet without probes."""

    ready: Callable[[str, str], bool] = lambda uid, name: True
    started: Callable[[str, str], bool] = lambda uid, name: True


def _ns_time(ns: int) -> str:
    return format_time(datetime.datetime.fromtimestamp(ns / 1e9, datetime.UTC))


def is_sidecar(container: Obj) -> bool:
    return container.get("restartPolicy") == "Always"


def container_state(status: cri.ContainerStatus, scheme: str) -> Obj:
    if status.state is cri.ContainerState.RUNNING:
        return {"running": {"startedAt": _ns_time(status.started_at)}}
    if status.state is cri.ContainerState.CREATED:
        return {"waiting": {"reason": "ContainerCreating"}}
    if status.state is cri.ContainerState.UNKNOWN:
        return {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                               "message": "The container could not be located when the "
                                          "pod was terminated",
                               "containerID": f"{scheme}://{status.id}"}}
    terminated: Obj = {"exitCode": status.exit_code,
                       "reason": status.reason or ("Completed" if status.exit_code == 0
                                                   else "Error"),
                       "startedAt": _ns_time(status.started_at) if status.started_at else None,
                       "finishedAt": _ns_time(status.finished_at) if status.finished_at else None,
                       "containerID": f"{scheme}://{status.id}"}
    if status.message:
        terminated["message"] = status.message
    return {"terminated": terminated}


def container_statuses(pod: Obj, view: PodRuntime, containers: list[Obj],
                       waiting: Mapping[str, Waiting], probes: ProbeView, scheme: str,
                       default_reason: str) -> list[Obj]:
    uid = pod["metadata"]["uid"]
    out = []
    for spec in containers:
        name = spec["name"]
        latest = view.latest(name)
        previous = view.previous(name)
        status: Obj = {"name": name, "image": spec.get("image", ""), "imageID": "",
                       "ready": False, "started": False, "restartCount": 0,
                       "state": {"waiting": {"reason": default_reason}}, "lastState": {}}
        if latest is not None:
            running = latest.state is cri.ContainerState.RUNNING
            started = running and probes.started(uid, name)
            status.update(
                imageID=latest.image_ref, containerID=f"{scheme}://{latest.id}",
                restartCount=restart_count(latest), state=container_state(latest, scheme),
                started=started, ready=started and probes.ready(uid, name))
            if previous is not None and previous.state is cri.ContainerState.EXITED:
                status["lastState"] = container_state(previous, scheme)
        reason = waiting.get(name)
        if reason is not None and "running" not in status["state"]:
            if "terminated" in status["state"]:
                status["lastState"] = status["state"]
            status["state"] = {"waiting": {"reason": reason.reason,
                                           **({"message": reason.message} if reason.message
                                              else {})}}
        out.append(status)
    return out


def _done(status: Obj) -> bool:
    return "terminated" in status["state"] and status["state"]["terminated"]["exitCode"] == 0


def _failed_init(status: Obj) -> bool:
    state, last = status["state"], status.get("lastState") or {}
    if "terminated" in state:
        return bool(state["terminated"]["exitCode"] != 0)
    return "waiting" in state and bool((last.get("terminated") or {}).get("exitCode"))


def phase(pod: Obj, inits: list[Obj], statuses: list[Obj], init_specs: list[Obj],
          terminal: bool = False) -> str:
    """getPhase. `terminal`: the kubelet has stopped the pod for good (finished,
    deleted, past its deadline): Succeeded when every container exited 0, else Failed."""
    policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    pending_init = failed_init = 0
    for spec, status in zip(init_specs, inits):
        if is_sidecar(spec):
            if not status["started"] and "running" not in status["state"]:
                pending_init += 1
        elif _done(status):
            continue
        elif _failed_init(status):
            failed_init += 1
        else:
            pending_init += 1
    if failed_init and policy == "Never":
        return "Failed"
    any_started = any(s["restartCount"] or "waiting" not in s["state"] for s in statuses)
    running = waiting = stopped = succeeded = 0
    for status in statuses:
        state = status["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif (status.get("lastState") or {}).get("terminated"):
            stopped += 1
        else:
            waiting += 1
    if terminal:
        if running == 0 and stopped and stopped == succeeded and not failed_init:
            return "Succeeded"
        return "Failed"
    if (pending_init or failed_init) and not any_started:
        return "Pending"
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def _condition(type_: str, ok: bool, now: str, reason: str = "", message: str = "") -> Obj:
    out: Obj = {"type": type_, "status": "True" if ok else "False", "lastProbeTime": None,
                "lastTransitionTime": now}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def _conditions(pod: Obj, view: PodRuntime, inits: list[Obj], statuses: list[Obj],
                init_specs: list[Obj], pod_phase: str, now: str) -> list[Obj]:
    old = [c for c in (pod.get("status") or {}).get("conditions") or () if isinstance(c, dict)]
    old_by_type = {c.get("type"): c for c in old}
    completed = pod_phase == "Succeeded"
    incomplete = [spec["name"] for spec, s in zip(init_specs, inits)
                  if not (s["started"] if is_sidecar(spec) else _done(s))]
    if completed or not incomplete:
        initialized = _condition("Initialized", True, now, "PodCompleted" if completed else "")
    else:
        initialized = _condition("Initialized", False, now, "ContainersNotInitialized",
                                 f"containers with incomplete status: [{' '.join(incomplete)}]")
    unready = [s["name"] for s in statuses if not s["ready"]]
    unready += [s["name"] for spec, s in zip(init_specs, inits)
                if is_sidecar(spec) and not s["ready"]]
    if completed:
        containers_ready = _condition("ContainersReady", False, now, "PodCompleted")
    elif unready:
        containers_ready = _condition("ContainersReady", False, now, "ContainersNotReady",
                                      f"containers with unready status: [{' '.join(unready)}]")
    else:
        containers_ready = _condition("ContainersReady", True, now)
    ready = dict(containers_ready, type="Ready")
    if containers_ready["status"] == "True":
        for gate in (pod.get("spec") or {}).get("readinessGates") or ():
            gate_type = gate.get("conditionType", "")
            if (old_by_type.get(gate_type) or {}).get("status") != "True":
                ready = _condition("Ready", False, now, "ReadinessGatesNotReady",
                                   f'corresponding condition of pod readiness gate "{gate_type}" '
                                   f"does not exist." if gate_type not in old_by_type else
                                   f'the status of pod readiness gate "{gate_type}" is not "True", '
                                   f'but {old_by_type[gate_type].get("status")}')
                break
    sandbox_ok = view.ready_sandbox is not None and pod_phase not in TERMINAL
    ours = [_condition("PodReadyToStartContainers", sandbox_ok, now), initialized,
            containers_ready, ready]
    scheduled = old_by_type.get("PodScheduled") or _condition("PodScheduled", True, now)
    merged = []
    for condition in ours:
        prior = old_by_type.get(condition["type"])
        if prior is not None and prior.get("status") == condition["status"]:
            condition["lastTransitionTime"] = prior.get("lastTransitionTime",
                                                        condition["lastTransitionTime"])
        merged.append(condition)
    merged.append(scheduled)
    merged += [c for c in old if c.get("type") not in KUBELET_CONDITIONS]
    return merged


def generate(pod: Obj, view: PodRuntime, *, host_ip: str, scheme: str, now: str,
             waiting: Mapping[str, Waiting] | None = None,
             probes: ProbeView = ProbeView(), failure: tuple[str, str] | None = None,
             terminal: bool = False) -> Obj:
    """The pod's status. `terminal`: the kubelet stopped the pod for good (phase()).
    `failure` (reason, message) makes the pod Failed (DeadlineExceeded); a pod already
    terminal stays as it was reported."""
    spec = pod.get("spec") or {}
    old = pod.get("status") or {}
    waiting = waiting or {}
    init_specs = list(spec.get("initContainers") or ())
    specs = list(spec.get("containers") or ())
    default = "PodInitializing" if init_specs else "ContainerCreating"
    inits = container_statuses(pod, view, init_specs, waiting, probes, scheme, default)
    statuses = container_statuses(pod, view, specs, waiting, probes, scheme, default)
    pod_phase = phase(pod, inits, statuses, init_specs, terminal)
    if old.get("phase") in TERMINAL:
        pod_phase = old["phase"]
    elif failure is not None:
        pod_phase = "Failed"
    sandbox = view.sandbox
    pod_ips = list(sandbox.ips) if sandbox is not None and sandbox.ips else []
    if sandbox is not None and (sandbox.host_network or spec.get("hostNetwork")):
        pod_ips = [host_ip]
    if not pod_ips:
        pod_ips = [p["ip"] for p in old.get("podIPs") or () if isinstance(p, dict) and p.get("ip")]
    status: Obj = {
        "phase": pod_phase,
        "conditions": _conditions(pod, view, inits, statuses, init_specs, pod_phase, now),
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "startTime": old.get("startTime") or now,
        "qosClass": qos_class(pod),
        "containerStatuses": statuses,
    }
    if pod_ips:
        status["podIP"] = pod_ips[0]
        status["podIPs"] = [{"ip": ip} for ip in pod_ips]
    if init_specs:
        status["initContainerStatuses"] = inits
    if failure is not None and old.get("phase") not in TERMINAL:
        status["reason"], status["message"] = failure
    elif old.get("phase") in TERMINAL:
        for key in ("reason", "message"):
            if old.get(key):
                status[key] = old[key]
    return status
