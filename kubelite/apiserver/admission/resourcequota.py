"""ResourceQuota (plugin/pkg/admission/resourcequota upstream): a write that would take
a namespace past one of its quotas is refused with 403, and one that fits is charged
to the quotas' status.used before it is stored.

The charge is the race guard. Each changed quota's status is written back guarded by
the resourceVersion that was read, so of two writes that both fit under the last free
unit, only one charge can be stored. The other gets a Conflict, reads the quotas afresh
(after the cache caught up with the store) and is checked again against the new used,
up to three times, as upstream retries; then the Conflict is the answer.

As upstream's quota evaluator does, the writes waiting on one namespace are checked in
batches by one worker per namespace: each write in turn against the quotas as the
writes before it in the batch left them, then one status write per changed quota for
the whole batch. So a burst of creates in one namespace costs a few quota writes, not
one each, and the writes of one server never conflict with each other. A quota this
server just charged is read as it was written until the watch cache shows that
revision. Writes in a namespace without quotas cost a cache lookup and nothing more
(namespaced_lookup.py).

As upstream, a write refused after admission (or a dry run, which is never charged)
may leave used above what is stored; the resourcequota loop recomputes it.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kubelite.api.quota import resources as rl
from kubelite.api.quota.evaluators import Evaluator, evaluator_for
from kubelite.apiserver.admission.chain import Attributes, Finish, Operation
from kubelite.apiserver.admission.namespaced_lookup import NamespacedLookup
from kubelite.apiserver.admission.quota_check import QuotaRefusal, check_request
from kubelite.apiserver.admission.stores import StoreView, Stores
from kubelite.apiserver.watchcache import Cache
from kubelite.machinery import errors

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Clock = Callable[[], datetime.datetime]
RETRIES = 3


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _revision(quota: Obj) -> int:
    return int((quota.get("metadata") or {}).get("resourceVersion") or 0)


def _used(quota: Obj) -> rl.ResourceList:
    return rl.parse_list((quota.get("status") or {}).get("used"))


@dataclass(eq=False, slots=True)
class _Waiter:
    """One write waiting for its namespace's worker; `done` gets None (admitted) or the
    StatusError refusing it."""

    attrs: Attributes
    evaluator: Evaluator
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())

    def settle(self, error: BaseException | None = None) -> None:
        if not self.done.done():  # the request may have gone away meanwhile
            if error is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(error)


class ResourceQuota:
    name: ClassVar[str] = "ResourceQuota"

    def __init__(self, *, stores: Stores, cache: Cache, clock: Clock = _utc_now) -> None:
        self.stores = stores
        self.clock = clock
        self.quotas = NamespacedLookup(stores=stores, cache=cache, group="",
                                       plural="resourcequotas")
        self._pending: dict[str, list[_Waiter]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        # Quotas as this server last wrote them, until the cache shows that revision.
        self._written: dict[tuple[str, str], Obj] = {}

    def handles(self, attrs: Attributes) -> bool:
        if attrs.operation is Operation.DELETE or not attrs.resource.namespaced:
            return False
        evaluator = evaluator_for(attrs.resource.group, attrs.resource.plural)
        return evaluator.handles(attrs.operation.value, attrs.subresource)

    async def validate(self, attrs: Attributes) -> Finish | None:
        finish = None
        if attrs.is_resource("", "resourcequotas") and attrs.operation is Operation.CREATE:
            finish = self.quotas.forget_once_stored(attrs.namespace)
        if not await self.quotas.list(attrs.namespace):
            return finish
        waiter = _Waiter(attrs, evaluator_for(attrs.resource.group, attrs.resource.plural))
        self._pending.setdefault(attrs.namespace, []).append(waiter)
        if attrs.namespace not in self._workers:
            self._workers[attrs.namespace] = asyncio.create_task(
                self._work(attrs.namespace), name=f"resourcequota {attrs.namespace}")
        await waiter.done
        return finish

    async def _work(self, namespace: str) -> None:
        """Check the namespace's waiting writes, a batch at a time, until none wait."""
        try:
            while batch := self._pending.pop(namespace, []):
                try:
                    await self._check_batch(namespace, batch)
                except Exception as exc:  # a bug or an outage: refuse, never hang
                    log.exception("resource quota evaluation in %s failed", namespace)
                    for waiter in batch:
                        waiter.settle(errors.InternalError(f"resource quota evaluation failed: {exc}"))
        finally:
            self._workers.pop(namespace, None)
            for waiter in self._pending.pop(namespace, []):  # only if cancelled
                waiter.settle(errors.InternalError("resource quota evaluation stopped"))

    def _freshest(self, namespace: str) -> list[Obj]:
        out = []
        for quota in self.quotas.cached(namespace):
            key = (namespace, quota["metadata"]["name"])
            written = self._written.get(key)
            if written is not None and _revision(written) > _revision(quota):
                out.append(written)
            else:
                self._written.pop(key, None)
                out.append(quota)
        return out

    async def _check_batch(self, namespace: str, batch: list[_Waiter]) -> None:
        """upstream's checkQuotas: every waiter is settled before this returns."""
        store = self.stores.store_for("", "resourcequotas")
        quotas = self._freshest(namespace)
        undecided = batch
        for attempt in range(RETRIES + 1):
            charging: list[_Waiter] = []  # admitted once the charges are stored
            running = quotas
            for waiter in undecided:
                attrs = waiter.attrs
                try:
                    charged = check_request(
                        running, evaluator=waiter.evaluator, operation=attrs.operation.value,
                        subresource=attrs.subresource, obj=attrs.obj, old=attrs.old,
                        now=self.clock())
                except QuotaRefusal as refusal:
                    waiter.settle(attrs.forbidden(refusal.message))
                    continue
                if attrs.dry_run or charged is running:
                    waiter.settle()
                    continue
                running = charged
                charging.append(waiter)
            if not charging:
                return
            failed, last_error = await self._write_charges(store, namespace, quotas, running)
            if not failed:
                for waiter in charging:
                    waiter.settle()
                return
            if attempt == RETRIES:
                for waiter in charging:
                    waiter.settle(last_error)
                return
            # Someone else charged (or the loop recounted) first: check the writes
            # again against the quotas whose write failed; the others hold their charge.
            await store.sync_cache()
            quotas = [q for q in self._freshest(namespace) if q["metadata"]["name"] in failed]
            undecided = charging

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
