"""The pod statuses a simulated kubelet reports, built as pure functions.

Shapes follow upstream's kubelet (pkg/kubelet/kubelet_pods.go generateAPIPodStatus,
pkg/kubelet/status/generate.go): a running pod has its IPs, startTime, one status per
container (running, ready, started, with an imageID and a `simulated://` containerID),
finished init containers (terminated, exit 0, Completed; a sidecar init container,
restartPolicy Always, runs instead) and the conditions PodReadyToStartContainers,
Initialized, Ready and ContainersReady all True. A finished pod has terminated
containers (exit 0: Completed, else Error), Ready and ContainersReady False with
reason PodCompleted when it Succeeded or ContainersNotReady when it Failed, and its
sandbox gone (PodReadyToStartContainers False).

The `sim.kubelite.io/exit-after` annotation (a Go duration) makes the containers exit
that long after they started, with `sim.kubelite.io/exit-code` (default 0).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from kubelite.api.protobuf.wellknown import parse_duration
from kubelite.api.qos import qos_class
from kubelite.kubelet.simulated.nodes import RUNTIME_VERSION

Obj = dict[str, Any]

EXIT_AFTER = "sim.kubelite.io/exit-after"
EXIT_CODE = "sim.kubelite.io/exit-code"
RUNTIME_SCHEME = RUNTIME_VERSION.split(":", 1)[0]  # "simulated"
KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")

def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string (time.ParseDuration): `5s`, `1m30s`, `1.5h`,
    `300ms`, `0`; ValueError for anything else."""
    return parse_duration(text.strip()) / 1e9


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """When a pod's containers exit, and with which code."""

    after: float
    code: int


