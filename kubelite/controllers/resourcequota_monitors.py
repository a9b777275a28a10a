"""The informers the resourcequota loop counts from, made when first needed
(upstream's QuotaMonitor, pkg/controller/resourcequota/resource_quota_monitor.go).

Upstream watches every resource discovery shows; here a resource is only watched once
some quota limits it, so a cluster without quotas pays nothing for them. Pods come from
the manager's shared informer (other loops watch them anyway); every other resource
gets its own informer on first use, started and synced before its lister is handed
out, and stopped with the loop.

Each informer carries the replenishment handlers: when an object stops costing quota
(deleted; a pod turning Succeeded or Failed; a Service changing type; a claim's
allocated storage changing) `replenish(namespace, evaluator)` is called, and the loop
recomputes the quotas of that namespace that limit what the evaluator measures.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable

from kubelite.api.quota.evaluators import Evaluator, evaluator_for, pod_is_charged
from kubelite.client.controller import TemporaryError
from kubelite.client.informer import Informer, strip_managed_fields
from kubelite.client.resource import resolve
from kubelite.client.rest import Client
from kubelite.client.store import Lister
from kubelite.controllers.clock import Clock
from kubelite.controllers.pods import Obj, meta

Replenish = Callable[[str, Evaluator], None]
SYNC_TIMEOUT = 30.0


def _stopped_costing(plural: str, old: Obj, new: Obj, now: datetime.datetime) -> bool:
    """Whether an update can lower usage (upstream's per-kind UpdateFilter)."""
    if plural == "pods":
        return pod_is_charged(old, now) and not pod_is_charged(new, now)
    if plural == "services":
        return (old.get("spec") or {}).get("type") != (new.get("spec") or {}).get("type")
    if plural == "persistentvolumeclaims":
        def allocated(claim: Obj) -> object:
            return ((claim.get("status") or {}).get("allocatedResources") or {}).get("storage")
        return allocated(old) != allocated(new)
    return False


class QuotaMonitors:
    def __init__(self, client: Client, *, pods: Informer, replenish: Replenish,
                 clock: Clock) -> None:
        self.client = client
        self.replenish = replenish
        self.clock = clock
        self._informers: dict[tuple[str, str], Informer] = {("", "pods"): pods}
        self._owned: list[Informer] = []
        self._watch(pods, "", "pods")

    def _watch(self, informer: Informer, group: str, plural: str) -> None:
        evaluator = evaluator_for(group, plural)

        def deleted(obj: Obj) -> None:
            self.replenish(str(meta(obj).get("namespace") or ""), evaluator)

        def updated(old: Obj, new: Obj) -> None:
            if _stopped_costing(plural, old, new, self.clock()):
                deleted(new)
        informer.add_event_handler(on_update=updated, on_delete=deleted)

    async def lister_for(self, group: str, plural: str) -> Lister | None:
        """The synced lister of a resource, or None if kubelite does not know it (a
        custom resource: its count is not kept)."""
        informer = self._informers.get((group, plural))
        if informer is None:
            try:
                resource = resolve(f"{plural}.{group}" if group else plural)
            except KeyError:
                return None
            informer = self._informers[(group, plural)] = Informer(self.client, resource,
                                                                   transform=strip_managed_fields)
            self._owned.append(informer)
            self._watch(informer, group, plural)
            informer.start()
        if not await informer.wait_for_sync(SYNC_TIMEOUT):
            raise TemporaryError(f"{plural}.{group} not yet synced", delay=1.0)
        return informer.lister

    async def stop(self) -> None:
        await asyncio.gather(*(informer.stop() for informer in self._owned))
