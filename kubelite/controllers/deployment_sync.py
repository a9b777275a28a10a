"""One sync of one Deployment: the writes shared by every strategy (upstream's
pkg/controller/deployment/sync.go).

- The new ReplicaSet is found (its annotations, minReadySeconds and the deployment's
  revision kept in step) or, when the rollout wants it, created as
  `<name>-<pod-template-hash>` with the hash label added to its selector and template.
  A name taken by a ReplicaSet that is not ours with our template is a hash
  collision: status.collisionCount goes up and the next sync hashes anew.
- Scaling a ReplicaSet writes its size and desired/max-replicas annotations in one
  update, with a ScalingReplicaSet Event worded as upstream's ("Scaled up replica set
  web-7d9bc8f5c4 from 0 to 3").
- A resize of the deployment alone (paused, or no template change: the desired-replicas
  annotations disagree with spec.replicas) is shared out proportionally
  (deployment_scale) without moving the rollout on.
- Old ReplicaSets beyond revisionHistoryLimit are deleted, oldest revision first, once
  they have no replicas and their status has caught up.
- Every write's answer replaces what the sync holds, so later writes in the same sync
  never conflict with the earlier ones.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable

from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.client.rest import Client
from kubelite.controllers.deployment_progress import (
    FAILED_RS_CREATE, FOUND_NEW_RS, NEW_RS_CREATED, PAUSED, PROGRESSING, RESUMED,
    calculate_status, get_condition, has_progress_deadline, new_condition, requeue_after,
    rollout_status, set_condition, TIMED_OUT)
from kubelite.controllers.deployment_scale import scale_plan
from kubelite.controllers.deployment_util import (
    HASH_LABEL, REVISION, active, annotations_of, by_creation, compute_hash,
    desired_replicas_annotation, equal_ignore_hash, find_new_rs,
    find_old_rss, max_revision, max_surge, new_rs_new_replicas,
    replicas, replicas_annotations_need_update, revision, set_new_rs_annotations,
    set_replicas_annotations, status_count)
from kubelite.controllers.pod_control import controller_ref, namespace_terminating
from kubelite.controllers.pods import Obj, controller_of, meta
from kubelite.machinery import errors

RS = "replicasets.apps"
DEPLOYMENTS = "deployments.apps"
SCALING_REPLICA_SET = "ScalingReplicaSet"


class DeploymentSync:
    """The state of one sync: the deployment as last written, its claimed ReplicaSets,
    and the pods of each (by ReplicaSet uid)."""

    def __init__(self, client: Client, recorder: EventRecorder, deployment: Obj,
                 rs_list: list[Obj], pods_by_rs: dict[str, list[Obj]],
                 clock: Callable[[], datetime.datetime],
                 requeue: Callable[[float], None]) -> None:
        self.client = client
        self.recorder = recorder
        self.d = copy.deepcopy(deployment)
        self.rs_list = rs_list
        self.pods_by_rs = pods_by_rs
        self.clock = clock
        self.requeue = requeue

    @property
    def namespace(self) -> str:
        return str(meta(self.d).get("namespace") or "")

    async def write_status(self) -> None:
        self.d = await self.client.update_status(DEPLOYMENTS, self.d, namespace=self.namespace)
        self.d.setdefault("kind", "Deployment")
        self.d.setdefault("apiVersion", "apps/v1")

    # --- the new ReplicaSet ------------------------------------------------------------

    async def all_rss_and_sync_revision(self, create: bool) -> tuple[Obj | None, list[Obj]]:
        old_rss = find_old_rss(self.d, self.rs_list)
        new_rs = await self._new_rs(old_rss, create)
        return new_rs, old_rss

    async def _new_rs(self, old_rss: list[Obj], create: bool) -> Obj | None:
        existing = find_new_rs(self.d, self.rs_list)
        new_revision = max_revision(old_rss) + 1
        if existing is not None:
            rs = copy.deepcopy(existing)
            changed = set_new_rs_annotations(self.d, rs, new_revision, exists=True)
            min_ready = int(self.d["spec"].get("minReadySeconds") or 0)
            if changed or int(rs["spec"].get("minReadySeconds") or 0) != min_ready:
                rs["spec"]["minReadySeconds"] = min_ready
                return await self._replace(await self.client.update(RS, rs,
                                                                    namespace=self.namespace))
            needs_update = self._set_revision(annotations_of(rs).get(REVISION, ""))
            if has_progress_deadline(self.d) and get_condition(
                    self.d.get("status") or {}, PROGRESSING) is None:
                set_condition(self.d.setdefault("status", {}), new_condition(
                    PROGRESSING, "True", FOUND_NEW_RS,
                    f'Found new replica set "{meta(rs)["name"]}"', self.clock()))
                needs_update = True
            if needs_update:
                await self.write_status()
            return rs
        if not create:
            return None
        return await self._create_new_rs(old_rss, new_revision)

    async def _create_new_rs(self, old_rss: list[Obj], new_revision: int) -> Obj | None:
        spec = self.d["spec"]
        status = self.d.setdefault("status", {})
        template = copy.deepcopy(spec.get("template") or {})
        pod_hash = compute_hash(template, status.get("collisionCount"))
        template.setdefault("metadata", {})["labels"] = {
            **(template["metadata"].get("labels") or {}), HASH_LABEL: pod_hash}
        selector = copy.deepcopy(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
        name = f"{meta(self.d)['name']}-{pod_hash}"
        rs: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                   "metadata": {"name": name, "namespace": self.namespace,
                                "labels": dict(template["metadata"]["labels"]),
                                "ownerReferences": [controller_ref(self.d)]},
                   "spec": {"replicas": 0, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                            "selector": selector, "template": template}}
        rs["spec"]["replicas"] = new_rs_new_replicas(self.d, [*old_rss, rs], rs)
        set_new_rs_annotations(self.d, rs, new_revision, exists=False)
        created: Obj | None = None
        try:
            created = await self.client.create(RS, rs, namespace=self.namespace)
        except errors.AlreadyExists:
            found = next((r for r in self.rs_list if meta(r)["name"] == name), None)
            if found is None:
                found = await self.client.get(RS, name, namespace=self.namespace)
            ref = controller_of(found)
            if ref is not None and ref.get("uid") == meta(self.d).get("uid") and \
                    equal_ignore_hash(found["spec"]["template"], spec.get("template") or {}):
                return found  # made by an earlier sync our cache had not seen
            status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
            await self.write_status()
            raise
        except errors.StatusError as err:
            if namespace_terminating(err):
                raise
            message = f'Failed to create new replica set "{name}": {err}'
            if has_progress_deadline(self.d):
                set_condition(status, new_condition(PROGRESSING, "False", FAILED_RS_CREATE,
                                                    message, self.clock()))
                try:
                    await self.write_status()
                except errors.StatusError:
                    pass  # the failure to create is the news
            self.recorder.event(self.d, WARNING, FAILED_RS_CREATE, message)
            raise
        self.rs_list.append(created)
        if replicas(created) > 0:
            self.recorder.event(self.d, NORMAL, SCALING_REPLICA_SET,
                                f"Scaled up replica set {name} from 0 to {replicas(created)}")
        self._set_revision(str(new_revision))
        if has_progress_deadline(self.d):
            set_condition(self.d["status"], new_condition(
                PROGRESSING, "True", NEW_RS_CREATED, f'Created new replica set "{name}"',
                self.clock()))
        await self.write_status()
        return created

    def _set_revision(self, value: str) -> bool:
        """SetDeploymentRevision: the deployment's revision annotation follows its new
        ReplicaSet's."""
        if not value or annotations_of(self.d).get(REVISION) == value:
            return False
        self.d["metadata"]["annotations"] = {**annotations_of(self.d), REVISION: value}
        return True

    async def _replace(self, rs: Obj) -> Obj:
        self.rs_list = [rs if meta(r).get("uid") == meta(rs).get("uid") else r
                        for r in self.rs_list]
        return rs

    # --- scaling -----------------------------------------------------------------------

    async def scale_and_record(self, rs: Obj, new_scale: int) -> tuple[bool, Obj]:
        if replicas(rs) == new_scale:
            return False, rs
        return await self.scale_rs(rs, new_scale, "up" if replicas(rs) < new_scale else "down")

    async def scale_rs(self, rs: Obj, new_scale: int, operation: str) -> tuple[bool, Obj]:
        desired = replicas(self.d)
        most = desired + max_surge(self.d)
        size_changes = replicas(rs) != new_scale
        if not size_changes and not replicas_annotations_need_update(rs, desired, most):
            return False, rs
        old_scale = replicas(rs)
        changed = copy.deepcopy(rs)
        changed["spec"]["replicas"] = new_scale
        set_replicas_annotations(changed, desired, most)
        written = await self._replace(await self.client.update(RS, changed,
                                                               namespace=self.namespace))
        if size_changes:
            self.recorder.event(self.d, NORMAL, SCALING_REPLICA_SET,
                                f"Scaled {operation} replica set {meta(written)['name']} "
                                f"from {old_scale} to {new_scale}")
        return size_changes, written

    async def scale(self, new_rs: Obj | None, old_rss: list[Obj]) -> None:
        steps, operation = scale_plan(self.d, new_rs, old_rss)
        for rs, size in steps:
            if operation is None:
                await self.scale_and_record(rs, size)
            else:
                await self.scale_rs(rs, size, operation)

    async def is_scaling_event(self) -> bool:
        new_rs, old_rss = await self.all_rss_and_sync_revision(create=False)
        return any(desired_replicas_annotation(rs) not in (None, replicas(self.d))
                   for rs in active([*old_rss, new_rs]))

    # --- history, pausing and status ---------------------------------------------------

    async def cleanup(self, old_rss: list[Obj]) -> None:
        limit = self.d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in old_rss if not meta(rs).get("deletionTimestamp")]
        surplus = len(alive) - int(limit)
        if surplus <= 0:
            return
        for rs in sorted(alive, key=lambda r: (revision(r), by_creation(r)))[:surplus]:
            if status_count(rs, "replicas") != 0 or replicas(rs) != 0 or \
                    int(meta(rs).get("generation") or 0) > status_count(rs, "observedGeneration"):
                continue
            try:
                await self.client.delete(RS, meta(rs)["name"], namespace=self.namespace)
            except errors.NotFound:
                pass

    async def check_paused_conditions(self) -> None:
        if not has_progress_deadline(self.d):
            return
        condition = get_condition(self.d.get("status") or {}, PROGRESSING)
        if condition is not None and condition.get("reason") == TIMED_OUT:
            return  # a missed deadline stays reported
        paused_shown = condition is not None and condition.get("reason") == PAUSED
        paused = bool(self.d["spec"].get("paused"))
        if paused == paused_shown:
            return
        reason, message = (PAUSED, "Deployment is paused") if paused else (
            RESUMED, "Deployment is resumed")
        set_condition(self.d.setdefault("status", {}), new_condition(
            PROGRESSING, "Unknown", reason, message, self.clock()))
        await self.write_status()

    async def sync(self) -> None:
        """A resize or a paused deployment: scale, no rollout."""
        new_rs, old_rss = await self.all_rss_and_sync_revision(create=False)
        await self.scale(new_rs, old_rss)
        if self.d["spec"].get("paused"):
            await self.cleanup(old_rss)
        await self.sync_status()

    async def sync_status(self) -> None:
        new_rs, old_rss = find_new_rs(self.d, self.rs_list), find_old_rss(self.d, self.rs_list)
        all_rss = [*old_rss, *([new_rs] if new_rs is not None else [])]
        status = calculate_status(all_rss, new_rs, self.d, self.clock())
        if status != self.d.get("status"):
            self.d["status"] = status
            await self.write_status()

    async def sync_rollout_status(self) -> None:
        new_rs, old_rss = find_new_rs(self.d, self.rs_list), find_old_rss(self.d, self.rs_list)
        all_rss = [*old_rss, *([new_rs] if new_rs is not None else [])]
        now = self.clock()
        status = rollout_status(all_rss, new_rs, self.d, now)
        if status == (self.d.get("status") or {}):
            if (delay := requeue_after(self.d, status, now)) is not None:
                self.requeue(delay)
            return
        self.d["status"] = status
        await self.write_status()
