"""The garbage collector loop: deletes objects whose owners are gone, and carries out
foreground and orphan deletion (upstream's pkg/controller/garbagecollector,
garbagecollector.go and operations.go).

    discovery ─► Monitors (gc_monitors.py): an informer per deletable resource
                    └─► Graph (gc_graph.py): nodes by uid, owners ⇄ dependents
                          ├─► attempt-to-delete queue ─► attempt_to_delete(uid)
                          └─► attempt-to-orphan queue ─► attempt_to_orphan(uid)

attempt_to_delete(uid), as upstream's attemptToDeleteItem:
1. GET the object live. Absent, or another uid under its name: the node is gone
   (`Graph.virtual_delete`), which queues its dependents. A virtual node (an owner only
   named by references) is confirmed this way before anything is deleted for it.
2. An owner deleting its dependents in the foreground: drop `foregroundDeletion` once no
   dependent blocks it (blockOwnerDeletion); otherwise queue the blocking dependents.
3. Otherwise classify its ownerReferences by a live GET of each owner (absent owners
   are remembered): *solid* (exists), *dangling* (absent or another uid), *waiting*
   (being deleted in the foreground). With a solid owner, only the dangling and waiting
   references are removed (patch). With none: delete the object, Foreground when a
   waiting owner needs it gone first and it has dependents of its own, else with the
   policy its own finalizers ask for (Background by default). Deletes carry uid and
   resourceVersion preconditions, so an object changed since the GET is looked at again.

attempt_to_orphan(uid): remove the owner's references from every dependent, then drop
the owner's `orphan` finalizer.

The workers start only once every informer has synced, so no decision is taken on a
half-built graph. The API server adds the orphan and foregroundDeletion finalizers
only when it knows a collector runs (kubelite/apiserver/registry/registry.py).
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.client.controller import Controller, PermanentError, TemporaryError
from kubelite.client.resource import Resource
from kubelite.controllers.context import LoopContext
from kubelite.controllers.gc_graph import (
    FOREGROUND,
    ORPHAN,
    Graph,
    Identity,
    Node,
    Obj,
    finalizers,
    owner_references,
)
from kubelite.controllers.gc_monitors import Monitors
from kubelite.machinery import errors

log = logging.getLogger(__name__)

DELETE_WORKERS = 20  # upstream's --concurrent-gc-syncs
ORPHAN_WORKERS = 5
CONFLICT_RETRIES = 5  # client-go's retry.DefaultBackoff steps


class GarbageCollectorLoop:
    name = "garbagecollector"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.deleter: Controller[str] = Controller(
            "garbagecollector-delete", self.attempt_to_delete, workers=DELETE_WORKERS)
        self.orphaner: Controller[str] = Controller(
            "garbagecollector-orphan", self.attempt_to_orphan, workers=ORPHAN_WORKERS)
        self.graph = Graph(self.deleter.enqueue, self.orphaner.enqueue)
        self.monitors = Monitors(ctx.client, self.graph, ctx.informers)

    async def run(self) -> None:
        try:
            await self.monitors.sync()
            log.info("garbage collector: all resource monitors have synced; "
                     "proceeding to collect garbage")
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self.monitors.run())
                tasks.create_task(self.deleter.run())
                tasks.create_task(self.orphaner.run())
        finally:
            await self.monitors.stop()

    # -- operations (operations.go) ---------------------------------------------------

    async def _resource(self, identity: Identity) -> Resource:
        return await self.monitors.resolve(identity.api_version, identity.kind)

    async def _get(self, identity: Identity) -> Obj | None:
        """The object live, or None when absent or another object holds its name."""
        res = await self._resource(identity)
        if res.namespaced and not identity.namespace:
            return None  # a cluster-scoped object cannot be owned by a namespaced one
        try:
            obj = await self.client.get(res, identity.name,
                                        namespace=identity.namespace if res.namespaced else None)
        except errors.NotFound:
            return None
        return obj if obj["metadata"].get("uid") == identity.uid else None

    async def _patch_meta(self, identity: Identity, latest: Obj, meta: Obj) -> Obj | None:
        """A merge patch of metadata, refused (409) when the object changed since
        `latest` was read: the uid and resourceVersion ride along as preconditions.
        Returns the patched object (None: it is gone)."""
        res = await self._resource(identity)
        body = {"metadata": {**meta, "uid": identity.uid,
                             "resourceVersion": latest["metadata"]["resourceVersion"]}}
        try:
            return await self.client.patch(
                res, identity.name, body,
                namespace=identity.namespace if res.namespaced else None)
        except errors.NotFound:
            return None  # gone already: its delete event finishes the job

    async def _remove_references(self, identity: Identity, owner_uids: set[str],
                                 latest: Obj | None = None) -> None:
        """Drop the references to `owner_uids`, reading the object again when a
        concurrent write got in between (upstream retries on conflict too)."""
        for attempt in range(CONFLICT_RETRIES):
            if latest is None:
                latest = await self._get(identity)
                if latest is None:
                    return
            refs = owner_references(latest)
            kept = [ref for ref in refs if ref["uid"] not in owner_uids]
            if len(kept) == len(refs):
                return
            log.info("garbage collector: removing references to %s from %s",
                     ", ".join(sorted(owner_uids)), identity)
            try:
                await self._patch_meta(identity, latest, {"ownerReferences": kept or None})
                return
            except errors.Conflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                latest = None

    async def _remove_finalizer(self, identity: Identity, finalizer: str) -> None:
        for attempt in range(CONFLICT_RETRIES):
            latest = await self._get(identity)
            if latest is None or finalizer not in finalizers(latest):
                return
            kept = [f for f in finalizers(latest) if f != finalizer]
            try:
                await self._patch_meta(identity, latest, {"finalizers": kept or None})
                return
            except errors.Conflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise

    async def _delete(self, identity: Identity, latest: Obj, policy: str) -> None:
        """Delete what `latest` shows. Upstream's deleteObject: the resourceVersion
        precondition guards against references added since; when it fails only because
        something else changed (a pod's status), delete with the uid alone."""
        res = await self._resource(identity)
        namespace = identity.namespace if res.namespaced else None
        log.info("garbage collector: deleting %s with propagation %s", identity, policy)
        preconditions = {"uid": identity.uid,
                         "resourceVersion": latest["metadata"]["resourceVersion"]}
        try:
            await self.client.delete(res, identity.name, namespace=namespace,
                                     propagation_policy=policy, preconditions=preconditions)
            return
        except errors.NotFound:
            return
        except errors.Conflict:
            live = await self._get(identity)
            if live is None:
                return
            if owner_references(live) != owner_references(latest):
                raise  # its owners changed: look at it again
        try:
            await self.client.delete(res, identity.name, namespace=namespace,
                                     propagation_policy=policy,
                                     preconditions={"uid": identity.uid})
        except errors.NotFound:
            pass

    # -- attempt to delete ------------------------------------------------------------

    async def attempt_to_delete(self, uid: str) -> None:
        node = self.graph.nodes.get(uid)
        if node is None:
            return
        if node.observed and node.being_deleted and not node.deleting_dependents:
            return  # a one-way trip: its delete event will queue its dependents
        latest = await self._get(node.identity)
        if latest is None:
            self.graph.virtual_delete(node.identity)
            return
        if node.deleting_dependents:
            await self._process_deleting_dependents(node)
            return
        await self._collect(node, latest)
        if not node.observed:
            # an owner that exists but no informer has shown yet: look again
            raise TemporaryError(f"{node.identity} not observed yet")  # rate-limited retry

    async def _process_deleting_dependents(self, node: Node) -> None:
        blocking = node.blocking_dependents()
        if not blocking:
            await self._remove_finalizer(node.identity, FOREGROUND)
            return
        for dep in blocking:
            if not dep.deleting_dependents:
                self.deleter.enqueue(dep.uid)

    async def _collect(self, node: Node, latest: Obj) -> None:
        refs = owner_references(latest)
        if not refs:
            return
        solid, dangling, waiting = await self._classify(refs, node.identity.namespace)
        if solid:
            if dangling or waiting:
                await self._remove_references(node.identity,
                                              {r["uid"] for r in dangling + waiting}, latest)
            return
        if waiting and node.dependents:
            if any(dep.deleting_dependents for dep in node.dependents):
                # a dependent that waits for this one while this one waits for it
                # would deadlock: stop blocking the owner (upstream's cycle breaker)
                unblocked = await self._unblock(node.identity, latest)
                if unblocked is None:
                    return
                latest = unblocked
            await self._delete(node.identity, latest, "Foreground")
            return
        held = finalizers(latest)
        policy = ("Orphan" if ORPHAN in held else
                  "Foreground" if FOREGROUND in held else "Background")
        await self._delete(node.identity, latest, policy)

    async def _classify(self, refs: list[Obj], namespace: str,
                        ) -> tuple[list[Obj], list[Obj], list[Obj]]:
        solid: list[Obj] = []
        dangling: list[Obj] = []
        waiting: list[Obj] = []
        for ref in refs:
            owner = await self._owner(ref, namespace)
            if owner is None:
                dangling.append(ref)
            elif FOREGROUND in finalizers(owner) and owner["metadata"].get("deletionTimestamp"):
                waiting.append(ref)
            else:
                solid.append(ref)
        return solid, dangling, waiting

    async def _owner(self, ref: Obj, namespace: str) -> Obj | None:
        """The owner a reference names, live; None when it is gone (upstream's isDangling)."""
        uid = str(ref["uid"])
        if self.graph.known_absent(uid, "") or self.graph.known_absent(uid, namespace):
            return None
        res = await self.monitors.resolve(str(ref.get("apiVersion") or ""),
                                          str(ref.get("kind") or ""))
        if res.namespaced and not namespace:
            # upstream's namespacedOwnerOfClusterScopedObjectErr: retrying cannot fix it,
            # and the object is left alone
            raise PermanentError(f"cluster-scoped objects cannot refer to namespaced owners "
                                 f"({ref.get('kind')} {ref.get('name')})")
        where = namespace if res.namespaced else ""
        owner = await self._get(Identity(str(ref.get("apiVersion") or ""),
                                         str(ref.get("kind") or ""),
                                         str(ref.get("name") or ""), uid, where))
        if owner is None:
            self.graph.mark_absent(uid, where)
        return owner

    async def _unblock(self, identity: Identity, latest: Obj) -> Obj | None:
        refs = [{**ref, "blockOwnerDeletion": False} if ref.get("blockOwnerDeletion") else ref
                for ref in owner_references(latest)]
        return await self._patch_meta(identity, latest, {"ownerReferences": refs})

    # -- attempt to orphan ------------------------------------------------------------

    async def attempt_to_orphan(self, uid: str) -> None:
        owner = self.graph.nodes.get(uid)
        if owner is None:
            return
        failures: list[Exception] = []
        for dep in list(owner.dependents):
            try:
                await self._remove_references(dep.identity, {uid})
            except (errors.StatusError, TemporaryError) as err:
                failures.append(err)
        if failures:
            raise failures[0]
        await self._remove_finalizer(owner.identity, ORPHAN)
