"""CustomResourceDefinitions: a CRD becomes a served resource as soon as it is stored.

`register` turns a CRD into a resource of the registry (discovery, OpenAPI and the REST
paths follow from the registry); `Serving` calls it on every CRD event of the watch
cache. crd_controller.py runs the CRD lifecycle (names, conditions, the cleanup
finalizer) as loops over the API.

Custom objects take the generic store like any kind; their strategy prunes unknown
fields, applies schema defaults and validates against the version's
openAPIV3Schema (apiextensions-apiserver pkg/registry/customresource/strategy.go).

As upstream's crdHandler: a CRD is served unless its names were refused (NamesAccepted
False and never Established), and while it is Terminating its objects can be read,
changed and deleted but no new one created.
"""

from __future__ import annotations

import logging
from typing import Any

from kubelite.api import structural
from kubelite.api.catalogue import ResourceSpec
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.strategy import DefaultStrategy
from kubelite.apiserver.watchcache import CacheEvent
from kubelite.machinery import errors
from kubelite.machinery.errors import Cause

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class CustomResourceStrategy(DefaultStrategy):
    allow_unconditional_update = False  # a PUT must name the resourceVersion it replaces

    def __init__(self, schema: Obj | None, *, has_status: bool,
                 terminating: bool = False) -> None:
        self.schema = schema
        self.has_status = has_status
        self.terminating = terminating

    def prepare_for_create(self, obj: Obj) -> None:
        if self.terminating:
            # The CRD's cleanup is deleting every object; a new one would hold it up.
            raise errors.MethodNotAllowed(
                "create not allowed while custom resource definition is terminating")
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


def condition_true(crd: Obj, type_: str) -> bool | None:
    """The CRD's condition of that type: True, False, or None when it has none yet."""
    for condition in (crd.get("status") or {}).get("conditions") or ():
        if condition.get("type") == type_:
            return bool(condition.get("status") == "True")
    return None


def register(registry: Registry, crd: Obj) -> ResourceSpec | None:
    """Serve the CRD's resource as the CRD now stands (called on every CRD event)."""
    try:
        spec = spec_from_crd(crd)
    except (KeyError, IndexError, TypeError):
        log.warning("CRD %s is not servable", crd["metadata"]["name"])
        return None
    existing = registry.stores.get((spec.group, spec.plural))
    if existing is not None and existing.spec.crd_schemas is None:
        return None  # never shadow a built-in resource
    if condition_true(crd, "NamesAccepted") is False and not condition_true(
            crd, "Established"):
        # Names another CRD of the group holds: not served until they are released.
        # A new CRD, with no conditions yet, is served at once.
        if existing is not None:
            registry.remove(spec.group, spec.plural)
        return None
    strategy = CustomResourceStrategy(spec.crd_schemas.get(spec.storage_version)
                                      if spec.crd_schemas else None,
                                      has_status="status" in spec.subresources,
                                      terminating=bool(condition_true(crd, "Terminating")))
    registry.add(spec, strategy)
    return spec


class Serving:
    """The registry follows the stored CRDs: every CRD in the watch cache is served as
    `register` decides, and a deleted CRD's resource goes with it.

    This is not a control loop but the serving path, as upstream's crdHandler reads
    its CRD lister on every request: registration happens in the watch cache's own
    event listener, so a CRD is served as soon as its write is in the cache (a client
    may create objects right after creating their CRD), with no queue in between.
    The lifecycle writes (names, conditions, cleanup) are crd_controller.py's loops.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._prefix = registry.store_for("apiextensions.k8s.io",
                                          "customresourcedefinitions").prefix
        for entry in list(registry.cache.bucket(self._prefix).values()):
            register(registry, entry.obj)
        registry.cache.add_listener(self._on_event)

    def _on_event(self, ev: CacheEvent) -> None:
        if not ev.key.startswith(self._prefix):
            return
        crd = ev.entry.obj
        if ev.type != "DELETED":
            register(self.registry, crd)
            return
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        store = self.registry.stores.get((spec.get("group", ""), names.get("plural", "")))
        if store is not None and store.spec.crd_schemas is not None:
            self.registry.remove(store.spec.group, store.spec.plural)
