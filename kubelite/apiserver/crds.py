"""CustomResourceDefinitions: a CRD becomes a served resource as soon as it is stored.

The apiextensions-apiserver part of kube-apiserver, in one loop: every CRD event from
the watch cache (re)registers its resource in the registry (discovery, OpenAPI and
the REST paths follow from the registry), and sets the CRD's NamesAccepted and
Established conditions. A CRD being deleted first loses all its objects, then its
`customresourcecleanup.apiextensions.k8s.io` finalizer, then itself.

Custom objects take the generic store like any kind; their strategy prunes unknown
fields, applies schema defaults and validates against the version's
openAPIV3Schema (apiextensions-apiserver pkg/registry/customresource/strategy.go).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from kubelite.api import structural
from kubelite.api.catalogue import ResourceSpec
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.registry.strategy import DefaultStrategy
from kubelite.apiserver.watchcache import CacheEvent
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_rfc3339
from kubelite.machinery.errors import Cause

log = logging.getLogger(__name__)

Obj = dict[str, Any]
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_OPTS = WriteOptions(field_manager="kube-apiserver")


class _NotYet(Exception):
    """A deleted CRD still has objects; its cleanup is retried."""


class CustomResourceStrategy(DefaultStrategy):
    allow_unconditional_update = False  # a PUT must name the resourceVersion it replaces

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


async def attach(registry: Registry, tasks: list[asyncio.Task[None]]) -> None:
    """Serve the CRDs already stored, and follow changes."""
    crd_store = registry.store_for("apiextensions.k8s.io", "customresourcedefinitions")
    pending: asyncio.Queue[str] = asyncio.Queue()
    for entry in list(registry.cache.bucket(crd_store.prefix).values()):
        register(registry, entry.obj)
        pending.put_nowait(entry.name)

    def on_event(ev: CacheEvent) -> None:
        if ev.key.startswith(crd_store.prefix):
            if ev.type == "DELETED":
                spec = ev.entry.obj.get("spec") or {}
                names = spec.get("names") or {}
                store = registry.stores.get((spec.get("group", ""), names.get("plural", "")))
                if store is not None and store.spec.crd_schemas is not None:
                    registry.remove(store.spec.group, store.spec.plural)
            else:
                register(registry, ev.entry.obj)
                pending.put_nowait(ev.entry.name)

    registry.cache.add_listener(on_event)
    tasks.append(asyncio.create_task(_reconcile_loop(registry, pending), name="crd-status"))


async def _reconcile_loop(registry: Registry, pending: asyncio.Queue[str]) -> None:
    crd_store = registry.store_for("apiextensions.k8s.io", "customresourcedefinitions")
    while True:
        name = await pending.get()
        try:
            entry = registry.cache.get(crd_store.key("", name))
            if entry is None:
                continue
            crd = entry.obj
            if entry.deleting:
                await _cleanup(registry, crd)
            else:
                await _establish(registry, crd)
        except asyncio.CancelledError:
            raise
        except errors.NotFound:
            pass
        except _NotYet:
            asyncio.get_running_loop().call_later(1.0, pending.put_nowait, name)
        except Exception:
            log.exception("reconciling CRD %s", name)


def _condition(type_: str, reason: str, message: str, old: list[Obj]) -> Obj:
    for c in old:
        if c.get("type") == type_ and c.get("status") == "True":
            return c
    return {"type": type_, "status": "True", "lastTransitionTime": now_rfc3339(),
            "reason": reason, "message": message}


async def _establish(registry: Registry, crd: Obj) -> None:
    crd_store = registry.store_for("apiextensions.k8s.io", "customresourcedefinitions")
    name = crd["metadata"]["name"]

    async def mutate(current: Obj) -> Obj:
        status = current.setdefault("status", {})
        old = status.get("conditions") or []
        status["conditions"] = [
            _condition("NamesAccepted", "NoConflicts", "no conflicts found", old),
            _condition("Established", "InitialNamesAccepted",
                       "the initial names have been accepted", old)]
        status["acceptedNames"] = copy.deepcopy(current["spec"]["names"])
        status["acceptedNames"].setdefault("singular",
                                           current["spec"]["names"]["kind"].lower())
        status["storedVersions"] = sorted(set(status.get("storedVersions") or []) | {
            v["name"] for v in current["spec"].get("versions") or () if v.get("storage")})
        return current

    async def add_finalizer(current: Obj) -> Obj:
        current["metadata"].setdefault("finalizers", []).append(CLEANUP_FINALIZER)
        return current

    if CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or ()):
        # A separate write: the status subresource never changes metadata.
        await crd_store.guaranteed_update("", name, add_finalizer, _OPTS)
    opts = WriteOptions(field_manager="kube-apiserver", subresource="status")
    await crd_store.guaranteed_update("", name, mutate, opts)


async def _cleanup(registry: Registry, crd: Obj) -> None:
    crd_store = registry.store_for("apiextensions.k8s.io", "customresourcedefinitions")
    spec = crd["spec"]
    store = registry.stores.get((spec["group"], spec["names"]["plural"]))
    if store is not None and store.spec.crd_schemas is not None:
        for entry in list(registry.cache.bucket(store.prefix).values()):
            try:
                await store.delete(entry.namespace, entry.name, {}, _OPTS)
            except errors.NotFound:
                pass
        await store.sync_cache()
        if registry.cache.bucket(store.prefix):
            raise _NotYet  # objects held by their own finalizers: try again later
        registry.remove(store.spec.group, store.spec.plural)

    async def drop(current: Obj) -> Obj:
        current["metadata"]["finalizers"] = [
            f for f in current["metadata"].get("finalizers") or () if f != CLEANUP_FINALIZER]
        return current

    await crd_store.guaranteed_update("", crd["metadata"]["name"], drop, _OPTS)
