"""The resourcequota loop: every ResourceQuota's status.hard is its spec.hard and its
status.used is what the namespace's objects use (upstream's
pkg/controller/resourcequota/resource_quota_controller.go).

The API server's ResourceQuota admission charges each write to status.used as it
happens; this loop is what brings used back down and keeps it honest:

- a quota created, or its spec.hard changed, is synced at once (until then the
  admission refuses what it limits: "status unknown for quota");
- an object that stops costing (deleted; a pod turned Succeeded or Failed; a Service
  changing type) has its namespace's quotas that limit such objects synced
  (replenishment, resourcequota_monitors.py);
- every quota is synced every `resync_period` seconds (upstream's
  --resource-quota-sync-period, 5 minutes), which also repairs charges of writes that
  were refused after admission.

A sync sums the usage of the quota's namespace from informer caches with the same
evaluators the admission uses (kubelite/api/quota), keeps any used value it could not
compute, drops the ones no longer limited, and writes status only when it changed.
The write is guarded by the resourceVersion read: if the admission charged in
between, the write conflicts and the sync is retried with the fresh quota.
"""

from __future__ import annotations

from kubelite.api.quota import resources as rl
from kubelite.api.quota.evaluators import Evaluator, evaluators_for_quota, usage_stats
from kubelite.client.controller import Controller
from kubelite.client.store import split_key
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.pods import Obj, meta
from kubelite.controllers.resourcequota_monitors import QuotaMonitors

RESYNC_PERIOD = 300.0


def quota_key(quota: Obj) -> str:
    return f"{meta(quota).get('namespace')}/{meta(quota).get('name')}"


class ResourceQuotaLoop:
    name = "resourcequota"

    def __init__(self, ctx: LoopContext, *, resync_period: float = RESYNC_PERIOD,
                 clock: Clock = utc_now) -> None:
        self.client = ctx.client
        self.clock = clock
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=5)
        self.quotas = ctx.informers.informer("resourcequotas")
        self.quotas.add_event_handler(on_add=self._enqueue, on_update=self._quota_updated)
        self.monitors = QuotaMonitors(self.client, pods=ctx.informers.informer("pods"),
                                      replenish=self._replenish, clock=clock)
        self.controller.enqueue_every(
            resync_period, lambda: [quota_key(q) for q in self.quotas.lister.list()])

    async def run(self) -> None:
        try:
            await self.controller.run()
        finally:
            await self.monitors.stop()

    def _enqueue(self, quota: Obj) -> None:
        self.controller.enqueue(quota_key(quota))

    def _quota_updated(self, old: Obj, new: Obj) -> None:
        # Only a change of what is limited needs a recount; status writes (the
        # admission's charges, this loop's own) do not.
        hard = rl.parse_list((new.get("spec") or {}).get("hard"))
        if not rl.equals(rl.parse_list((old.get("spec") or {}).get("hard")), hard):
            self._enqueue(new)

    def _replenish(self, namespace: str, evaluator: Evaluator) -> None:
        for quota in self.quotas.lister.list(namespace):
            if evaluator.matching_resources((quota.get("status") or {}).get("hard") or {}):
                self._enqueue(quota)

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        quota = self.quotas.lister.get(namespace, name)
        if quota is None:
            return
        hard = rl.parse_list((quota.get("spec") or {}).get("hard"))
        status = quota.get("status") or {}
        dirty = status.get("hard") is None or status.get("used") is None or \
            not rl.equals(hard, rl.parse_list(status.get("hard")))
        old_used = rl.parse_list(status.get("used"))
        used = {**old_used, **await self._usage(namespace, quota, hard)}
        used = rl.mask(used, hard)
        if not dirty and rl.equals(used, old_used):
            return
        await self.client.update_status("resourcequotas", {
            **quota, "status": {"hard": rl.to_json(hard), "used": rl.to_json(used)}},
            namespace=namespace)

    async def _usage(self, namespace: str, quota: Obj, hard: rl.ResourceList,
                     ) -> rl.ResourceList:
        """quota.CalculateUsage: the usage of every limited name some evaluator can
        measure; names whose objects cannot be listed are left out (kept as they were)."""
        evaluators = evaluators_for_quota(hard)
        matched = {name for ev in evaluators for name in ev.matching_resources(hard)}
        usage: rl.ResourceList = {}
        now = self.clock()
        for evaluator in evaluators:
            names = evaluator.matching_resources(matched)
            if not names:
                continue
            lister = await self.monitors.lister_for(evaluator.group, evaluator.plural)
            if lister is None:
                matched -= set(names)
                continue
            usage = rl.add(usage, usage_stats(evaluator, lister.list(namespace), quota,
                                              names, now))
        return rl.mask(usage, matched)
