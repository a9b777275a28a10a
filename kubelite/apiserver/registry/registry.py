"""The table of served resources and the checks that cross resources.

`Registry` owns one `Store` per resource (built-ins from the catalogue, custom
resources as their CRDs are established) and the rules that need more than one
object: a namespace must exist and not be terminating before anything is created in
it, Services get ClusterIPs and NodePorts, every write records managedFields, and pods
get their graceful deletion period.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kubelite.api.catalogue import RESOURCES, ResourceSpec
from kubelite.api.schemas import resource_schema
from kubelite.apiserver.patch import managed_fields
from kubelite.apiserver.patch.managed_fields import reset_fields
from kubelite.apiserver.registry import allocators
from kubelite.apiserver.registry.namespace_store import NamespaceStore
from kubelite.apiserver.registry.objectmeta import validate_object_meta
from kubelite.apiserver.registry.store import Store, WriteOptions
from kubelite.apiserver.registry.strategies import (
    STATUS_STRATEGIES,
    STRATEGIES,
    SUBRESOURCE_STRATEGIES,
)
from kubelite.apiserver.registry.strategies.names import validate_name
from kubelite.apiserver.registry.strategy import (
    METADATA_FIELDS,
    DefaultStrategy,
    StatusStrategy,
    Strategy,
)
from kubelite.apiserver.watchcache import Cache, CacheEvent
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_rfc3339
from kubelite.machinery.validation import field_invalid
from kubelite.storage.backend import Backend

Obj = dict[str, Any]


class Registry:
    def __init__(self, *, backend: Backend, cache: Cache,
                 service_cidr: str = allocators.DEFAULT_SERVICE_CIDR) -> None:
        self.backend = backend
        self.cache = cache
        self.stores: dict[tuple[str, str], Store] = {}
        self.services = allocators.ServiceAllocator(backend=backend, cache=cache,
                                                    cidr=service_cidr)
        self._background: set[asyncio.Task[None]] = set()
        # No garbage collector runs in the API server: orphan/foreground deletion
        # finalizers are only added when one is registered (the controller manager).
        self.has_gc = False
        for spec in RESOURCES:
            self.add(spec)
        cache.add_listener(self._on_event)

    def _on_event(self, event: CacheEvent) -> None:
        # A deleted Service's addresses and ports go back to the pool. Every server
        # sharing the store does this; releasing twice is harmless.
        if event.type == "DELETED" and \
                event.key.startswith(self.stores[("", "services")].prefix):
            task = asyncio.create_task(self.services.release_unused(event.entry.obj, None))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    # -- resources ---------------------------------------------------------------

    def add(self, spec: ResourceSpec, strategy: Strategy | None = None) -> Store:
        key = (spec.group, spec.plural)
        kind_key = spec.storage_alias or key  # an alias stores, and so behaves, as its target
        strategy = strategy or STRATEGIES.get(kind_key) or DefaultStrategy()
        subresources: dict[str, Strategy] = {}
        if "status" in spec.subresources:
            subresources["status"] = STATUS_STRATEGIES.get(kind_key) or StatusStrategy(strategy)
        if "binding" in spec.subresources:
            subresources["binding"] = BindingStrategy()
        for sub in spec.subresources:
            extra = SUBRESOURCE_STRATEGIES.get((spec.group, spec.plural, sub))
            if extra is not None:
                subresources[sub] = extra
        store_class = NamespaceStore if key == ("", "namespaces") else Store
        store = store_class(spec, backend=self.backend, cache=self.cache, strategy=strategy,
                      subresource_strategies=subresources, registry=self)
        self.stores[key] = store
        if store.field_names != METADATA_FIELDS:
            self.cache.set_field_extractor(store.prefix, strategy.selectable_fields)
        return store

    def remove(self, group: str, plural: str) -> None:
        self.stores.pop((group, plural), None)

    def lookup(self, group: str, version: str, plural: str) -> Store | None:
        store = self.stores.get((group, plural))
        if store is None or version not in store.spec.versions:
            return None
        return store

    def store_for(self, group: str, plural: str) -> Store:
        return self.stores[(group, plural)]

    def specs(self) -> list[ResourceSpec]:
        return [s.spec for s in self.stores.values()]

    # -- cross-object rules --------------------------------------------------------

    async def check_namespace_allows_create(self, spec: ResourceSpec, namespace: str) -> None:
        if not spec.namespaced:
            return
        ns_store = self.stores[("", "namespaces")]
        entry = self.cache.get(ns_store.key("", namespace))
        if entry is None:
            await ns_store.sync_cache()
            entry = self.cache.get(ns_store.key("", namespace))
        if entry is None:
            raise errors.not_found("", "namespaces", namespace)
        if entry.deleting:
            raise errors.Forbidden(
                f"unable to create new content in namespace {namespace} because it is being "
                f"terminated",
                kind=spec.plural, group=spec.group,
                causes=(errors.Cause("NamespaceTerminating",
                                     f"namespace {namespace} is being terminated",
                                     "metadata.namespace"),))

    def validate_name(self, spec: ResourceSpec, name: str) -> None:
        problems = validate_name(spec.group, spec.plural, name)
        if problems:
            raise errors.invalid(spec.group, spec.kind, name, [
                field_invalid("metadata.name", name, p) for p in problems])

    def validate_metadata(self, obj: Obj) -> list[errors.Cause]:
        return validate_object_meta(obj.get("metadata") or {})

    async def admit(self, spec: ResourceSpec, new: Obj, old: Obj | None) -> list[str]:
        """What a create (old None) or update needs from shared pools: a Service's
        ClusterIP and NodePorts. Returns the reservations made, which the caller
        releases (`release`) if its write does not happen."""
        if (spec.group, spec.plural) == ("", "services"):
            return await self.services.allocate(new, old)
        if (spec.group, spec.plural) == ("", "pods") and old is None:
            self._admit_priority(new)
        return []

    def _admit_priority(self, pod: Obj) -> None:
        """The Priority admission plugin: a pod's priority comes from its PriorityClass
        (or the cluster's globalDefault one), never from the pod itself."""
        spec = pod.setdefault("spec", {})
        classes = [e.obj for e in self.cache.bucket(
            self.stores[("scheduling.k8s.io", "priorityclasses")].prefix).values()]
        name = spec.get("priorityClassName")
        if name:
            found = next((c for c in classes if c["metadata"]["name"] == name), None)
            if found is None:
                raise errors.Forbidden(
                    f'pods "{pod["metadata"].get("name", "")}" is forbidden: no '
                    f"PriorityClass with name {name} was found", kind="pods")
        else:
            found = next((c for c in classes if c.get("globalDefault")), None)
            if found is not None:
                spec["priorityClassName"] = found["metadata"]["name"]
        value = int(found.get("value", 0)) if found is not None else 0
        given = spec.get("priority")
        if given is not None and given != value:
            raise errors.Forbidden(
                f'pods "{pod["metadata"].get("name", "")}" is forbidden: the integer value '
                f"of priority ({given}) must not be provided in pod spec; priority admission "
                f"controller computed {value} from the given PriorityClass name")
        spec["priority"] = value
        spec["preemptionPolicy"] = (found or {}).get("preemptionPolicy") or \
            spec.get("preemptionPolicy") or "PreemptLowerPriority"

    async def release(self, reserved: list[str]) -> None:
        if reserved:
            await self.services.release(reserved)

    async def admitted(self, spec: ResourceSpec, new: Obj, old: Obj) -> None:
        """After an update was written: free what the object stopped using."""
        if (spec.group, spec.plural) == ("", "services"):
            await self.services.release_unused(old, new)

    def record_managed_fields(self, spec: ResourceSpec, old: Obj | None, new: Obj,
                              opts: WriteOptions, *, operation: str) -> None:
        if not opts.field_manager or opts.apply:
            return
        meta = new.setdefault("metadata", {})
        entries = managed_fields.update_managed_fields(
            old, new, manager=opts.field_manager, operation=operation,
            api_version=new.get("apiVersion", spec.gvk().api_version),
            subresource=opts.subresource, schema=resource_schema(spec),
            managed=(old or {}).get("metadata", {}).get("managedFields") or [],
            now=now_rfc3339(), ignored=reset_fields(spec, opts.subresource))
        if entries:
            meta["managedFields"] = entries
        else:
            meta.pop("managedFields", None)

    def grace_period(self, spec: ResourceSpec, obj: Obj, options: Obj) -> int:
        """Seconds an object lingers with a deletionTimestamp before it goes.

        Only pods are graceful (pkg/registry/core/pod/strategy.go CheckGracefulDelete):
        one not yet on a node, or finished, goes at once, since no kubelet must stop it."""
        if (spec.group, spec.plural) != ("", "pods"):
            return 0
        pod_spec = obj.get("spec") or {}
        if not pod_spec.get("nodeName"):
            return 0
        if (obj.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
            return 0
        given = options.get("gracePeriodSeconds")
        if given is not None:
            return max(int(given), 0)
        return int(pod_spec.get("terminationGracePeriodSeconds", 30))


class BindingStrategy(DefaultStrategy):
    """pods/binding: the one write allowed to set an existing pod's spec.nodeName
    (pkg/registry/core/pod/storage BindingREST). The binding handler makes exactly that
    change, so the pod update rules that forbid it do not run."""

    def bumps_generation(self, new: Obj, old: Obj) -> bool:
        return False


