"""ResourceQuota (plugin/pkg/admission/resourcequota upstream): a write that would take
a namespace past one of its quotas is refused with 403, and one that fits is charged
to the quotas' status.used before it is stored.

The charge is the race guard. Each changed quota's status is written back guarded by
the resourceVersion that was read, so of two creates that both fit under the last
free unit, only one write of status.used can succeed. The other gets a Conflict,
reads the quotas afresh (after the cache caught up with the store) and is checked
again against the new used, up to three times, as upstream retries; then the
Conflict is the answer. Within one server, the charges to one namespace's quotas take
turns on a lock, and each reads the quota as this server last wrote it when the watch
cache has not shown that write yet, so they do not conflict with each other; the
resourceVersion still guards against other servers and the resourcequota loop.

A namespace without quotas costs a create a cache lookup and no lock
(namespaced_lookup.py). As upstream, a write refused after admission (or a dry run,
which is never charged) may leave used above what is stored; the resourcequota loop
recomputes it from the objects.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable
from typing import Any, ClassVar

from kubelite.api.quota import resources as rl
from kubelite.api.quota.evaluators import Evaluator, evaluator_for
from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.namespaced_lookup import NamespacedLookup
from kubelite.apiserver.admission.quota_check import QuotaRefusal, check_request
from kubelite.apiserver.admission.stores import StoreView, Stores
from kubelite.apiserver.watchcache import Cache
from kubelite.machinery import errors

Obj = dict[str, Any]
Clock = Callable[[], datetime.datetime]
RETRIES = 3


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _revision(quota: Obj) -> int:
    return int((quota.get("metadata") or {}).get("resourceVersion") or 0)


def _used(quota: Obj) -> rl.ResourceList:
    return rl.parse_list((quota.get("status") or {}).get("used"))


class ResourceQuota:
    name: ClassVar[str] = "ResourceQuota"

    def __init__(self, *, stores: Stores, cache: Cache, clock: Clock = _utc_now) -> None:
        self.stores = stores
        self.clock = clock
        self.quotas = NamespacedLookup(stores=stores, cache=cache, group="",
                                       plural="resourcequotas")
        self._locks: dict[str, asyncio.Lock] = {}
        # Quotas as this server last wrote them, until the cache shows that revision.
        self._written: dict[tuple[str, str], Obj] = {}

    def handles(self, attrs: Attributes) -> bool:
        if attrs.operation is Operation.DELETE or not attrs.resource.namespaced:
            return False
        evaluator = evaluator_for(attrs.resource.group, attrs.resource.plural)
        return evaluator.handles(attrs.operation.value, attrs.subresource)

    def _freshest(self, namespace: str, cached: list[Obj]) -> list[Obj]:
        out = []
        for quota in cached:
            key = (namespace, quota["metadata"]["name"])
            written = self._written.get(key)
            if written is not None and _revision(written) > _revision(quota):
                out.append(written)
            else:
                self._written.pop(key, None)
                out.append(quota)
        return out

    async def validate(self, attrs: Attributes) -> None:
        if not await self.quotas.list(attrs.namespace):
            return None
        evaluator = evaluator_for(attrs.resource.group, attrs.resource.plural)
        lock = self._locks.setdefault(attrs.namespace, asyncio.Lock())
        async with lock:
            await self._charge(attrs, evaluator)
        return None

    async def _charge(self, attrs: Attributes, evaluator: Evaluator) -> None:
        namespace = attrs.namespace
        store = self.stores.store_for("", "resourcequotas")
        quotas = self._freshest(namespace, self.quotas.cached(namespace))
        for attempt in range(RETRIES + 1):
            if not quotas:
                return
            try:
                charged = check_request(
                    quotas, evaluator=evaluator, operation=attrs.operation.value,
                    subresource=attrs.subresource, obj=attrs.obj, old=attrs.old,
                    now=self.clock())
            except QuotaRefusal as refusal:
                raise attrs.forbidden(refusal.message) from None
            if attrs.dry_run:
                return
            failed, last_error = await self._write_charges(store, namespace, quotas, charged)
            if not failed:
                return
            if attempt == RETRIES:
                raise last_error
            # Someone else charged (or the loop recounted) first: check again only the
            # quotas whose write failed; the others hold this write's charge already.
            await store.sync_cache()
            quotas = [q for q in self._freshest(namespace, self.quotas.cached(namespace))
                      if q["metadata"]["name"] in failed]

    async def _write_charges(self, store: StoreView, namespace: str, before: list[Obj],
                             after: list[Obj]) -> tuple[set[str], errors.StatusError]:
        failed: set[str] = set()
        last_error: errors.StatusError = errors.InternalError("resource quota evaluation failed")
        for old, new in zip(before, after):
            if new is old or rl.equals(_used(old), _used(new)):
                continue
            name = new["metadata"]["name"]
            try:
                written = await store.update_status(namespace, name, new)
            except (errors.Conflict, errors.NotFound) as err:
                self._written.pop((namespace, name), None)
                failed.add(name)
                last_error = err
            else:
                self._written[(namespace, name)] = written
        return failed, last_error