def exit_plan(pod: Obj) -> ExitPlan | None:
    """The pod's exit-after plan, None without one. A malformed annotation is an error
    the caller reports (as an Event would); it never crashes the simulator."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    after = annotations.get(EXIT_AFTER)
    if after is None:
        return None
    seconds = parse_go_duration(str(after))
    if seconds < 0:
        raise ValueError(f"{EXIT_AFTER} must not be negative, not {after!r}")
    code_text = str(annotations.get(EXIT_CODE, "0")).strip()
    try:
        code = int(code_text)
    except ValueError:
        raise ValueError(f"{EXIT_CODE} must be an integer, not {code_text!r}") from None
    if not 0 <= code <= 255:
        raise ValueError(f"{EXIT_CODE} must be within 0..255, not {code}")
    return ExitPlan(seconds, code)


def restarts_after_exit(restart_policy: str, code: int) -> bool:
    """Whether the kubelet restarts a container that exited with `code`."""
    if restart_policy == "Never":
        return False
    if restart_policy == "OnFailure":
        return code != 0
    return True  # Always, the default


def image_id(image: str) -> str:
    digest = hashlib.sha256(image.encode()).hexdigest()
    return f"{image.split('@', 1)[0]}@sha256:{digest}"


def container_id(pod_uid: str, name: str, restart_count: int) -> str:
    digest = hashlib.sha256(f"{pod_uid}/{name}/{restart_count}".encode()).hexdigest()
    return f"{RUNTIME_SCHEME}://{digest}"


def _terminated(code: int, started: str, finished: str, cid: str) -> Obj:
    return {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                           "startedAt": started, "finishedAt": finished,
                           "containerID": cid}}


def _condition(type_: str, status: str, now: str, reason: str | None = None,
               message: str | None = None) -> Obj:
    out: Obj = {"type": type_, "status": status, "lastProbeTime": None,
                "lastTransitionTime": now}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def _merge_conditions(old: list[Obj], new: list[Obj]) -> list[Obj]:
    """The kubelet's conditions replace its own types, keeping their transition time
    when the status did not change; others (PodScheduled, DisruptionTarget) stay."""
    before = {c.get("type"): c for c in old if isinstance(c, dict)}
    merged = []
    for cond in new:
        prior = before.get(cond["type"])
        if prior is not None and prior.get("status") == cond["status"]:
            cond["lastTransitionTime"] = prior.get("lastTransitionTime",
                                                   cond["lastTransitionTime"])
        merged.append(cond)
    merged += [c for c in old if isinstance(c, dict) and c.get("type") not in KUBELET_CONDITIONS]
    return merged


def _uid(pod: Obj) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")


def running_status(pod: Obj, *, host_ip: str, pod_ip: str, now: str) -> Obj:
    """The status of a pod whose containers have just started."""
    spec = pod.get("spec") or {}
    old = pod.get("status") or {}
    uid = _uid(pod)
    init_statuses = []
    for c in spec.get("initContainers") or ():
        cid = container_id(uid, c["name"], 0)
        base = {"name": c["name"], "image": c.get("image", ""),
                "imageID": image_id(c.get("image", "")), "containerID": cid,
                "restartCount": 0}
        if c.get("restartPolicy") == "Always":  # a sidecar keeps running
            init_statuses.append({**base, "ready": True, "started": True,
                                  "state": {"running": {"startedAt": now}}})
        else:
            init_statuses.append({**base, "ready": True, "started": False,
                                  "state": _terminated(0, now, now, cid)})
    statuses = [{"name": c["name"], "image": c.get("image", ""),
                 "imageID": image_id(c.get("image", "")),
                 "containerID": container_id(uid, c["name"], 0), "ready": True,
                 "started": True, "restartCount": 0,
                 "state": {"running": {"startedAt": now}}}
                for c in spec.get("containers") or ()]
    conditions = [_condition(t, "True", now) for t in KUBELET_CONDITIONS]
    status: Obj = {
        "phase": "Running",
        "conditions": _merge_conditions(old.get("conditions") or [], conditions),
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
        "startTime": old.get("startTime") or now,
        "containerStatuses": statuses,
        "qosClass": old.get("qosClass") or qos_class(pod),
    }
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    return status


def kubelet_conditions_hold(pod: Obj) -> bool:
    """Whether the pod shows the conditions a running simulated pod has (all True):
    someone else (the node lifecycle loop marking it NotReady) may have changed them."""
    have = {c.get("type"): c.get("status") for c in (pod.get("status") or {}).get("conditions")
            or () if isinstance(c, dict)}
    return all(have.get(t) == "True" for t in KUBELET_CONDITIONS)


def restored_conditions(pod: Obj, *, now: str) -> Obj:
    """The status patch putting a running pod's kubelet conditions back, as a kubelet's
    status manager rewrites a status that differs from what it last posted."""
    old = (pod.get("status") or {}).get("conditions") or []
    return {"conditions": _merge_conditions(
        old, [_condition(t, "True", now) for t in KUBELET_CONDITIONS])}


def restarted_status(pod: Obj, *, code: int, now: str) -> Obj:
    """The status after every container exited with `code` and was started again."""
    status = dict(pod.get("status") or {})
    uid = _uid(pod)
    statuses = []
    for cs in status.get("containerStatuses") or ():
        count = int(cs.get("restartCount") or 0)
        started = ((cs.get("state") or {}).get("running") or {}).get("startedAt", now)
        statuses.append({**cs, "restartCount": count + 1,
                         "containerID": container_id(uid, cs["name"], count + 1),
                         "lastState": _terminated(code, started, now, cs.get("containerID", "")),
                         "state": {"running": {"startedAt": now}}})
    status["containerStatuses"] = statuses
    return status


def finished_status(pod: Obj, *, code: int, now: str) -> Obj:
    """The status of a pod whose containers all exited with `code` for good:
    Succeeded for 0, Failed otherwise."""
    status = dict(pod.get("status") or {})
    statuses = []
    for cs in status.get("containerStatuses") or ():
        state = cs.get("state") or {}
        if "terminated" in state:
            statuses.append(cs)
            continue
        started = (state.get("running") or {}).get("startedAt", now)
        statuses.append({**cs, "ready": False, "started": False,
                         "state": _terminated(code, started, now, cs.get("containerID", ""))})
    inits = []
    for cs in status.get("initContainerStatuses") or ():
        running = (cs.get("state") or {}).get("running")
        if running is not None:  # sidecars stop with the pod
            cs = {**cs, "ready": False, "started": False,
                  "state": _terminated(0, running.get("startedAt", now), now,
                                       cs.get("containerID", ""))}
        inits.append(cs)
    if inits:
        status["initContainerStatuses"] = inits
    failed = any(cs["state"]["terminated"]["exitCode"] != 0 for cs in statuses)
    status["containerStatuses"] = statuses
    status["phase"] = "Failed" if failed else "Succeeded"
    if failed:
        names = ", ".join(cs["name"] for cs in statuses)
        unready = ("ContainersNotReady", f"containers with unready status: [{names}]")
        initialized = _condition("Initialized", "True", now)
    else:
        unready = ("PodCompleted", "")
        initialized = _condition("Initialized", "True", now, "PodCompleted")
    conditions = [_condition("PodReadyToStartContainers", "False", now), initialized,
                  _condition("Ready", "False", now, *unready),
                  _condition("ContainersReady", "False", now, *unready)]
    status["conditions"] = _merge_conditions(status.get("conditions") or [], conditions)
    return status


def started_at(pod: Obj) -> str | None:
    """When the pod's containers last started (the latest running startedAt)."""
    times = [((cs.get("state") or {}).get("running") or {}).get("startedAt")
             for cs in (pod.get("status") or {}).get("containerStatuses") or ()]
    present = [t for t in times if t]
    return max(present) if present else None
