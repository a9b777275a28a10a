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
import heapq
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the rules read of one pod, read once: a comparison sort asks each pod
    about log2(n) times, and parsing its times every time was most of the cost."""

    pod: Obj
    assigned: bool
    phase: int
    ready: bool
    cost: int
    related: int
    uid: str
    since: datetime.datetime | None
    since_bucket: int
    restarts: int
    created: datetime.datetime | None
    created_bucket: int


def _facts(pod: Obj, related: int, now: datetime.datetime) -> _Facts:
    ready = is_ready(pod)
    since = ready_since(pod) if ready else None
    created = parse_rfc3339(str(meta(pod).get("creationTimestamp") or ""))
    return _Facts(pod, bool((pod.get("spec") or {}).get("nodeName")), _phase(pod), ready,
                  deletion_cost(pod), related, str(meta(pod).get("uid") or ""),
                  since, _log_rank(since, now) if since is not None else 0,
                  max_container_restarts(pod),
                  created, _log_rank(created, now) if created is not None else 0)


def _recent_first(t1: datetime.datetime | None, t2: datetime.datetime | None,
                  bucket1: int, bucket2: int, uid1: str, uid2: str) -> int:
    """-1 when the first time sorts first (later, or missing), 1 when the second does."""
    if t1 is None or t2 is None:
        if t1 is None and t2 is None:
            return 0
        return -1 if t1 is None else 1
    diff = bucket1 - bucket2
    if diff == 0:
        return -1 if uid1 < uid2 else (1 if uid2 < uid1 else 0)
    return -1 if diff < 0 else 1


def _compare(p: _Facts, q: _Facts) -> int:
    if p.assigned != q.assigned:
        return -1 if not p.assigned else 1
    if p.phase != q.phase:
        return -1 if p.phase < q.phase else 1
    if p.ready != q.ready:
        return -1 if not p.ready else 1
    if p.cost != q.cost:
        return -1 if p.cost < q.cost else 1
    if p.related != q.related:
        return -1 if p.related > q.related else 1
    if p.ready and q.ready and p.since != q.since:
        return _recent_first(p.since, q.since, p.since_bucket, q.since_bucket, p.uid, q.uid)
    if p.restarts != q.restarts:
        return -1 if p.restarts > q.restarts else 1
    if p.created != q.created:
        return _recent_first(p.created, q.created, p.created_bucket, q.created_bucket,
                             p.uid, q.uid)
    return 0


_KEY = functools.cmp_to_key(_compare)


def _ranked(pods: Sequence[Obj], related: Sequence[Obj], now: datetime.datetime | None
            ) -> list[_Facts]:
    now = now or datetime.datetime.now(datetime.UTC)
    on_node = Counter((r.get("spec") or {}).get("nodeName") or "" for r in related
                      if is_active(r))
    return [_facts(pod, on_node[(pod.get("spec") or {}).get("nodeName") or ""], now)
            for pod in pods]


def rank_for_deletion(pods: Sequence[Obj], related: Sequence[Obj],
                      now: datetime.datetime | None = None) -> list[Obj]:
    """`pods` ordered from the first to delete to the last."""
    return [f.pod for f in sorted(_ranked(pods, related, now), key=_KEY)]


def pods_to_delete(pods: Sequence[Obj], related: Sequence[Obj], count: int,
                   now: datetime.datetime | None = None) -> list[Obj]:
    """The `count` pods to delete (all of them when `count` covers them: no ranking)."""
    if count >= len(pods):
        return list(pods)
    # the first `count` of the ranking, without ranking all the rest
    return [f.pod for f in heapq.nsmallest(count, _ranked(pods, related, now), key=_KEY)]
