"""Which pods a ReplicaSet deletes first when it has too many (upstream's getPodsToDelete
and ActivePodsWithRanks.Less, with PodDeletionCost and LogarithmicScaleDown on, as they
are by default). Pods are ordered by the first rule that tells them apart:

  1. unassigned (no nodeName) before assigned;
  2. phase Pending before Unknown before Running;
  3. not ready before ready;
  4. lower `controller.kubernetes.io/pod-deletion-cost` before higher (0 when absent
     or not an int32);
  5. more related active pods on the same node before fewer ("doubled up");
  6. both ready: ready more recently before longer ago, by log2 buckets of the
     nanoseconds since (equal buckets: the lower uid first);
  7. more container restarts before fewer;
  8. created more recently before earlier, by the same log2 buckets (uid breaks a
     tie). A missing time sorts first in 6 and 8.

`related` are the active pods the node rank counts: the ReplicaSet's own, or every
ReplicaSet's of the same Deployment.
"""

from __future__ import annotations

import datetime
import functools
import math
from collections import Counter
from collections.abc import Sequence

from kubelite.controllers.pods import Obj, is_active, is_ready, max_container_restarts, meta, ready_since
from kubelite.machinery.timestamps import parse_rfc3339

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}
_INT32 = range(-(2**31), 2**31)


def deletion_cost(pod: Obj) -> int:
    text = (meta(pod).get("annotations") or {}).get(DELETION_COST)
    if text is None:
        return 0
    try:
        cost = int(str(text), 10)
    except ValueError:
        return 0
    return cost if cost in _INT32 else 0


def _phase(pod: Obj) -> int:
    # an unknown or missing phase ranks with Pending, as the Go map's zero value does
    return _PHASE_ORDINAL.get((pod.get("status") or {}).get("phase") or "", 0)


def _log_rank(moment: datetime.datetime, now: datetime.datetime) -> int:
    nanos = (now - moment) // datetime.timedelta(microseconds=1) * 1000
    return int(math.log2(nanos)) if nanos > 0 else -1


def _recent_first(t1: datetime.datetime | None, t2: datetime.datetime | None,
                  uid1: str, uid2: str, now: datetime.datetime) -> int:
    """-1 when the first time sorts first (later, or missing), 1 when the second does."""
    if t1 is None or t2 is None:
        if t1 is None and t2 is None:
            return 0
        return -1 if t1 is None else 1
    diff = _log_rank(t1, now) - _log_rank(t2, now)
    if diff == 0:
        return -1 if uid1 < uid2 else (1 if uid2 < uid1 else 0)
    return -1 if diff < 0 else 1


def _compare(a: tuple[Obj, int], b: tuple[Obj, int], now: datetime.datetime) -> int:
    (p, rank_p), (q, rank_q) = a, b
    node_p = (p.get("spec") or {}).get("nodeName") or ""
    node_q = (q.get("spec") or {}).get("nodeName") or ""
    if node_p != node_q and (not node_p or not node_q):
        return -1 if not node_p else 1
    if _phase(p) != _phase(q):
        return -1 if _phase(p) < _phase(q) else 1
    if is_ready(p) != is_ready(q):
        return -1 if not is_ready(p) else 1
    if deletion_cost(p) != deletion_cost(q):
        return -1 if deletion_cost(p) < deletion_cost(q) else 1
    if rank_p != rank_q:
        return -1 if rank_p > rank_q else 1
    uid_p, uid_q = str(meta(p).get("uid") or ""), str(meta(q).get("uid") or "")
    if is_ready(p) and is_ready(q):
        since_p, since_q = ready_since(p), ready_since(q)
        if since_p != since_q:
            return _recent_first(since_p, since_q, uid_p, uid_q, now)
    if max_container_restarts(p) != max_container_restarts(q):
        return -1 if max_container_restarts(p) > max_container_restarts(q) else 1
    created_p = parse_rfc3339(str(meta(p).get("creationTimestamp") or ""))
    created_q = parse_rfc3339(str(meta(q).get("creationTimestamp") or ""))
    if created_p != created_q:
        return _recent_first(created_p, created_q, uid_p, uid_q, now)
    return 0


def rank_for_deletion(pods: Sequence[Obj], related: Sequence[Obj],
                      now: datetime.datetime | None = None) -> list[Obj]:
    """`pods` ordered from the first to delete to the last."""
    now = now or datetime.datetime.now(datetime.UTC)
    on_node = Counter((r.get("spec") or {}).get("nodeName") or "" for r in related
                      if is_active(r))
    ranked = [(pod, on_node[(pod.get("spec") or {}).get("nodeName") or ""]) for pod in pods]
    ranked.sort(key=functools.cmp_to_key(functools.partial(_compare, now=now)))
    return [pod for pod, _ in ranked]


def pods_to_delete(pods: Sequence[Obj], related: Sequence[Obj], count: int,
                   now: datetime.datetime | None = None) -> list[Obj]:
    """The `count` pods to delete (all of them when `count` covers them: no ranking)."""
    if count >= len(pods):
        return list(pods)
    return rank_for_deletion(pods, related, now)[:count]
