"""CustomResourceDefinitions: a CRD becomes a served resource as soon as it is stored.

The apiextensions-apiserver part of kube-apiserver, in `CRDController`: every CRD
event from the watch cache (re)registers its resource in the registry at once
(discovery, OpenAPI and the REST paths follow from the registry) and enqueues the CRD
for `sync`, which writes what upstream's controllers write: the cleanup finalizer, the
NamesAccepted and Established conditions, acceptedNames and storedVersions
(pkg/controller/establish, status/naming_controller.go). A CRD being deleted is marked
Terminating, loses all its objects, then its
`customresourcecleanup.apiextensions.k8s.io` finalizer, then itself
(finalizer/crd_finalizer.go); objects held by their own finalizers make the cleanup
wait (TemporaryError, retried when one of them goes or after a second).

Custom objects take the generic store like any kind; their strategy prunes unknown
fields, applies schema defaults and validates against the version's
openAPIV3Schema (apiextensions-apiserver pkg/registry/customresource/strategy.go).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from kubelite.api import structural
from kubelite.api.catalogue import ResourceSpec
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.registry.strategy import DefaultStrategy
from kubelite.apiserver.watchcache import CacheEvent
from kubelite.client.controller import Controller, TemporaryError
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_rfc3339
from kubelite.machinery.errors import Cause

log = logging.getLogger(__name__)

Obj = dict[str, Any]
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_OPTS = WriteOptions(field_manager="kube-apiserver")


class CustomResourceStrategy(DefaultStrategy):
    def __init__(self, schema: Obj | None, *, has_status: bool) -> None:
        self.schema = schema
        self.has_status = has_status

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        obj["metadata"]["generation"] = 1  # custom resources always track generation

    def default(self, obj: Obj) -> None:
        if self.schema is not None:
            structural.prune(obj, self.schema)
            structural.apply_defaults(obj, self.schema)

    def validate(self, obj: Obj) -> list[Cause]:
        if self.schema is None:
            return []
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        schema = {**self.schema, "properties": {
            k: v for k, v in (self.schema.get("properties") or {}).items()
            if k not in ("apiVersion", "kind", "metadata")}}
        return structural.validate(body, schema)

    def bumps_generation(self, new: Obj, old: Obj) -> bool:
        ignored = ("metadata", "status") if self.has_status else ("metadata",)
        return any(new.get(k) != old.get(k) for k in new.keys() | old.keys()
                   if k not in ignored)


def spec_from_crd(crd: Obj) -> ResourceSpec:
    spec = crd["spec"]
    names = spec["names"]
    served = [v for v in spec.get("versions") or () if v.get("served")]
    storage = [v["name"] for v in served if v.get("storage")]
    ordered = storage + [v["name"] for v in served if v["name"] not in storage]
    schemas = {v["name"]: (v.get("schema") or {}).get("openAPIV3Schema") or {} for v in served}
    columns = {v["name"]: v.get("additionalPrinterColumns") or [] for v in served}
    storage_version = next((v for v in served if v.get("storage")), served[0])
    subresources = storage_version.get("subresources") or {}
    return ResourceSpec(
        spec["group"], tuple(ordered), names["kind"], names["plural"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        subresources=tuple(s for s in ("status", "scale") if s in subresources),
        singular=names.get("singular") or names["kind"].lower(),
        crd_schemas=schemas, printer_columns=columns,
        scale_paths=subresources.get("scale"))


def register(registry: Registry, crd: Obj) -> ResourceSpec | None:
    try:
        spec = spec_from_crd(crd)
    except (KeyError, IndexError, TypeError):
        log.warning("CRD %s is not servable", crd["metadata"]["name"])
        return None
    existing = registry.stores.get((spec.group, spec.plural))
    if existing is not None and existing.spec.crd_schemas is None:
        return None  # never shadow a built-in resource
    strategy = CustomResourceStrategy(spec.crd_schemas.get(spec.storage_version)
                                      if spec.crd_schemas else None,
                                      has_status="status" in spec.subresources)
    registry.add(spec, strategy)
    return spec


class CRDController:
    """Keeps the registry serving every stored CRD, and runs the CRD lifecycle.

    Serving follows the watch cache synchronously: each CRD event (re)registers or
    removes its resource in the event handler itself, as upstream's crdHandler reads
    the CRD lister on every request, so a CRD is served as soon as the cache has it.
    The writes are a `Controller` keyed by CRD name (`sync`): upstream's establishing,
    naming and finalizer controllers in one.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.controller: Controller[str] = Controller("customresourcedefinitions", self.sync)
        self._crd_store = registry.store_for("apiextensions.k8s.io",
                                             "customresourcedefinitions")
        # resource prefix of a terminating CRD's objects -> the CRD's name: their
        # deletions re-enqueue the CRD, whose cleanup waits for them.
        self._emptying: dict[str, str] = {}
        for entry in list(registry.cache.bucket(self._crd_store.prefix).values()):
            register(registry, entry.obj)
            self.controller.enqueue(entry.name)
        registry.cache.add_listener(self._on_event)

    async def run(self) -> None:
        await self.controller.run()

    def _on_event(self, ev: CacheEvent) -> None:
        if not ev.key.startswith(self._crd_store.prefix):
            if ev.type == "DELETED" and self._emptying:
                name = self._emptying.get(self.registry.cache.prefix_of(ev.key))
                if name is not None:
                    self.controller.enqueue(name)
            return
        if ev.type == "DELETED":
            spec = ev.entry.obj.get("spec") or {}
            names = spec.get("names") or {}
            store = self.registry.stores.get((spec.get("group", ""), names.get("plural", "")))
            if store is not None and store.spec.crd_schemas is not None:
                self.registry.remove(store.spec.group, store.spec.plural)
            self._emptying = {p: n for p, n in self._emptying.items() if n != ev.entry.name}
        else:
            register(self.registry, ev.entry.obj)
            self.controller.enqueue(ev.entry.name)

    async def sync(self, name: str) -> None:
        """Bring the CRD named `name` to what it should be, reading it from the cache:
        a live CRD gets the cleanup finalizer and its NamesAccepted and Established
        conditions; a CRD being deleted loses its objects, then that finalizer. Writes
        only what differs, so syncing a settled CRD writes nothing (and its own writes
        cannot make it loop). Objects that outlive their delete raise TemporaryError."""
        entry = self.registry.cache.get(self._crd_store.key("", name))
        if entry is None:
            return  # deleted: the event handler stopped serving it
        crd = entry.obj
        try:
            if entry.deleting:
                if CLEANUP_FINALIZER in (crd["metadata"].get("finalizers") or ()):
                    await self._cleanup(crd)
            else:
                await self._establish(crd)
        except errors.NotFound:
            pass  # deleted meanwhile; its deletion event ends the story

    async def _establish(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        if CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or ()):
            # A separate write: the status subresource never changes metadata.
            await self._crd_store.guaranteed_update("", name, _add_finalizer, _OPTS)
        if _established(crd) != crd.get("status"):
            await self._crd_store.guaranteed_update(
                "", name, _async(_established_object), _STATUS_OPTS)

    async def _cleanup(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        await self._set_terminating(crd, "InstanceDeletionInProgress",
                                    "CustomResource deletion is in progress")
        spec = crd["spec"]
        store = self.registry.stores.get((spec["group"], spec["names"]["plural"]))
        if store is not None and store.spec.crd_schemas is not None:
            for entry in list(self.registry.cache.bucket(store.prefix).values()):
                try:
                    await store.delete(entry.namespace, entry.name, {}, _OPTS)
                except errors.NotFound:
                    pass
            await store.sync_cache()
            left = len(self.registry.cache.bucket(store.prefix))
            if left:
                self._emptying[store.prefix] = name
                raise TemporaryError(f"{left} {store.spec.plural} remain",
                                     delay=REMAINING_RETRY_SECONDS)
            self._emptying.pop(store.prefix, None)
            self.registry.remove(store.spec.group, store.spec.plural)

        async def drop(current: Obj) -> Obj:
            current["metadata"]["finalizers"] = [
                f for f in current["metadata"].get("finalizers") or ()
                if f != CLEANUP_FINALIZER]
            return current

        await self._crd_store.guaranteed_update("", name, drop, _OPTS)

    async def _set_terminating(self, crd: Obj, reason: str, message: str) -> None:
        conditions = (crd.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Terminating" and c.get("reason") == reason
               for c in conditions):
            return

        async def mutate(current: Obj) -> Obj:
            status = current.setdefault("status", {})
            status["conditions"] = [
                c for c in status.get("conditions") or () if c.get("type") != "Terminating"
            ] + [{"type": "Terminating", "status": "True", "lastTransitionTime": now_rfc3339(),
                  "reason": reason, "message": message}]
            return current

        await self._crd_store.guaranteed_update("", crd["metadata"]["name"], mutate,
                                                _STATUS_OPTS)


REMAINING_RETRY_SECONDS = 1.0
_STATUS_OPTS = WriteOptions(field_manager="kube-apiserver", subresource="status")


def _condition(type_: str, reason: str, message: str, old: list[Obj]) -> Obj:
    for c in old:
        if c.get("type") == type_ and c.get("status") == "True":
            return c
    return {"type": type_, "status": "True", "lastTransitionTime": now_rfc3339(),
            "reason": reason, "message": message}


def _established(crd: Obj) -> Obj:
    """The status a live CRD should have: its names accepted, Established, and its
    storage versions recorded (keeping those recorded before)."""
    status = copy.deepcopy(crd.get("status") or {})
    old = status.get("conditions") or []
    kept = [c for c in old if c.get("type") not in ("NamesAccepted", "Established")]
    status["conditions"] = [
        _condition("NamesAccepted", "NoConflicts", "no conflicts found", old),
        _condition("Established", "InitialNamesAccepted",
                   "the initial names have been accepted", old)] + kept
    accepted = copy.deepcopy(crd["spec"]["names"])
    accepted.setdefault("singular", crd["spec"]["names"]["kind"].lower())
    status["acceptedNames"] = accepted
    status["storedVersions"] = sorted(set(status.get("storedVersions") or []) | {
        v["name"] for v in crd["spec"].get("versions") or () if v.get("storage")})
    return status


def _established_object(crd: Obj) -> Obj:
    crd["status"] = _established(crd)
    return crd


async def _add_finalizer(crd: Obj) -> Obj:
    finalizers = crd["metadata"].setdefault("finalizers", [])
    if CLEANUP_FINALIZER not in finalizers:
        finalizers.append(CLEANUP_FINALIZER)
    return crd


def _async(func: Callable[[Obj], Obj]) -> Callable[[Obj], Awaitable[Obj]]:
    async def mutate(obj: Obj) -> Obj:
        return func(obj)
    return mutate
