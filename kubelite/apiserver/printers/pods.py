"""Pods and pod templates: upstream's printPod and printPodTemplate.

The STATUS cell condenses phase, init-container progress and container states into the
one word `kubectl get pods` shows, in upstream's precedence: the pod's reason (or
phase), then SchedulingGated, then the first init container still in the way
("Init:0/2", "Init:CrashLoopBackOff", "Init:ExitCode:1"), then the last container with
a waiting or terminated reason ("CrashLoopBackOff", "Completed", "ExitCode:137"), and
last the deletion overrides ("Terminating", or "Unknown" for pods on a lost node).
Restartable init containers (sidecars) count toward READY and RESTARTS like regular
containers once started.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.printers.age import ZERO, human_duration, parse_time, since
from kubelite.apiserver.printers.cells import NONE, containers_cells, format_labels, get, meta
from kubelite.apiserver.printers.printer import AGE, NAME, Obj, Printer, column

_SUCCEEDED = [
    {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
]
_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]


def _last_terminated_at(status: Obj) -> int:
    terminated = get(status, "lastState", "terminated")
    return ZERO if terminated is None else parse_time(terminated.get("finishedAt"))


def _terminated_reason(terminated: Obj, prefix: str) -> str:
    reason = terminated.get("reason") or ""
    if reason:
        return prefix + reason
    signal = terminated.get("signal") or 0
    if signal:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{terminated.get('exitCode') or 0}"


def _condition_true(conditions: list[Obj], type_: str) -> bool:
    """First condition of that type decides (isPodInitializedConditionTrue)."""
    for condition in conditions:
        if condition.get("type") == type_:
            return condition.get("status") == "True"
    return False


def _ready_condition_true(conditions: list[Obj]) -> bool:
    """hasPodReadyCondition: any Ready condition that is True."""
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_cells(pod: Obj, now: int) -> list[Any]:
    metadata = meta(pod)
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    conditions = status.get("conditions") or []

    restarts = 0
    sidecar_restarts = 0
    total = len(spec.get("containers") or ())
    ready = 0
    last_restart = ZERO
    last_sidecar_restart = ZERO

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in conditions:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = spec.get("initContainers") or ()
    sidecars: set[str | None] = set()
    for container in init_specs:
        if container.get("restartPolicy") == "Always":
            sidecars.add(container.get("name"))
            total += 1

    initializing = False
    for index, cstatus in enumerate(status.get("initContainerStatuses") or ()):
        count = cstatus.get("restartCount") or 0
        restarts += count
        finished = _last_terminated_at(cstatus)
        if finished > last_restart:
            last_restart = finished
        is_sidecar = cstatus.get("name") in sidecars
        if is_sidecar:
            sidecar_restarts += count
            if finished > last_sidecar_restart:
                last_sidecar_restart = finished
        state = cstatus.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and (terminated.get("exitCode") or 0) == 0:
            continue
        if is_sidecar and cstatus.get("started") is True:
            if cstatus.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        # Walk backwards so the first container's reason wins, as upstream does.
        for cstatus in reversed(status.get("containerStatuses") or ()):
            restarts += cstatus.get("restartCount") or 0
            finished = _last_terminated_at(cstatus)
            if finished > last_restart:
                last_restart = finished
            state = cstatus.get("state") or {}
            terminated = state.get("terminated")
            waiting = state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif cstatus.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        # A container still running after others completed: the pod is not "Completed".
        if reason == "Completed" and has_running:
            reason = "Running" if _ready_condition_true(conditions) else "NotReady"

    if metadata.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart != ZERO:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"

    return [
        metadata.get("name") or "",
        f"{ready}/{total}",
        reason,
        restarts_cell,
        since(metadata.get("creationTimestamp"), now),
        _pod_ip(status) or NONE,
        spec.get("nodeName") or NONE,
        status.get("nominatedNodeName") or NONE,
        _readiness_gates(spec, conditions),
    ]


def _pod_ip(status: Obj) -> str:
    # v1 podIP is authoritative over podIPs[0] (upstream's v1 -> internal conversion).
    ip = status.get("podIP")
    if ip:
        return str(ip)
    ips = status.get("podIPs") or ()
    return (ips[0].get("ip") or "") if ips else ""


def _readiness_gates(spec: Obj, conditions: list[Obj]) -> str:
    gates = spec.get("readinessGates") or ()
    if not gates:
        return NONE
    true_count = 0
    for gate in gates:
        wanted = gate.get("conditionType")
        for condition in conditions:
            if condition.get("type") == wanted:
                if condition.get("status") == "True":
                    true_count += 1
                break
    return f"{true_count}/{len(gates)}"


def pod_conditions(pod: Obj) -> list[Obj] | None:
    phase = get(pod, "status", "phase")
    if phase == "Succeeded":
        return _SUCCEEDED
    if phase == "Failed":
        return _FAILED
    return None


POD = Printer(
    columns=(
        NAME,
        column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
        column("Status", description="The aggregate status of the containers in this pod."),
        column(
            "Restarts",
            description="The number of times the containers in this pod have been restarted "
            "and when the last container in this pod has restarted.",
        ),
        AGE,
        column("IP", description="IP address allocated to the pod.", priority=1),
        column("Node", description="The node the pod is bound to.", priority=1),
        column("Nominated Node", description="The node preemption nominated for this pod.", priority=1),
        column("Readiness Gates", description="Readiness gates met, of those the pod declares.", priority=1),
    ),
    cells=pod_cells,
    conditions=pod_conditions,
)


def pod_template_cells(obj: Obj, now: int) -> list[Any]:
    template = obj.get("template") or {}
    names, images = containers_cells(get(template, "spec", "containers"))
    return [meta(obj).get("name") or "", names, images, format_labels(get(template, "metadata", "labels"))]


POD_TEMPLATE = Printer(
    columns=(
        NAME,
        column("Containers", description="Names of each container in the template."),
        column("Images", description="Images referenced by each container in the template."),
        column("Pod Labels", description="The labels for the pod template."),
    ),
    cells=pod_template_cells,
)

PRINTERS = {("", "Pod"): POD, ("", "PodTemplate"): POD_TEMPLATE}
