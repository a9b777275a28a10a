"""The taints the node lifecycle loop keeps on a node, and how long a pod tolerates
the NoExecute ones (upstream's pkg/controller/nodelifecycle taint templates,
TaintNodesByCondition, and pkg/controller/tainteviction's toleration timing).

- NoSchedule, from the node's conditions and spec: Ready False -> not-ready,
  Ready Unknown -> unreachable, MemoryPressure / DiskPressure / PIDPressure /
  NetworkUnavailable True -> memory-, disk-, pid-pressure, network-unavailable, and
  spec.unschedulable -> unschedulable.
- NoExecute, from the Ready condition alone: False -> not-ready, Unknown ->
  unreachable, True (or none) -> neither.
- `reconciled_taints` changes only the (key, effect) pairs a pass manages: other
  taints stay as they are, a wanted taint already there keeps its timeAdded, a new one
  gets `now`. Taints compare by key and effect, as upstream's TaintSetDiff.
- A pod tolerates a node's NoExecute taints when every one is tolerated; it may stay
  for the smallest tolerationSeconds among the tolerations used (one per taint, the
  first that tolerates it), forever when none of them has tolerationSeconds, and must
  go at once when any says <= 0 or some taint is not tolerated.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubelite.controllers.daemonset_rules import (
    DISK_PRESSURE, MEMORY_PRESSURE, NETWORK_UNAVAILABLE, NOT_READY, PID_PRESSURE,
    UNREACHABLE, UNSCHEDULABLE, tolerates)
from kubelite.controllers.pods import Obj

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"

# condition type -> {status: taint key} (nodeConditionToTaintKeyStatusMap)
CONDITION_TAINTS: dict[str, dict[str, str]] = {
    "Ready": {"False": NOT_READY, "Unknown": UNREACHABLE},
    "MemoryPressure": {"True": MEMORY_PRESSURE},
    "DiskPressure": {"True": DISK_PRESSURE},
    "NetworkUnavailable": {"True": NETWORK_UNAVAILABLE},
    "PIDPressure": {"True": PID_PRESSURE},
}
NO_SCHEDULE_MANAGED = frozenset(
    {(key, NO_SCHEDULE) for by_status in CONDITION_TAINTS.values()
     for key in by_status.values()} | {(UNSCHEDULABLE, NO_SCHEDULE)})
NO_EXECUTE_MANAGED = frozenset({(NOT_READY, NO_EXECUTE), (UNREACHABLE, NO_EXECUTE)})

TaintId = tuple[str, str]


def node_condition(node: Obj, type_: str) -> Obj | None:
    for cond in (node.get("status") or {}).get("conditions") or ():
        if isinstance(cond, dict) and cond.get("type") == type_:
            return cond
    return None


def ready_status(node: Obj) -> str | None:
    """The Ready condition's status ("True", "False", "Unknown"), None without one."""
    cond = node_condition(node, "Ready")
    return None if cond is None else str(cond.get("status"))


def no_schedule_taints(node: Obj) -> set[TaintId]:
    """The NoSchedule taints the node's conditions and spec call for."""
    wanted: set[TaintId] = set()
    for cond in (node.get("status") or {}).get("conditions") or ():
        key = CONDITION_TAINTS.get(str(cond.get("type")), {}).get(str(cond.get("status")))
        if key is not None:
            wanted.add((key, NO_SCHEDULE))
    if (node.get("spec") or {}).get("unschedulable"):
        wanted.add((UNSCHEDULABLE, NO_SCHEDULE))
    return wanted


def no_execute_taints(node: Obj) -> set[TaintId]:
    """The NoExecute taint the Ready condition calls for, if any."""
    key = {"False": NOT_READY, "Unknown": UNREACHABLE}.get(ready_status(node) or "")
    return set() if key is None else {(key, NO_EXECUTE)}


def reconciled_taints(current: Iterable[Obj], wanted: set[TaintId],
                      managed: frozenset[TaintId], now: str) -> list[Obj] | None:
    """The node's taints with the managed ones made `wanted`; None when nothing changes."""
    taints = [t for t in current if isinstance(t, dict)]
    present = {(str(t.get("key")), str(t.get("effect"))) for t in taints}
    kept = [t for t in taints
            if (ident := (str(t.get("key")), str(t.get("effect")))) not in managed
            or ident in wanted]
    added = [{"key": key, "effect": effect, "timeAdded": now}
             for key, effect in sorted(wanted - present)]
    if len(kept) == len(taints) and not added:
        return None
    return kept + added


def used_tolerations(taints: Iterable[Obj], tolerations: list[Obj]
                     ) -> tuple[bool, list[Obj]]:
    """(every taint tolerated, the first toleration tolerating each one) — upstream's
    GetMatchingTolerations."""
    used: list[Obj] = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates(t, taint)), None)
        if match is None:
            return False, []
        used.append(match)
    return True, used


def eviction_delay(taints: list[Obj], tolerations: list[Obj]) -> float | None:
    """Seconds a pod may stay on a node with these NoExecute taints: 0 to go now, None
    to stay for good (getMinTolerationTime)."""
    if not taints:
        return None
    tolerated, used = used_tolerations(taints, tolerations)
    if not tolerated:
        return 0.0
    seconds = [int(t["tolerationSeconds"]) for t in used
               if t.get("tolerationSeconds") is not None]
    if not seconds:
        return None
    return float(max(0, min(seconds)))
