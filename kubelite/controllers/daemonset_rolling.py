"""A DaemonSet's RollingUpdate, one step per sync (upstream's pkg/controller/daemon/update.go
rollingUpdate and util.UnavailableCount / SurgeCount, and the surge rule of
podsShouldBeOnNode).

- maxUnavailable (maxSurge 0): old pods are deleted (the manage step then creates
  the new one) while fewer than maxUnavailable nodes lack an available pod; an old
  pod that is not available is replaced at once, as it costs no availability.
- maxSurge: a new pod is created beside the old one on up to maxSurge nodes at a time
  (at once where the old one is unavailable); the old one is deleted once the new
  one is available.
- Both are scaled against the number of nodes that should run the pod, rounding up;
  when both come to 0, maxUnavailable is 1 so a rollout can move.
- OnDelete: nothing here; pods are replaced only once a user deletes them.
Pure: reads the pods by node and returns what to delete and where to create.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from kubelite.controllers.deployment_util import scaled_value
from kubelite.controllers.pods import Obj, is_available, is_ready, meta

NodePods = dict[str, list[Obj]]
HASH_LABEL = "controller-revision-hash"


def is_rolling(ds: Obj) -> bool:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    return (strategy.get("type") or "RollingUpdate") == "RollingUpdate"


def _rolling_update(ds: Obj) -> Obj:
    if not is_rolling(ds):
        return {}
    out: Obj = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    return out


def _value(value: Any, default: Any) -> Any:
    return default if value is None else value


def surge(ds: Obj, desired: int) -> int:
    """How many nodes may run an extra new pod (0: surge is off)."""
    return scaled_value(_value(_rolling_update(ds).get("maxSurge"), 0), desired, True)


def unavailable(ds: Obj, desired: int) -> int:
    rolling = _rolling_update(ds)
    max_unavailable = scaled_value(_value(rolling.get("maxUnavailable"), 1), desired, True)
    if max_unavailable == 0 and surge(ds, desired) == 0:
        return 1
    return max_unavailable


def is_updated(pod: Obj, hash_: str) -> bool:
    return (meta(pod).get("labels") or {}).get(HASH_LABEL) == hash_


def updated_and_old(pods: list[Obj], hash_: str) -> tuple[Obj | None, Obj | None, bool]:
    """findUpdatedPodsOnNode: the node's new pod and old pod; False when it has more
    than one of either (the manage step tidies that first)."""
    new: Obj | None = None
    old: Obj | None = None
    for pod in pods:
        if meta(pod).get("deletionTimestamp"):
            continue
        if is_updated(pod, hash_):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def surge_excess(ds: Obj, running: list[Obj], hash_: str,
                 now: datetime.datetime) -> list[Obj]:
    """With surge, of several running pods on a node keep the oldest new one and the
    oldest old one, and the old one only while the new one is not yet available."""
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    doomed: list[Obj] = []
    oldest_new: Obj | None = None
    oldest_old: Obj | None = None
    for pod in running:  # oldest first
        if is_updated(pod, hash_) and oldest_new is None:
            oldest_new = pod
        elif not is_updated(pod, hash_) and oldest_old is None:
            oldest_old = pod
        else:
            doomed.append(pod)
    if oldest_new is not None and oldest_old is not None and (
            not is_ready(oldest_old) or is_available(oldest_new, min_ready, now)):
        doomed.append(oldest_old)
    return doomed


def rolling_update_step(ds: Obj, desired: int, node_pods: NodePods, hash_: str,
                        now: datetime.datetime,
                        should_run: Callable[[str], bool]) -> tuple[list[Obj], list[str]]:
    """(old pods to delete, nodes to create a new pod on) for one step."""
    if not is_rolling(ds):
        return [], []
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    max_surge = surge(ds, desired)
    if max_surge == 0:
        return _by_unavailability(node_pods, hash_, now, min_ready,
                                  unavailable(ds, desired)), []
    return _by_surge(node_pods, hash_, now, min_ready, max_surge, should_run)


def _by_unavailability(node_pods: NodePods, hash_: str, now: datetime.datetime,
                       min_ready: int, max_unavailable: int) -> list[Obj]:
    num_unavailable = 0
    allowed: list[Obj] = []
    candidates: list[Obj] = []
    for node in sorted(node_pods):
        new, old, ok = updated_and_old(node_pods[node], hash_)
        if not ok:
            num_unavailable += 1
            continue
        if (old is None) == (new is None):
            continue  # nothing, or both: the manage step decides
        if new is not None:
            if not is_available(new, min_ready, now):
                num_unavailable += 1
            continue
        assert old is not None
        if not is_available(old, min_ready, now):
            allowed.append(old)
        elif num_unavailable < max_unavailable:
            candidates.append(old)
    remaining = max(0, min(max_unavailable - num_unavailable, len(candidates)))
    return allowed + candidates[:remaining]


def _by_surge(node_pods: NodePods, hash_: str, now: datetime.datetime, min_ready: int,
              max_surge: int, should_run: Callable[[str], bool]) -> tuple[list[Obj], list[str]]:
    num_surge = 0
    allowed: list[str] = []
    candidates: list[str] = []
    doomed: list[Obj] = []
    for node in sorted(node_pods):
        new, old, ok = updated_and_old(node_pods[node], hash_)
        if not ok:
            num_surge += 1
            continue
        if old is None:
            continue
        if new is None:
            if not is_available(old, min_ready, now):
                if should_run(node):
                    allowed.append(node)
            elif num_surge < max_surge:
                candidates.append(node)
            continue
        if not is_available(new, min_ready, now):
            num_surge += 1
            continue
        doomed.append(old)
    remaining = max(0, min(max_surge - num_surge, len(candidates)))
    return doomed, allowed + candidates[:remaining]
