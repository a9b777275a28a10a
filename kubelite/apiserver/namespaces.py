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
being deleted are left to their finalizers and grace periods), records what remains
in the namespace's status conditions as upstream does (NamespaceContentRemaining,
NamespaceFinalizersRemaining, ...; written only when they change), and once nothing
is left drops the `kubernetes` finalizer, which deletes the namespace if no other
finalizer holds it. Objects still present raise `TemporaryError`, a retry after
REMAINING_RETRY_SECONDS; a delete that failed is a failure retried with backoff.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.watchcache import CacheEvent
from kubelite.client.controller import Controller, TemporaryError
from kubelite.machinery import errors
from kubelite.machinery.conditions import set_condition
from kubelite.machinery.timestamps import now_rfc3339

Obj = dict[str, Any]
FINALIZER = "kubernetes"
_OPTS = WriteOptions(field_manager="namespace-controller")
_STATUS_OPTS = WriteOptions(field_manager="namespace-controller", subresource="status")
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
        """One idempotent pass over namespace `name`: returns once it is finalized (or
        when there is nothing of ours to do); raises TemporaryError while objects remain
        and RuntimeError when a delete failed, both retried by the controller."""
        entry = self.registry.cache.get(self._ns_store.key("", name))
        if entry is None or not entry.deleting:
            return  # gone, or not being deleted: nothing to do
        if FINALIZER not in ((entry.obj.get("spec") or {}).get("finalizers") or ()):
            return  # our part is done; other finalizers hold it (upstream: finalized())
        # A consistent read first: an object created just before the namespace was
        # marked must be in the cache, or it would outlive its namespace.
        await self._ns_store.sync_cache()
        content = await delete_content(self.registry, name)
        await self._report(name, content)
        if content.failures:
            raise RuntimeError(f"deleting content of namespace {name}: "
                               + "; ".join(content.failures))
        if content.remaining:
            raise TemporaryError(f"{content.remaining} objects remain in namespace {name}",
                                 delay=REMAINING_RETRY_SECONDS)
        await drop_finalizer(self.registry, name)

    async def _report(self, name: str, content: Content) -> None:
        """Write the deletion conditions upstream's controller keeps in the namespace's
        status (what `kubectl describe ns` shows of a namespace stuck Terminating),
        only when they changed."""
        async def mutate(ns: Obj) -> Obj:
            status = ns.setdefault("status", {})
            status["conditions"] = deletion_conditions(status.get("conditions") or [],
                                                       content)
            return ns

        entry = self.registry.cache.get(self._ns_store.key("", name))
        current = ((entry.obj.get("status") or {}).get("conditions") or []) if entry else []
        if deletion_conditions(current, content) == current:
            return
        try:
            await self._ns_store.guaranteed_update("", name, mutate, _STATUS_OPTS)
        except errors.NotFound:
            pass


@dataclass(slots=True)
class Content:
    """What a deletion pass left in a namespace."""

    remaining: int = 0  # objects still there (being deleted, held by finalizers)
    by_resource: Counter[str] = field(default_factory=Counter)  # "configmaps." -> n
    by_finalizer: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # deletes that failed


async def delete_content(registry: Registry, namespace: str) -> Content:
    """Ask every namespaced object in `namespace` to go; report what is left (objects
    deleted now are not). Nothing left and no failures means the namespace is empty."""
    content = Content()
    for store in list(registry.stores.values()):
        if not store.spec.namespaced or "delete" not in store.spec.verbs:
            continue
        if store.spec.storage_alias is not None:
            continue  # the same objects are deleted through the resource that owns them
        bucket = registry.cache.bucket(store.prefix)
        prefix = store.key_prefix(namespace)
        for key in [k for k in bucket if k.startswith(prefix)]:
            entry = bucket.get(key)
            if entry is None:
                continue
            try:
                obj, deleted_now = await store.delete(
                    namespace, entry.name, {"propagationPolicy": "Background"}, _OPTS)
            except errors.NotFound:
                continue
            except errors.StatusError as err:
                content.failures.append(f"{store.spec.group_resource} {entry.name}: "
                                        f"{err.message}")
                continue
            if deleted_now:
                continue
            content.remaining += 1
            # Upstream prints resource.group, so core resources end with a dot.
            content.by_resource[f"{store.spec.plural}.{store.spec.group}"] += 1
            for finalizer in (obj.get("metadata") or {}).get("finalizers") or ():
                content.by_finalizer[finalizer] += 1
    return content


# The condition types upstream's namespace deleter maintains, with the reason and
# message each has when all is well (pkg/controller/namespace/deletion).
_OK = {
    "NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered",
                                          "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": (
        "ParsedGroupVersions", "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": (
        "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("ContentRemoved", "All content successfully removed"),
}


def deletion_conditions(old: list[Obj], content: Content) -> list[Obj]:
    """`old` with the deletion conditions set from `content`; a condition whose status
    did not change keeps its lastTransitionTime, so an unchanged pass compares equal."""
    problems: dict[str, tuple[str, str]] = {}
    if content.failures:
        problems["NamespaceDeletionContentFailure"] = (
            "ContentDeletionFailed", f"Failed to delete all resource types, "
            f"{len(content.failures)} remaining: {', '.join(sorted(content.failures))}")
    if content.by_resource:
        problems["NamespaceContentRemaining"] = ("SomeResourcesRemain", (
            "Some resources are remaining: " + ", ".join(sorted(
                f"{resource} has {n} resource instances"
                for resource, n in content.by_resource.items()))))
    if content.by_finalizer:
        problems["NamespaceFinalizersRemaining"] = ("SomeFinalizerRemain", (
            "Some finalizers are remaining: " + ", ".join(sorted(
                f"{finalizer} in {n} resource instances"
                for finalizer, n in content.by_finalizer.items()))))
    conditions = list(old)
    for type_, ok in _OK.items():
        status = "True" if type_ in problems else "False"
        reason, message = problems.get(type_, ok)
        conditions = set_condition(conditions, {
            "type": type_, "status": status, "lastTransitionTime": now_rfc3339(),
            "reason": reason, "message": message})
    return conditions


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
