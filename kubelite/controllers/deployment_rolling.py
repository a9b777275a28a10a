"""The RollingUpdate strategy (upstream's pkg/controller/deployment/rolling.go).

Each sync moves one step and then writes status:

- scale the new ReplicaSet up as far as maxSurge allows (never above spec.replicas):
  total pods stay at most replicas + maxSurge;
- else scale old ReplicaSets down as far as maxUnavailable allows: first their
  unavailable replicas (oldest ReplicaSet first; removing them costs no availability,
  and they would otherwise block the rollout), then available ones while more than
  replicas - maxUnavailable pods are available, the new ReplicaSet's not-yet-available
  pods counted as unavailable, and no ReplicaSet counted as more available than its
  size (unlike upstream, which can count the pods a ReplicaSet is still deleting and
  briefly drop below the limit);
- once the rollout is complete, old ReplicaSets past revisionHistoryLimit go.

The informer brings each ReplicaSet's status change back as a new sync, which takes
the next step.
"""

from __future__ import annotations

from kubelite.controllers.deployment_sync import DeploymentSync
from kubelite.controllers.deployment_progress import deployment_complete
from kubelite.controllers.deployment_util import (
    active, by_creation, max_unavailable, new_rs_new_replicas, replicas, status_count)
from kubelite.controllers.pods import Obj


async def rollout_rolling(s: DeploymentSync) -> None:
    new_rs, old_rss = await s.all_rss_and_sync_revision(create=True)
    assert new_rs is not None  # created when missing
    if await reconcile_new_rs(s, [*old_rss, new_rs], new_rs):
        await s.sync_rollout_status()
        return
    if await reconcile_old_rss(s, [*old_rss, new_rs], active(old_rss), new_rs):
        await s.sync_rollout_status()
        return
    if deployment_complete(s.d, s.d.get("status") or {}):
        await s.cleanup(old_rss)
    await s.sync_rollout_status()


async def reconcile_new_rs(s: DeploymentSync, all_rss: list[Obj], new_rs: Obj) -> bool:
    want = replicas(s.d)
    if replicas(new_rs) == want:
        return False
    if replicas(new_rs) > want:
        return (await s.scale_and_record(new_rs, want))[0]
    return (await s.scale_and_record(new_rs, new_rs_new_replicas(s.d, all_rss, new_rs)))[0]


async def reconcile_old_rss(s: DeploymentSync, all_rss: list[Obj], old_rss: list[Obj],
                            new_rs: Obj) -> bool:
    if sum(replicas(rs) for rs in old_rss) == 0:
        return False  # nothing left to scale down
    all_pods = sum(replicas(rs) for rs in all_rss)
    min_available = replicas(s.d) - max_unavailable(s.d)
    new_unavailable = replicas(new_rs) - status_count(new_rs, "availableReplicas")
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    old_rss, cleaned = await cleanup_unhealthy_replicas(s, old_rss, max_scaled_down)
    scaled = await scale_down_old_rss(s, [*old_rss, new_rs], old_rss)
    return cleaned + scaled > 0


async def cleanup_unhealthy_replicas(s: DeploymentSync, old_rss: list[Obj],
                                     max_cleanup: int) -> tuple[list[Obj], int]:
    old_rss = sorted(old_rss, key=by_creation)
    total = 0
    for i, rs in enumerate(old_rss):
        if total >= max_cleanup:
            break
        unhealthy = replicas(rs) - status_count(rs, "availableReplicas")
        if replicas(rs) == 0 or unhealthy <= 0:
            continue
        count = min(max_cleanup - total, unhealthy)
        _, old_rss[i] = await s.scale_and_record(rs, replicas(rs) - count)
        total += count
    return old_rss, total


def still_available(rs: Obj) -> int:
    """Available pods a ReplicaSet will keep: at most its size. Just scaled down, its
    status still counts the pods it is deleting (its loop writes status from the pods
    it saw before deleting), and counting those would scale the old ReplicaSets down
    a second time, below replicas - maxUnavailable."""
    return min(status_count(rs, "availableReplicas"), replicas(rs))


async def scale_down_old_rss(s: DeploymentSync, all_rss: list[Obj], old_rss: list[Obj]) -> int:
    min_available = replicas(s.d) - max_unavailable(s.d)
    available = sum(still_available(rs) for rs in all_rss)
    if available <= min_available:
        return 0
    to_scale_down = available - min_available
    total = 0
    for rs in sorted(old_rss, key=by_creation):
        if total >= to_scale_down:
            break
        if replicas(rs) == 0:
            continue
        count = min(replicas(rs), to_scale_down - total)
        await s.scale_and_record(rs, replicas(rs) - count)
        total += count
    return total
