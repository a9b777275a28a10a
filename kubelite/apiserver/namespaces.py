"""Namespace lifecycle: a deleted namespace empties itself, then goes.

Upstream splits this between the namespace REST storage (deleting a namespace whose
spec.finalizers is not empty only marks it Terminating) and the namespace controller
(pkg/controller/namespace: delete everything inside, then remove the `kubernetes`
finalizer through namespaces/<name>/finalize). kubelite runs the controller half
inside the API server, so `kubectl delete ns` works with nothing else running.

It is a `Controller` keyed by namespace name, fed from the watch cache:
- a namespace event whose namespace has a deletionTimestamp enqueues it;
- the deletion of any namespaced object inside a terminating namespace enqueues the
  namespace, so the pass that finds it empty runs as soon as the last object goes
  (upstream polls instead);
- every RESYNC_SECONDS all terminating namespaces are enqueued, for events the cache
  never reports (it reloads without events after falling behind compaction).

`sync(name)` is idempotent: it deletes what is left in the namespace (objects already
being deleted are left to their finalizers and grace periods), and once nothing is
left drops the `kubernetes` finalizer, which deletes the namespace if no other
finalizer holds it. Objects still present raise `TemporaryError`, a retry after
REMAINING_RETRY_SECONDS; any other error is a failure retried with backoff.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.watchcache import CacheEvent
from kubelite.client.controller import Controller, TemporaryError
from kubelite.machinery import errors

Obj = dict[str, Any]
FINALIZER = "kubernetes"
_OPTS = WriteOptions(field_manager="namespace-controller")
RESYNC_SECONDS = 30.0
REMAINING_RETRY_SECONDS = 2.0


class NamespaceController:
    """Empties and finalizes terminating namespaces; `run()` until cancelled."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.controller: Controller[str] = Controller("namespace", self.sync)
        self._ns_store = registry.store_for("", "namespaces")
        self._ns_prefix = self._ns_store.prefix
        registry.cache.add_listener(self._on_event)
        self.controller.enqueue_every(RESYNC_SECONDS, self._terminating)
        for name in self._terminating():
            self.controller.enqueue(name)

    async def run(self) -> None:
        await self.controller.run()

    def _terminating(self) -> list[str]:
        return [e.name for e in self.registry.cache.bucket(self._ns_prefix).values()
                if e.deleting]

    def _on_event(self, ev: CacheEvent) -> None:
        # Called for every event the cache applies: keep the common path to two checks.
        if ev.key.startswith(self._ns_prefix):
            if ev.entry.deleting:
                self.controller.enqueue(ev.entry.name)
        elif ev.type == "DELETED" and ev.entry.namespace:
            ns = self.registry.cache.get(self._ns_store.key("", ev.entry.namespace))
            if ns is not None and ns.deleting:
                self.controller.enqueue(ev.entry.namespace)

    async def sync(self, name: str) -> None:
        entry = self.registry.cache.get(self._ns_store.key("", name))
        if entry is None or not entry.deleting:
            return  # gone, or not being deleted: nothing to do
        if FINALIZER not in ((entry.obj.get("spec") or {}).get("finalizers") or ()):
            return  # our part is done; other finalizers hold it (upstream: finalized())
        # A consistent read first: an object created just before the namespace was
        # marked must be in the cache, or it would outlive its namespace.
        await self._ns_store.sync_cache()
        remaining = await delete_content(self.registry, name)
        if remaining:
            raise TemporaryError(f"{remaining} objects remain in namespace {name}",
                                 delay=REMAINING_RETRY_SECONDS)
        await drop_finalizer(self.registry, name)


async def delete_content(registry: Registry, namespace: str) -> int:
    """Ask every namespaced object in `namespace` to go; returns how many were there
    (deleted now or still being deleted). Zero means the namespace is empty."""
    remaining = 0
    for store in list(registry.stores.values()):
        if not store.spec.namespaced or "delete" not in store.spec.verbs:
            continue
        if store.spec.storage_alias is not None:
            continue  # the same objects are deleted through the resource that owns them
        bucket = registry.cache.bucket(store.prefix)
        prefix = store.key_prefix(namespace)
        for key in [k for k in bucket if k.startswith(prefix)]:
            remaining += 1
            entry = bucket.get(key)
            if entry is None or entry.deleting:
                continue
            try:
                await store.delete(namespace, entry.name,
                                   {"propagationPolicy": "Background"}, _OPTS)
            except errors.NotFound:
                pass
    return remaining


async def drop_finalizer(registry: Registry, namespace: str) -> None:
    """Remove the `kubernetes` finalizer through namespaces/<name>/finalize; the store
    deletes the namespace when that was the last finalizer."""
    ns_store = registry.store_for("", "namespaces")

    async def without_ours(ns: Obj) -> Obj:
        finalizers = [f for f in (ns.get("spec") or {}).get("finalizers") or ()
                      if f != FINALIZER]
        if finalizers:
            ns["spec"]["finalizers"] = finalizers
        else:
            ns.get("spec", {}).pop("finalizers", None)
        return ns

    opts = WriteOptions(field_manager="namespace-controller", subresource="finalize")
    try:
        await ns_store.guaranteed_update("", namespace, without_ours, opts)
    except errors.NotFound:
        pass  # deleted meanwhile: done
