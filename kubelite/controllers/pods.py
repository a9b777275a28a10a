"""What the loops ask of a pod (upstream's pkg/api/v1/pod util.go and the pod helpers of
pkg/controller/controller_utils.go), over plain pod dicts.

- active: not Succeeded or Failed and not being deleted (FilterActivePods); only
  active pods count toward a controller's replicas. terminating: being deleted, not
  finished (FilterTerminatingPods).
- ready: condition Ready is True; available: ready for at least minReadySeconds, by
  the condition's lastTransitionTime (IsPodAvailable).
- controller_of: the ownerReference marked controller=true, if any (GetControllerOf).
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.machinery.timestamps import parse_rfc3339

Obj = dict[str, Any]


def meta(obj: Obj) -> Obj:
    out: Obj = obj.get("metadata") or {}
    return out


def pod_key(pod: Obj) -> str:
    m = meta(pod)
    return f"{m.get('namespace', '')}/{m.get('name', '')}"


def is_active(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not meta(pod).get("deletionTimestamp")


def is_terminating(pod: Obj) -> bool:
    """Being deleted and not finished (upstream's IsPodTerminating)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and bool(meta(pod).get("deletionTimestamp"))


def ready_condition(pod: Obj) -> Obj | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition
    return None


def is_ready(pod: Obj) -> bool:
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def ready_since(pod: Obj) -> datetime.datetime | None:
    """When a ready pod became ready (None: not ready, or no transition time)."""
    condition = ready_condition(pod)
    if condition is None or condition.get("status") != "True":
        return None
    return parse_rfc3339(str(condition.get("lastTransitionTime") or ""))


def is_available(pod: Obj, min_ready_seconds: int, now: datetime.datetime) -> bool:
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + datetime.timedelta(seconds=min_ready_seconds) < now


def controller_of(obj: Obj) -> Obj | None:
    for ref in meta(obj).get("ownerReferences") or ():
        if isinstance(ref, dict) and ref.get("controller") is True:
            return ref
    return None


def max_container_restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    return max((int(s.get("restartCount") or 0) for s in statuses if isinstance(s, dict)),
               default=0)
