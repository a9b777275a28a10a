"""LimitRanger (plugin/pkg/admission/limitranger upstream): a namespace's LimitRanges
default what new pods' containers leave unstated (mutating phase) and bound what pods
and PersistentVolumeClaims ask for (validating phase, on the defaulted object). A
violation is 403 with every broken bound listed (limit_ranges.py has the rules).

A LimitRange created through this server makes the plugin look its namespace up
afresh. Pods are only checked on create: their containers' resources cannot change on update
(the resize subresource is not checked here, as upstream). Claims are checked on
create and update. Objects already being deleted are left alone.

LimitRanges come from the watch cache (namespaced_lookup.py: a namespace that seems to
have none is looked up again once the cache caught up with the store).
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubelite.apiserver.admission.chain import Attributes, Finish, Operation
from kubelite.apiserver.admission.limit_ranges import (
    aggregate,
    apply_defaults,
    validate_claim,
    validate_pod,
)
from kubelite.apiserver.admission.namespaced_lookup import NamespacedLookup
from kubelite.apiserver.admission.stores import Stores
from kubelite.apiserver.watchcache import Cache

Obj = dict[str, Any]


class LimitRanger:
    name: ClassVar[str] = "LimitRanger"

    def __init__(self, *, stores: Stores, cache: Cache) -> None:
        self.limit_ranges = NamespacedLookup(stores=stores, cache=cache, group="",
                                             plural="limitranges")

    def handles(self, attrs: Attributes) -> bool:
        if attrs.subresource or attrs.operation is Operation.DELETE:
            return False
        if attrs.old is not None and (attrs.old.get("metadata") or {}).get("deletionTimestamp"):
            return False
        if attrs.is_resource("", "pods") or attrs.is_resource("", "limitranges"):
            return attrs.operation is Operation.CREATE
        return attrs.is_resource("", "persistentvolumeclaims")

    async def _limit_ranges(self, namespace: str) -> list[Obj]:
        found = await self.limit_ranges.list(namespace)
        return sorted(found, key=lambda lr: str(lr["metadata"].get("name")))

    async def admit(self, attrs: Attributes) -> None:
        if not attrs.is_resource("", "pods"):
            return
        limit_ranges = await self._limit_ranges(attrs.namespace)
        if not limit_ranges:
            return
        # Requests default from limits before admission upstream (at decoding); here
        # that defaulting runs later, so it is done first, or a LimitRange's
        # defaultRequest would win over the container's own limit.
        for key in ("containers", "initContainers"):
            for container in (attrs.obj.get("spec") or {}).get(key) or ():
                resources = (container or {}).get("resources") if isinstance(container, dict) else None
                if isinstance(resources, dict) and isinstance(resources.get("limits"), dict):
                    requests = resources.setdefault("requests", {})
                    if isinstance(requests, dict):
                        for name, value in resources["limits"].items():
                            requests.setdefault(name, value)
        for limit_range in limit_ranges:
            apply_defaults(limit_range, attrs.obj)

    async def validate(self, attrs: Attributes) -> Finish | None:
        if attrs.is_resource("", "limitranges"):
            # A new LimitRange applies from the next pod on, whatever the cache shows.
            return self.limit_ranges.forget_once_stored(attrs.namespace)
        pod = attrs.is_resource("", "pods")
        for limit_range in await self._limit_ranges(attrs.namespace):
            found = validate_pod(limit_range, attrs.obj) if pod \
                else validate_claim(limit_range, attrs.obj)
            if found:
                raise attrs.forbidden(aggregate(found))
        return None
