"""The Recreate strategy (upstream's pkg/controller/deployment/recreate.go): every old
ReplicaSet is scaled to zero, and only when none of their pods is left running (a pod
that has not finished, whatever its phase, counts) is the new ReplicaSet created and
scaled to spec.replicas at once. No old and new pod ever run side by side.
"""

from __future__ import annotations

from kubelite.controllers.deployment_progress import deployment_complete
from kubelite.controllers.deployment_sync import DeploymentSync
from kubelite.controllers.deployment_util import (
    active, find_old_rss, replicas, status_count)
from kubelite.controllers.pods import Obj, meta


async def rollout_recreate(s: DeploymentSync) -> None:
    new_rs, old_rss = await s.all_rss_and_sync_revision(create=False)
    scaled_down = False
    for rs in active(old_rss):
        scaled, _ = await s.scale_and_record(rs, 0)
        scaled_down = scaled_down or scaled
    if scaled_down:
        await s.sync_rollout_status()
        return
    old_rss = find_old_rss(s.d, s.rs_list)  # as just scaled
    if old_pods_running(new_rs, old_rss, s.pods_by_rs):
        await s.sync_rollout_status()
        return
    if new_rs is None:
        new_rs, old_rss = await s.all_rss_and_sync_revision(create=True)
    assert new_rs is not None
    await s.scale_and_record(new_rs, replicas(s.d))
    if deployment_complete(s.d, s.d.get("status") or {}):
        await s.cleanup(old_rss)
    await s.sync_rollout_status()


def old_pods_running(new_rs: Obj | None, old_rss: list[Obj],
                     pods_by_rs: dict[str, list[Obj]]) -> bool:
    if sum(status_count(rs, "replicas") for rs in old_rss) > 0:
        return True
    new_uid = meta(new_rs).get("uid") if new_rs is not None else None
    return any((pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
               for uid, pods in pods_by_rs.items() if uid != new_uid for pod in pods)
