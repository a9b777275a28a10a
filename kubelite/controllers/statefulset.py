"""The StatefulSet loop (upstream's pkg/controller/statefulset: stateful_set.go,
stateful_set_control.go, stateful_pod_control.go).

    statefulsets, pods, controllerrevisions informers ── handlers enqueue the set's key
    orphan pods the set's selector matches, named as its ordinals ── enqueue the set
    sync(namespace/name):
        claim: orphan ControllerRevisions the selector matches are adopted; pods are
            claimed (ref_manager) among those it controls and the orphans: an orphan
            matching the selector and named as one of its ordinals is adopted, a pod
            of its own that no longer matches is released (upstream's ClaimPods with
            isMemberOf), so a set recreated after `--cascade=orphan` takes its pods,
            revisions and claims back instead of making new ones
        claims of the replicas in range: ownership put in line with the retention
            policy (statefulset_ownership, with the adoption helpers)
        revisions: the set's ControllerRevisions (statefulset_revisions); the one whose
            data is the current template is the update revision (made, or renumbered
            newest); status.currentRevision's is the current one
        pods owned by the set split by ordinal: replicas [start, start+N) and condemned
        one pass, as upstream's updateStatefulSet, monotonic (OrderedReady) or not:
            a missing replica: its claims, then the pod at the revision its ordinal gets
                (below the partition, or below currentReplicas, the current one)
            a Failed or Succeeded replica: deleted (recreated on a later sync)
            OrderedReady: stop at the first replica not Running and Ready
            condemned, highest ordinal first: deleted (one at a time when OrderedReady,
                after every replica is healthy); whenScaled=Delete gives their claims
                the pod as owner first, so the garbage collector takes them
            RollingUpdate: from the highest ordinal down to the partition, pods not at
                the update revision are deleted, at most maxUnavailable unavailable;
                OnDelete: pods are replaced only when someone deletes them
        status: replicas, ready, available, current, updated, revisions, collisionCount,
            observedGeneration; a finished rolling update makes update the current
        history: revisions beyond revisionHistoryLimit no live pod uses are deleted

Guarantees: pods are named and created by ordinal, so a crash between writes never
makes two pods of one ordinal (the name is the lock); a sync never acts on a cache
that has not seen its own creations and deletions (expectations, keyed by the set).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Awaitable

from kubelite.client.controller import Controller, PermanentError
from kubelite.client.events import NORMAL, WARNING
from kubelite.client.resource import resolve
from kubelite.client.store import object_key, split_key
from kubelite.controllers.status_writes import write_status
from kubelite.controllers.context import LoopContext
from kubelite.controllers.expectations import ControllerExpectations
from kubelite.controllers.pods import (
    Obj, controller_of, is_available, is_ready, meta, pod_key)
from kubelite.controllers.ref_manager import PodClaimer
from kubelite.controllers.replicaset import ORPHAN, OWNER_INDEX, owner_index
from kubelite.controllers.statefulset_ownership import (
    adopting_sets, claim_revisions, condemned_claim_refs, match_retention_policy, members,
    selector_of)
from kubelite.controllers.statefulset_revisions import Revisions
from kubelite.controllers.statefulset_util import (
    at_current_revision, is_member_of, max_unavailable, new_claim, new_pod, ordinal_of,
    parallel, partition, replicas, retention, revision_of, rolling_update, start_ordinal)
from kubelite.machinery import errors

log = logging.getLogger(__name__)

WORKERS = 5  # upstream's ConcurrentStatefulSetSyncs
RESOURCE = resolve("statefulsets.apps")


def is_finished(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_healthy(pod: Obj) -> bool:
    """Running, Ready and not being deleted (upstream's isHealthy)."""
    return ((pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)
            and not meta(pod).get("deletionTimestamp"))


class StatefulSetLoop:
    name = "statefulset"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.recorder = ctx.recorder("statefulset-controller")
        self.expectations = ControllerExpectations()
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.sets = ctx.informers.informer("statefulsets.apps")
        self.pods = ctx.informers.informer("pods", indexers={OWNER_INDEX: owner_index})
        self.revisions = ctx.informers.informer("controllerrevisions.apps",
                                                indexers={OWNER_INDEX: owner_index})
        self.claims = ctx.informers.informer("persistentvolumeclaims")
        self.sets.add_event_handler(on_add=self._set_changed,
                                    on_update=lambda _old, new: self._set_changed(new),
                                    on_delete=self._set_deleted)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated,
                                    on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.controller.run()

    def _set_changed(self, set_: Obj) -> None:
        self.controller.enqueue(object_key(set_))

    def _set_deleted(self, set_: Obj) -> None:
        self.expectations.forget(object_key(set_))
        self.controller.enqueue(object_key(set_))

    @staticmethod
    def _set_key(pod: Obj) -> str | None:
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "StatefulSet":
            return None
        return f"{meta(pod).get('namespace', '')}/{ref.get('name', '')}"

    def _pod_added(self, pod: Obj) -> None:
        if (key := self._set_key(pod)) is not None:
            self.expectations.creation_observed(key)
            if meta(pod).get("deletionTimestamp"):
                self.expectations.deletion_observed(key, pod_key(pod))
            self.controller.enqueue(key)
            return
        for key in adopting_sets(self.sets.lister, pod):
            self.controller.enqueue(key)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if (old_key := self._set_key(old)) is not None and old_key != self._set_key(new):
            self.controller.enqueue(old_key)  # released, or given to another owner
        if (key := self._set_key(new)) is not None:
            if meta(new).get("deletionTimestamp"):
                self.expectations.deletion_observed(key, pod_key(new))
            self.controller.enqueue(key)
            return
        if meta(old).get("labels") != meta(new).get("labels") \
                or controller_of(old) != controller_of(new):
            for key in adopting_sets(self.sets.lister, new):
                self.controller.enqueue(key)

    def _pod_deleted(self, pod: Obj) -> None:
        if (key := self._set_key(pod)) is not None:
            self.expectations.deletion_observed(key, pod_key(pod))
            self.controller.enqueue(key)

    # --- sync ---------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.sets.lister.get(namespace, name)
        if cached is None:
            self.expectations.forget(key)
            return
        set_ = {**cached, "kind": "StatefulSet", "apiVersion": "apps/v1"}
        uid = str(meta(set_).get("uid") or "")
        try:
            selector = selector_of(set_)
        except errors.StatusError as err:
            raise PermanentError(f"invalid selector: {err}") from None

        def fresh() -> Awaitable[Obj]:
            return self.client.get(RESOURCE, name, namespace=namespace)
        history = Revisions(self.client, set_, await claim_revisions(
            self.client, self.revisions.indexer, set_, selector, fresh))
        current, update = await history.current_and_update()
        claimed = await PodClaimer(
            self.client, set_, selector, fresh, accept=lambda p: is_member_of(set_, p),
        ).claim([*self.pods.indexer.by_index(OWNER_INDEX, uid),
                 *self.pods.indexer.by_index(OWNER_INDEX, ORPHAN + namespace)])
        pods = claimed
        if self.expectations.satisfied(key) and not meta(set_).get("deletionTimestamp"):
            await match_retention_policy(self.client, self.claims.lister, set_, pods)
            await self._update(key, set_, pods, current, update)
            pods = members(self.pods, set_, selector, claimed)
        status = self._status(set_, pods, current, update, history.collision_count)
        if status != {k: (set_.get("status") or {}).get(k) for k in status}:
            try:
                await self._write_status(set_, status)
            except errors.NotFound:
                return
        live = {revision_of(p) for p in pods}
        await history.truncate(live | {status["currentRevision"], status["updateRevision"]})
        min_ready = int((set_.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready > 0 and status["availableReplicas"] != status["readyReplicas"]:
            # ready pods become available minReadySeconds later, with no event then
            self.controller.enqueue_after(key, min_ready)

    async def _update(self, key: str, set_: Obj, pods: list[Obj], current: Obj,
                      update: Obj) -> None:
        start, count = start_ordinal(set_), replicas(set_)
        by_ordinal = {ordinal_of(p): p for p in pods}
        condemned = sorted((p for o, p in by_ordinal.items() if not start <= o < start + count),
                           key=ordinal_of, reverse=True)
        monotonic = not parallel(set_)
        current_replicas = int((set_.get("status") or {}).get("currentReplicas") or 0)
        strategy = rolling_update(set_)
        for ordinal in range(start, start + count):
            pod = by_ordinal.get(ordinal)
            if pod is not None and is_finished(pod) and not meta(pod).get("deletionTimestamp"):
                await self._delete_pod(key, set_, pod)  # recreated on a later sync
                if monotonic:
                    return
                continue
            if pod is None:
                revision = current if at_current_revision(set_, ordinal - start,
                                                          current_replicas) else update
                await self._create_pod(key, set_, revision, ordinal)
                if monotonic:
                    return
                continue
            if monotonic and not is_healthy(pod):
                return  # OrderedReady: the next ordinal waits for this one
        for pod in condemned:
            if meta(pod).get("deletionTimestamp"):
                if monotonic:
                    return
                continue
            if monotonic and any(not is_healthy(p) for p in by_ordinal.values()
                                 if ordinal_of(p) < ordinal_of(pod)):
                return  # scale down only a healthy set, one at a time
            await self._delete_pod(key, set_, pod, condemned=True)
            if monotonic:
                return
        if strategy is None or condemned:
            return
        await self._roll(key, set_, [by_ordinal[o] for o in range(start, start + count)
                                     if o in by_ordinal], update)

    async def _roll(self, key: str, set_: Obj, pods: list[Obj], update: Obj) -> None:
        """Replace pods not at the update revision, highest ordinal first, down to the
        partition, keeping at most maxUnavailable of the set unavailable."""
        if len(pods) < replicas(set_):
            return
        min_ready = int((set_.get("spec") or {}).get("minReadySeconds") or 0)
        now = datetime.datetime.now(datetime.UTC)
        unavailable = sum(1 for p in pods if not is_available(p, min_ready, now)
                          or meta(p).get("deletionTimestamp"))
        budget = max_unavailable(set_) - unavailable
        target = start_ordinal(set_) + partition(set_)
        doomed: list[Obj] = []
        for pod in sorted(pods, key=ordinal_of, reverse=True):
            if ordinal_of(pod) < target or len(doomed) >= budget:
                break
            if revision_of(pod) == meta(update)["name"] or meta(pod).get("deletionTimestamp"):
                continue
            doomed.append(pod)
        self.expectations.expect_deletions(key, [pod_key(p) for p in doomed])
        for pod in doomed:
            await self._delete_pod(key, set_, pod, expected=True)

    # --- writes, with upstream's Events ---------------------------------------------

    async def _create_pod(self, key: str, set_: Obj, revision: Obj, ordinal: int) -> None:
        pod = new_pod(set_, revision, ordinal)
        name, set_name = meta(pod)["name"], meta(set_)["name"]
        namespace = meta(set_).get("namespace", "")
        for template in (set_.get("spec") or {}).get("volumeClaimTemplates") or ():
            claim = new_claim(set_, template, ordinal)
            try:
                await self.client.create("persistentvolumeclaims", claim, namespace=namespace)
            except errors.AlreadyExists:
                continue
            except errors.StatusError as err:
                self.recorder.event(set_, WARNING, "FailedCreate",
                                    f"create Claim {meta(claim)['name']} for Pod {name} in "
                                    f"StatefulSet {set_name} failed error: {err}")
                raise
            self.recorder.event(set_, NORMAL, "SuccessfulCreate",
                                f"create Claim {meta(claim)['name']} Pod {name} in "
                                f"StatefulSet {set_name} success")
        self.expectations.expect_creations(key, 1)
        try:
            await self.client.create("pods", pod, namespace=namespace)
        except errors.StatusError as err:
            self.expectations.creation_observed(key)
            if isinstance(err, errors.AlreadyExists):
                return
            self.recorder.event(set_, WARNING, "FailedCreate",
                                f"create Pod {name} in StatefulSet {set_name} failed "
                                f"error: {err}")
            raise
        self.recorder.event(set_, NORMAL, "SuccessfulCreate",
                            f"create Pod {name} in StatefulSet {set_name} successful")

    async def _delete_pod(self, key: str, set_: Obj, pod: Obj, *,
                          condemned: bool = False, expected: bool = False) -> None:
        namespace, name = meta(pod)["namespace"], meta(pod)["name"]
        if condemned and retention(set_, "whenScaled") == "Delete":
            await self._give_claims_to(set_, pod)
        if not expected:
            self.expectations.expect_deletions(key, [pod_key(pod)])
        try:
            await self.client.delete("pods", name, namespace=namespace,
                                     preconditions={"uid": meta(pod)["uid"]})
        except errors.StatusError as err:
            self.expectations.deletion_observed(key, pod_key(pod))
            if isinstance(err, (errors.NotFound, errors.Conflict)):
                return
            self.recorder.event(set_, WARNING, "FailedDelete",
                                f"delete Pod {name} in StatefulSet {meta(set_)['name']} "
                                f"failed error: {err}")
            raise
        self.recorder.event(set_, NORMAL, "SuccessfulDelete",
                            f"delete Pod {name} in StatefulSet {meta(set_)['name']} "
                            "successful")

    async def _give_claims_to(self, set_: Obj, pod: Obj) -> None:
        """whenScaled=Delete: the condemned pod alone owns its claims, so they go with it."""
        for template in (set_.get("spec") or {}).get("volumeClaimTemplates") or ():
            claim_name = f"{meta(template).get('name', '')}-{meta(pod)['name']}"
            try:
                claim = await self.client.get("persistentvolumeclaims", claim_name,
                                              namespace=meta(pod)["namespace"])
            except errors.NotFound:
                continue
            refs = condemned_claim_refs(set_, pod, claim)
            if refs is None:
                continue
            claim["metadata"]["ownerReferences"] = refs
            await self.client.update("persistentvolumeclaims", claim,
                                     namespace=meta(pod)["namespace"])

    # --- status -------------------------------------------------------------------

    async def _write_status(self, set_: Obj, status: Obj) -> None:
        """Write status, once more over a fresh read when the cache was behind (the
        status is of the generation this sync acted on)."""
        await write_status(self.client, RESOURCE, set_, status)

    @staticmethod
    def _status(set_: Obj, pods: list[Obj], current: Obj, update: Obj,
                collision_count: int) -> Obj:
        min_ready = int((set_.get("spec") or {}).get("minReadySeconds") or 0)
        now = datetime.datetime.now(datetime.UTC)
        created = [p for p in pods if not is_finished(p)]
        current_name, update_name = meta(current)["name"], meta(update)["name"]
        status: Obj = {
            "observedGeneration": meta(set_).get("generation"),
            "replicas": len(created),
            "readyReplicas": sum(1 for p in created if is_ready(p)),
            "availableReplicas": sum(1 for p in created if is_available(p, min_ready, now)),
            "currentReplicas": sum(1 for p in created if revision_of(p) == current_name),
            "updatedReplicas": sum(1 for p in created if revision_of(p) == update_name),
            "currentRevision": current_name, "updateRevision": update_name,
            "collisionCount": collision_count}
        if (rolling_update(set_) is not None and status["updatedReplicas"] == status["replicas"]
                and status["readyReplicas"] == status["replicas"]
                and status["replicas"] == replicas(set_)):
            status["currentReplicas"] = status["updatedReplicas"]
            status["currentRevision"] = update_name
        return status
