"""ResourceQuota (plugin/pkg/admission/resourcequota upstream): a write that would take
a namespace past one of its quotas is refused with 403, and one that fits is charged
to the quotas' status.used before it is stored.

The charge is the race guard. Quotas are read from the watch cache; each changed
quota's status is written back guarded by the resourceVersion that was read, so of two
creates that both fit under the last free unit, only one write of status.used can
succeed. The other gets a Conflict, reads the quotas afresh (after the cache caught up
with the store) and is checked again against the new used, up to three times, as
upstream retries; then the Conflict is the answer. Within one server, writes to one
namespace's quotas also take turns on a lock, so they do not conflict with each other
at all; the resourceVersion still guards against other servers and the resourcequota
loop.

As upstream, a write refused later (or a dry run, which is never charged) may leave
used above what is stored; the resourcequota loop recomputes it from the objects.
Quotas are looked up in the cache; only when a namespace seems to have none does the
plugin wait for the cache to catch up, as upstream falls back to a live lookup.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable
from typing import Any, ClassVar

from kubelite.api.quota import resources as rl
from kubelite.api.quota.evaluators import evaluator_for
from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.quota_check import QuotaRefusal, check_request
from kubelite.apiserver.admission.stores import StoreView, Stores
from kubelite.apiserver.watchcache import Cache
from kubelite.machinery import errors

Obj = dict[str, Any]
Clock = Callable[[], datetime.datetime]
RETRIES = 3


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def namespace_objects(stores: Stores, cache: Cache, group: str, plural: str,
                      namespace: str) -> list[Obj]:
    """The cached objects of one namespaced resource in one namespace."""
    store = stores.store_for(group, plural)
    prefix = store.key_prefix(namespace)
    return [entry.obj for key, entry in cache.bucket(store.prefix).items()
            if key.startswith(prefix)]


class ResourceQuota:
    name: ClassVar[str] = "ResourceQuota"

    def __init__(self, *, stores: Stores, cache: Cache, clock: Clock = _utc_now) -> None:
        self.stores = stores
        self.cache = cache
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    def handles(self, attrs: Attributes) -> bool:
        if attrs.operation is Operation.DELETE or not attrs.resource.namespaced:
            return False
        evaluator = evaluator_for(attrs.resource.group, attrs.resource.plural)
        return evaluator.handles(attrs.operation.value, attrs.subresource)

    async def _quotas(self, store: StoreView, namespace: str) -> list[Obj]:
        quotas = namespace_objects(self.stores, self.cache, "", "resourcequotas", namespace)
        if not quotas:
            await store.sync_cache()
            quotas = namespace_objects(self.stores, self.cache, "", "resourcequotas", namespace)
        return quotas

    async def validate(self, attrs: Attributes) -> None:
        evaluator = evaluator_for(attrs.resource.group, attrs.resource.plural)
        store = self.stores.store_for("", "resourcequotas")
        obj = attrs.obj
        obj.setdefault("metadata", {}).setdefault("namespace", attrs.namespace)
        lock = self._locks.setdefault(attrs.namespace, asyncio.Lock())
        async with lock:
            quotas = await self._quotas(store, attrs.namespace)
            for attempt in range(RETRIES + 1):
                if not quotas:
                    return None
                try:
                    charged = check_request(
                        quotas, evaluator=evaluator, operation=attrs.operation.value,
                        subresource=attrs.subresource, obj=obj, old=attrs.old, now=self.clock())
                except QuotaRefusal as refusal:
                    raise attrs.forbidden(refusal.message) from None
                if attrs.dry_run:
                    return None
                failed, last_error = await self._write_charges(store, quotas, charged)
                if not failed:
                    return None
                if attempt == RETRIES:
                    raise last_error
                # Someone else charged (or the loop recomputed) first: check again
                # only the quotas whose write failed; the others hold our charge.
                await store.sync_cache()
                quotas = [q for q in namespace_objects(self.stores, self.cache, "",
                                                       "resourcequotas", attrs.namespace)
                          if q["metadata"]["name"] in failed]
        return None

    async def _write_charges(self, store: StoreView, before: list[Obj], after: list[Obj],
                             ) -> tuple[set[str], errors.StatusError]:
        failed: set[str] = set()
        last_error: errors.StatusError = errors.InternalError("resource quota evaluation failed")
        for old, new in zip(before, after):
            if new is old or rl.equals(rl.parse_list((old.get("status") or {}).get("used")),
                                       rl.parse_list((new.get("status") or {}).get("used"))):
                continue
            meta = new["metadata"]
            try:
                await store.update_status(meta["namespace"], meta["name"], new)
            except (errors.Conflict, errors.NotFound) as err:
                failed.add(meta["name"])
                last_error = err
        return failed, last_error
