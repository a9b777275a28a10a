"""The namespace loop: a deleted namespace empties itself, then goes (upstream's
pkg/controller/namespace/namespace_controller.go).

The API server's half of namespace deletion only marks a namespace whose
spec.finalizers is not empty Terminating (deletionTimestamp, phase); this loop does the
rest, through the API like any client:

    namespaces informer ── a namespace with a deletionTimestamp ─► enqueue its name
    pods informer ──────── a pod gone from a terminating namespace ─► enqueue it
                                     │
    sync(name): GET the namespace (the freshest state, as upstream reads it)
        not terminating, or our `kubernetes` finalizer gone already: nothing to do
        discover deletable namespaced resources, delete them all (namespace_deleter)
        write the deletion conditions to status when they changed
        a delete failed: raise (retried with backoff)
        objects remain: TemporaryError (retried with backoff, 5 ms doubling to 5 s)
        empty: PUT namespaces/<name>/finalize without `kubernetes`; the server deletes
               the namespace when that was its last finalizer

Pods are what a namespace most often waits for (graceful deletion, finished by their
kubelet), so their deletions wake the namespace at once; objects held by other
finalizers are looked at again on the backoff (upstream requeues after an estimate of
at least eight seconds instead). Every RESYNC_SECONDS all terminating namespaces are
enqueued, as upstream's informer resync does.

With this loop off (`--disable namespace`, `--disable controller-manager`) a deleted
namespace stays Terminating, as it does upstream without kube-controller-manager.
"""

from __future__ import annotations

import logging

from kubelite.client.controller import Controller, TemporaryError
from kubelite.client.ratelimiter import (
    BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, RateLimiter)
from kubelite.controllers.context import LoopContext
from kubelite.controllers.namespace_deleter import (
    Content, delete_content, deletion_conditions, discover)
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors

log = logging.getLogger(__name__)

FINALIZER = "kubernetes"  # the token in spec.finalizers this loop owns
WORKERS = 10  # upstream's ConcurrentNamespaceSyncs
RESYNC_SECONDS = 300.0  # upstream's namespace informer resync
RETRY_BASE_SECONDS = 0.005
RETRY_MAX_SECONDS = 5.0


def namespace_rate_limiter() -> RateLimiter:
    """Upstream's nsControllerRateLimiter (5 ms doubling per namespace, 10 qps / 100
    burst overall) with a 5 s cap instead of 60 s: a namespace waiting for its last
    objects is looked at again soon, and a pass costs the server only reads from its
    watch cache and deletes of what is still there."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(base_delay=RETRY_BASE_SECONDS,
                                          max_delay=RETRY_MAX_SECONDS),
        BucketRateLimiter(qps=10.0, burst=100))


def is_terminating(namespace: Obj | None) -> bool:
    return namespace is not None and bool(meta(namespace).get("deletionTimestamp"))


class NamespaceLoop:
    name = "namespace"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.controller: Controller[str] = Controller(
            self.name, self.sync, workers=WORKERS, rate_limiter=namespace_rate_limiter())
        self.namespaces = ctx.informers.informer("namespaces")
        self.pods = ctx.informers.informer("pods")
        self.namespaces.add_event_handler(
            on_add=self._namespace_changed,
            on_update=lambda _old, new: self._namespace_changed(new))
        self.pods.add_event_handler(on_delete=self._pod_deleted)
        self.controller.enqueue_every(RESYNC_SECONDS, self._terminating)

    async def run(self) -> None:
        await self.controller.run()

    def _terminating(self) -> list[str]:
        return [meta(ns)["name"] for ns in self.namespaces.lister.list()
                if is_terminating(ns)]

    def _namespace_changed(self, namespace: Obj) -> None:
        if is_terminating(namespace):
            self.controller.enqueue(str(meta(namespace).get("name") or ""))

    def _pod_deleted(self, pod: Obj) -> None:
        name = str(meta(pod).get("namespace") or "")
        if is_terminating(self.namespaces.lister.get("", name)):
            self.controller.enqueue(name)

    async def sync(self, name: str) -> None:
        """One idempotent pass over namespace `name` (see the module docstring)."""
        try:
            namespace = await self.client.get("namespaces", name)
        except errors.NotFound:
            return
        spec = namespace.get("spec") or {}
        if not is_terminating(namespace) or FINALIZER not in (spec.get("finalizers") or ()):
            return  # live, or our part is done and other finalizers hold it
        found = await discover(self.client)
        content = await delete_content(self.client, name, found.resources)
        content.discovery_failures = found.failed_groups
        try:
            namespace = await self._report(namespace, content)
        except errors.NotFound:
            return
        except errors.Conflict:
            raise TemporaryError(f"namespace {name} changed meanwhile") from None
        if content.failures:
            raise RuntimeError(f"deleting the content of namespace {name}: "
                               + "; ".join(sorted(content.failures)))
        if content.remaining or content.discovery_failures:
            # a group that could not be read may still hold objects: not empty yet
            raise TemporaryError(f"{content.remaining} objects remain in namespace {name}")
        await self._finalize(namespace)

    async def _report(self, namespace: Obj, content: Content) -> Obj:
        """Write the deletion conditions (what `kubectl describe ns` shows of a
        namespace stuck Terminating) when they changed; the namespace as it now is."""
        status = namespace.get("status") or {}
        current = status.get("conditions") or []
        conditions = deletion_conditions(current, content)
        if conditions == current:
            return namespace
        updated = {**namespace, "status": {**status, "conditions": conditions}}
        return await self.client.update_status("namespaces", updated)

    async def _finalize(self, namespace: Obj) -> None:
        """Remove our token through namespaces/<name>/finalize (the only way to change
        spec.finalizers); on a Conflict the next pass reads the namespace afresh."""
        spec = namespace.get("spec") or {}
        others = [f for f in spec.get("finalizers") or () if f != FINALIZER]
        finalized = {**namespace, "spec": {**spec, "finalizers": others}}
        try:
            await self.client.update("namespaces", finalized, subresource="finalize")
        except errors.NotFound:
            pass  # gone already: done
        except errors.Conflict:
            raise TemporaryError(f"namespace {meta(namespace)['name']} changed "
                                 "meanwhile") from None
