"""The ReplicaSet and ReplicationController loops (upstream's
pkg/controller/replicaset/replica_set.go; its ReplicationController controller wraps the
same code, and so does this module: one class, two `OwnerKind`s).

    pods, replicasets informers ── handlers: observe expectations, enqueue owner key
                                        │
    sync(namespace/name):  owner from the lister (gone: forget expectations)
        claim pods (ref_manager: adopt orphans that match, release ours that do not)
        expectations satisfied and owner not being deleted?
            too few: expect N creations, create in slow-start batches 1, 2, 4, ...
                     (at most 500 per sync); creations never sent are observed here
            too many: rank (deletion_ranking), expect those deletions, delete them
        status from the claimed pods (replicaset_status), written if changed
        an error managing replicas is raised after the status write (retry, backoff)

Guarantees: a sync never creates on a cache that has not yet seen its previous
creations (expectations, or their 5 minute expiry); a pod is counted by one owner only
(its controller ownerReference); all reads are from listers, except the one uncached
read of the owner before adopting.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kubelite.client.controller import Controller, PermanentError
from kubelite.client.resource import Resource, resolve
from kubelite.client.store import object_key, split_key
from kubelite.controllers.context import LoopContext
from kubelite.controllers.deletion_ranking import pods_to_delete
from kubelite.controllers.expectations import ControllerExpectations
from kubelite.controllers.pod_control import PodControl, namespace_terminating
from kubelite.controllers.pods import (
    Obj, controller_of, is_active, is_ready, is_terminating, meta, pod_key)
from kubelite.controllers.ref_manager import PodClaimer
from kubelite.controllers.slow_start import SLOW_START_INITIAL_BATCH, SlowStartFailure, slow_start_batch
from kubelite.controllers.replicaset_status import calculate_status, update_status
from kubelite.machinery import errors, labels

log = logging.getLogger(__name__)

BURST_REPLICAS = 500  # upstream's BurstReplicas: creations or deletions per sync
WORKERS = 5  # upstream's ConcurrentRSSyncs / ConcurrentRCSyncs
OWNER_INDEX = "controller-uid"  # pods by their controller's uid; orphans by namespace
ORPHAN = "orphan/"


def owner_index(pod: Obj) -> list[str]:
    ref = controller_of(pod)
    if ref is not None:
        return [str(ref.get("uid") or "")]
    return [ORPHAN + str(meta(pod).get("namespace") or "")]


def _rs_selector(owner: Obj) -> labels.Selector:
    return labels.selector_from_label_selector((owner.get("spec") or {}).get("selector"))


def _rc_selector(owner: Obj) -> labels.Selector:
    # A ReplicationController's selector is a plain map; empty selects nothing here
    # (the API server defaults it from the template's labels).
    selector = (owner.get("spec") or {}).get("selector") or {}
    return labels.selector_from_set(selector) if selector else labels.nothing()


@dataclass(frozen=True, slots=True)
class OwnerKind:
    name: str  # the loop's name in --controllers
    resource: str
    kind: str
    api_version: str
    component: str  # source.component of its Events
    selector: Callable[[Obj], labels.Selector]
    counts_terminating: bool  # its status has terminatingReplicas


REPLICASET = OwnerKind("replicaset", "replicasets.apps", "ReplicaSet", "apps/v1",
                       "replicaset-controller", _rs_selector, True)
REPLICATIONCONTROLLER = OwnerKind("replicationcontroller", "replicationcontrollers",
                                  "ReplicationController", "v1", "replication-controller",
                                  _rc_selector, False)


class ReplicaSetLoop:
    def __init__(self, ctx: LoopContext, kind: OwnerKind = REPLICASET) -> None:
        self.name = kind.name
        self.kind = kind
        self.client = ctx.client
        self.resource: Resource = resolve(kind.resource)
        self.expectations = ControllerExpectations()
        self.pod_control = PodControl(ctx.client, ctx.recorder(kind.component))
        self.controller: Controller[str] = Controller(kind.name, self.sync, workers=WORKERS)
        self.owners = ctx.informers.informer(kind.resource)
        self.pods = ctx.informers.informer("pods", indexers={OWNER_INDEX: owner_index})
        self.owners.add_event_handler(on_add=self._owner_added, on_update=self._owner_updated,
                                      on_delete=self._owner_deleted)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated,
                                    on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.controller.run()

    # --- event handlers: observe, enqueue ------------------------------------------

    def _owner_added(self, owner: Obj) -> None:
        self.controller.enqueue(object_key(owner))

    def _owner_updated(self, old: Obj, new: Obj) -> None:
        if meta(old).get("uid") != meta(new).get("uid"):
            self._owner_deleted(old)  # deleted and recreated between two events
        self.controller.enqueue(object_key(new))

    def _owner_deleted(self, owner: Obj) -> None:
        key = object_key(owner)
        self.expectations.forget(key)
        self.controller.enqueue(key)

    def _resolve(self, namespace: str, ref: Obj) -> Obj | None:
        """Our owner named by a controller ref, if it is ours and still the same."""
        if ref.get("kind") != self.kind.kind:
            return None
        owner = self.owners.lister.get(namespace, str(ref.get("name") or ""))
        if owner is None or meta(owner).get("uid") != ref.get("uid"):
            return None
        return owner

    def _matching_owners(self, pod: Obj) -> list[Obj]:
        """Our owners in the pod's namespace whose selector matches the pod (an orphan's
        candidates for adoption)."""
        pod_labels = meta(pod).get("labels") or {}
        if not pod_labels:
            return []
        out = []
        for owner in self.owners.lister.list(meta(pod).get("namespace")):
            try:
                if self.kind.selector(owner).matches(pod_labels):
                    out.append(owner)
            except errors.StatusError:
                continue  # an invalid selector matches nothing
        return out

    def _pod_added(self, pod: Obj) -> None:
        if meta(pod).get("deletionTimestamp"):
            self._pod_deleted(pod)  # seen first while terminating: a deletion
            return
        ref = controller_of(pod)
        if ref is not None:
            owner = self._resolve(meta(pod).get("namespace", ""), ref)
            if owner is not None:
                key = object_key(owner)
                self.expectations.creation_observed(key)
                self.controller.enqueue(key)
            return
        for owner in self._matching_owners(pod):
            self.controller.enqueue(object_key(owner))

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if meta(old).get("resourceVersion") == meta(new).get("resourceVersion"):
            return  # a resync: nothing changed
        labels_changed = meta(old).get("labels") != meta(new).get("labels")
        if meta(new).get("deletionTimestamp"):
            self._pod_deleted(new)
            if labels_changed:
                self._pod_deleted(old)
            return
        namespace = meta(new).get("namespace", "")
        old_ref, new_ref = controller_of(old), controller_of(new)
        ref_changed = old_ref != new_ref
        if ref_changed and old_ref is not None:
            if (owner := self._resolve(namespace, old_ref)) is not None:
                self.controller.enqueue(object_key(owner))
        if new_ref is not None:
            owner = self._resolve(namespace, new_ref)
            if owner is None:
                return
            key = object_key(owner)
            self.controller.enqueue(key)
            min_ready = int((owner.get("spec") or {}).get("minReadySeconds") or 0)
            if min_ready > 0 and not is_ready(old) and is_ready(new):
                # available only minReadySeconds after ready: look again then
                self.controller.enqueue_after(key, min_ready + 1)
            return
        if labels_changed or ref_changed:
            for owner in self._matching_owners(new):
                self.controller.enqueue(object_key(owner))

    def _pod_deleted(self, pod: Obj) -> None:
        ref = controller_of(pod)
        if ref is None:
            return
        owner = self._resolve(meta(pod).get("namespace", ""), ref)
        if owner is None:
            return
        key = object_key(owner)
        self.expectations.deletion_observed(key, pod_key(pod))
        self.controller.enqueue(key)

    # --- sync ---------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.owners.lister.get(namespace, name)
        if cached is None:
            self.expectations.forget(key)
            return
        owner = {**cached, "kind": self.kind.kind, "apiVersion": self.kind.api_version}
        try:
            selector = self.kind.selector(owner)
        except errors.StatusError as err:
            raise PermanentError(f"invalid selector: {err}") from None
        needs_sync = self.expectations.satisfied(key)
        uid = str(meta(owner).get("uid") or "")
        owned_or_orphans = [*self.pods.indexer.by_index(OWNER_INDEX, uid),
                            *self.pods.indexer.by_index(OWNER_INDEX, ORPHAN + namespace)]
        candidates = [p for p in owned_or_orphans if is_active(p)]
        claimer = PodClaimer(self.client, owner, selector, lambda: self.client.get(
            self.resource, name, namespace=namespace))
        pods = await claimer.claim(candidates)
        manage_error: Exception | None = None
        if needs_sync and not meta(owner).get("deletionTimestamp"):
            try:
                await self.manage_replicas(key, owner, pods)
            except (errors.StatusError, SlowStartFailure, ValueError) as err:
                manage_error = err
        now = datetime.datetime.now(datetime.UTC)
        terminating = ([p for p in owned_or_orphans if is_terminating(p)
                        and (controller_of(p) or {}).get("uid") == uid
                        and selector.matches(meta(p).get("labels") or {})]
                       if self.kind.counts_terminating else None)
        status = calculate_status(owner, pods, manage_error, now, terminating)
        try:
            await update_status(self.client, self.resource, owner, status)
        except errors.NotFound:
            return  # deleted meanwhile
        if manage_error is not None:
            raise manage_error
        min_ready = int((owner.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready > 0 and status["readyReplicas"] == int(owner["spec"].get("replicas", 1)) \
                and status["availableReplicas"] != status["readyReplicas"]:
            self.controller.enqueue_after(key, min_ready)

    async def manage_replicas(self, key: str, owner: Obj, pods: list[Obj]) -> None:
        spec = owner.get("spec") or {}
        diff = len(pods) - int(spec.get("replicas", 1))
        if diff < 0:
            await self._create(key, owner, min(-diff, BURST_REPLICAS))
        elif diff > 0:
            await self._delete(key, owner, pods, min(diff, BURST_REPLICAS))

    async def _create(self, key: str, owner: Obj, count: int) -> None:
        self.expectations.expect_creations(key, count)
        template = (owner.get("spec") or {}).get("template") or {}

        async def create_one() -> None:
            try:
                await self.pod_control.create_pod(owner, template)
            except errors.StatusError as err:
                if not namespace_terminating(err):
                    raise  # in a terminating namespace every creation fails: no error

        try:
            await slow_start_batch(count, SLOW_START_INITIAL_BATCH, create_one)
        except SlowStartFailure as failure:
            # the informer will never see the creations that failed or were not sent
            for _ in range(count - failure.successes):
                self.expectations.creation_observed(key)
            raise

    async def _delete(self, key: str, owner: Obj, pods: list[Obj], count: int) -> None:
        # related pods: the owner's own (a Deployment's other ReplicaSets join later)
        doomed = pods_to_delete(pods, pods, count)
        self.expectations.expect_deletions(key, [pod_key(p) for p in doomed])

        async def delete_one(pod: Obj) -> None:
            try:
                await self.pod_control.delete_pod(owner, meta(pod)["namespace"],
                                                  meta(pod)["name"])
            except errors.StatusError as err:
                # no informer event will come for a deletion that did not happen
                self.expectations.deletion_observed(key, pod_key(pod))
                if not isinstance(err, errors.NotFound):
                    raise

        outcomes = await asyncio.gather(*(delete_one(p) for p in doomed), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome


def replication_controller_loop(ctx: LoopContext) -> ReplicaSetLoop:
    return ReplicaSetLoop(ctx, REPLICATIONCONTROLLER)
