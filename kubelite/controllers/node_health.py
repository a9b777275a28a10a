"""When a node counts as silent, and what the node lifecycle loop then says for it
(upstream's tryUpdateNodeHealth in pkg/controller/nodelifecycle).

The loop never compares a kubelet's timestamps with its own clock, which may differ:
it notes *its own* time whenever it sees something new from the kubelet — the Ready
condition's lastHeartbeatTime or status changed, or the node's Lease renewed — and
calls that the probe time. A node whose probe time is older than the grace period
(node-monitor-grace-period, 40 s; node-startup-grace-period, 60 s, while the node has
never posted a Ready condition) is silent: each of its kubelet-owned conditions
(Ready, MemoryPressure, DiskPressure, PIDPressure) becomes Unknown with reason
NodeStatusUnknown, "Kubelet stopped posting node status." (missing ones are added
with NodeStatusNeverUpdated, "Kubelet never posted node status."), keeping their
lastHeartbeatTime, so the loop's own write is never taken for a heartbeat.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from kubelite.controllers.node_taints import node_condition
from kubelite.controllers.pods import Obj

KUBELET_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
STOPPED = ("NodeStatusUnknown", "Kubelet stopped posting node status.")
NEVER = ("NodeStatusNeverUpdated", "Kubelet never posted node status.")


@dataclass(slots=True)
class Probe:
    """What the loop last saw from one node's kubelet, and when it saw it."""

    time: datetime.datetime
    heartbeat: tuple[str, str] | None  # the Ready condition's (status, lastHeartbeatTime)
    renew_time: str  # the Lease's spec.renewTime


def ready_heartbeat(node: Obj) -> tuple[str, str] | None:
    cond = node_condition(node, "Ready")
    if cond is None:
        return None
    return str(cond.get("status")), str(cond.get("lastHeartbeatTime") or "")


def renew_time(lease: Obj | None) -> str:
    return str(((lease or {}).get("spec") or {}).get("renewTime") or "")


def observe(probe: Probe | None, node: Obj, lease: Obj | None,
            now: datetime.datetime) -> Probe:
    """The probe after looking at the node and its Lease now. RFC 3339 stamps of one
    precision compare as strings, and a renewal only ever moves renewTime forward."""
    heartbeat, renewed = ready_heartbeat(node), renew_time(lease)
    if probe is None:
        return Probe(now, heartbeat, renewed)
    if heartbeat != probe.heartbeat:
        # the loop's own Unknown write changes the status but not lastHeartbeatTime
        if heartbeat is None or probe.heartbeat is None or heartbeat[1] != probe.heartbeat[1]:
            probe.time = now
        probe.heartbeat = heartbeat
    if renewed and renewed != probe.renew_time:
        probe.time = now
        probe.renew_time = renewed
    return probe


def is_silent(probe: Probe, node: Obj, now: datetime.datetime, *, grace: float,
              startup_grace: float) -> bool:
    limit = grace if probe.heartbeat is not None else startup_grace
    return (now - probe.time).total_seconds() > limit


def unknown_conditions(node: Obj, now: str) -> list[Obj] | None:
    """The node's conditions with the kubelet's ones Unknown; None when they already are."""
    conditions = [dict(c) for c in (node.get("status") or {}).get("conditions") or ()
                  if isinstance(c, dict)]
    changed = False
    for type_ in KUBELET_CONDITIONS:
        cond = next((c for c in conditions if c.get("type") == type_), None)
        if cond is None:
            conditions.append({"type": type_, "status": "Unknown", "reason": NEVER[0],
                               "message": NEVER[1],
                               "lastHeartbeatTime": (node.get("metadata") or {}).get(
                                   "creationTimestamp") or now,
                               "lastTransitionTime": now})
            changed = True
        elif cond.get("status") != "Unknown":
            cond.update(status="Unknown", reason=STOPPED[0], message=STOPPED[1],
                        lastTransitionTime=now)
            changed = True
    return conditions if changed else None
