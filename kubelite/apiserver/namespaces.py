"""Namespace lifecycle: a deleted namespace empties itself, then goes.

Upstream splits this between the namespace REST storage (deleting a namespace whose
spec.finalizers is not empty only marks it Terminating) and the namespace controller
(delete everything inside, then remove the `kubernetes` finalizer through
namespaces/<name>/finalize). kubelite runs the controller half inside the API server,
so `kubectl delete ns` works with nothing else running.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.watchcache import CacheEvent
from kubelite.machinery import errors

log = logging.getLogger(__name__)

Obj = dict[str, Any]
FINALIZER = "kubernetes"
_OPTS = WriteOptions(field_manager="namespace-controller")
RESYNC_SECONDS = 2.0


async def finalize_loop(registry: Registry) -> None:
    wake = asyncio.Event()
    ns_prefix = registry.store_for("", "namespaces").prefix

    def on_event(ev: CacheEvent) -> None:
        if ev.key.startswith(ns_prefix) and ev.entry.deleting:
            wake.set()

    registry.cache.add_listener(on_event)
    while True:
        try:
            await asyncio.wait_for(wake.wait(), RESYNC_SECONDS)
        except TimeoutError:
            pass
        wake.clear()
        for entry in list(registry.cache.bucket(ns_prefix).values()):
            if entry.deleting:
                try:
                    await finalize(registry, entry.name)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("finalizing namespace %s", entry.name)


async def finalize(registry: Registry, namespace: str) -> None:
    """Delete what is left in a terminating namespace; once it is empty, drop the
    `kubernetes` finalizer (which deletes the namespace if nothing else holds it)."""
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
            entry = bucket[key]
            if entry.deleting:
                continue
            try:
                await store.delete(namespace, entry.name,
                                   {"propagationPolicy": "Background"}, _OPTS)
            except errors.NotFound:
                pass
    if remaining:
        return
    ns_store = registry.store_for("", "namespaces")

    async def drop_finalizer(ns: Obj) -> Obj:
        finalizers = [f for f in (ns.get("spec") or {}).get("finalizers") or ()
                      if f != FINALIZER]
        if finalizers:
            ns["spec"]["finalizers"] = finalizers
        else:
            ns.get("spec", {}).pop("finalizers", None)
        return ns

    opts = WriteOptions(field_manager="namespace-controller", subresource="finalize")
    try:
        await ns_store.guaranteed_update("", namespace, drop_finalizer, opts)
    except errors.NotFound:
        pass
