"""The disruption loop (upstream's pkg/controller/disruption/disruption.go): every
PodDisruptionBudget's status, which the API server's pods/eviction reads and
decrements, so `kubectl drain` proceeds from real numbers.

    pdbs, pods informers ── handlers: a budget's key on its changes and on changes of
          │                 the pods it selects; a pod's key (stale-condition queue)
          │                 when it carries a DisruptionTarget condition but is not deleted
    sync(namespace/name):  budget from the lister (gone: nothing)
        pods it selects (pods lister), expected pods and desired healthy
        (disruption_rules; the controllers' scale from disruption_scale when a
        percentage or maxUnavailable needs it), disruptedPods entries still pending,
        current healthy  ─► status written when it changed (observedGeneration, the
        DisruptionAllowed condition), through the status subresource with the budget's
        resourceVersion: an eviction's decrement in between is never overwritten, it
        makes a conflict and the sync runs again on the newer budget
        an entry of disruptedPods pending: look again when it expires (2 minutes)
        anything else failing: the fail-safe, disruptionsAllowed 0 with
        DisruptionAllowed False / SyncFailed, so no eviction passes on unknown numbers
    stale(namespace/name): a pod whose DisruptionTarget=True condition is older than 2
        minutes without the pod being deleted gets it set to False (the disruption that
        set it never happened); the kubelet's own (TerminationByKubelet) are left alone

Events as upstream words them, from component `controllermanager`: NoPods,
CalculateExpectedPodCountFailed, UnmanagedPods on the budget; NotDeleted and
MultiplePodDisruptionBudgets on pods. The clock is injected (`clock=`) for tests.

A pod selected by several budgets enqueues every one of them (upstream picks one
arbitrarily and warns; the warning is kept, the others are not left stale).
"""

from __future__ import annotations

import asyncio
import datetime
import logging

from kubelite.client.controller import Controller
from kubelite.client.events import NORMAL, WARNING
from kubelite.client.store import object_key, split_key
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.disruption_rules import (
    DISRUPTION_TARGET, STALE_DISRUPTION_TIMEOUT, BudgetError, BudgetStatus,
    expected_counts, expired_disruptions, count_healthy, fail_safe_status,
    live_disrupted_pods, needs_scale, new_status, stale_disruption_wait)
from kubelite.controllers.disruption_scale import ControllerScales
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors, labels
from kubelite.machinery.timestamps import format_time

log = logging.getLogger(__name__)

PDBS = "poddisruptionbudgets.policy"
COMPONENT = "controllermanager"  # upstream's EventSource for this loop

def _as_pdb(pdb: Obj) -> Obj:
    return {**pdb, "kind": "PodDisruptionBudget", "apiVersion": "policy/v1"}


def _as_pod(pod: Obj) -> Obj:
    return {**pod, "kind": "Pod", "apiVersion": "v1"}


class DisruptionLoop:
    name = "disruption"

    def __init__(self, ctx: LoopContext, *, clock: Clock = utc_now,
                 stale_timeout: datetime.timedelta = STALE_DISRUPTION_TIMEOUT) -> None:
        self.client = ctx.client
        self.clock = clock
        self.stale_timeout = stale_timeout
        self.recorder = ctx.recorder(COMPONENT)
        # one worker per queue, as upstream runs them: a budget's status is written
        # from one sync at a time in any case
        self.controller: Controller[str] = Controller(self.name, self.sync)
        self.stale: Controller[str] = Controller("disruption-stale-pod", self.sync_stale_pod)
        self.pdbs = ctx.informers.informer(PDBS)
        self.pods = ctx.informers.informer("pods")
        self.scales = ControllerScales(
            ctx.client,
            replication_controllers=ctx.informers.informer("replicationcontrollers"),
            replica_sets=ctx.informers.informer("replicasets.apps"),
            deployments=ctx.informers.informer("deployments.apps"),
            stateful_sets=ctx.informers.informer("statefulsets.apps"))
        self.pdbs.add_event_handler(
            on_add=self._enqueue_pdb, on_update=lambda _old, new: self._enqueue_pdb(new),
            on_delete=self._enqueue_pdb)
        self.pods.add_event_handler(
            on_add=self._pod_changed, on_update=lambda _old, new: self._pod_changed(new),
            on_delete=self._pod_deleted)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.controller.run())
            group.create_task(self.stale.run())

    # --- event handlers -----------------------------------------------------------------

    def _enqueue_pdb(self, pdb: Obj) -> None:
        self.controller.enqueue(object_key(pdb))

    def budgets_for(self, pod: Obj) -> list[Obj]:
        """The budgets in the pod's namespace whose selector matches its labels
        (GetPodPodDisruptionBudgets: an invalid selector matches nothing, an empty one
        every pod)."""
        pod_labels = meta(pod).get("labels") or {}
        out = []
        for pdb in self.pdbs.lister.list(meta(pod).get("namespace") or ""):
            try:
                selector = labels.selector_from_label_selector(
                    (pdb.get("spec") or {}).get("selector"))
            except errors.StatusError:
                continue
            if selector.matches(pod_labels):
                out.append(pdb)
        return out

    def _pod_deleted(self, pod: Obj) -> None:
        for pdb in self.budgets_for(pod):
            self._enqueue_pdb(pdb)

    def _pod_changed(self, pod: Obj) -> None:
        budgets = self.budgets_for(pod)
        if len(budgets) > 1:
            names = sorted(str(meta(b).get("name")) for b in budgets)
            self.recorder.event(
                _as_pod(pod), WARNING, "MultiplePodDisruptionBudgets",
                f"Pod {meta(pod).get('namespace')!r}/{meta(pod).get('name')!r} matches "
                f"multiple PodDisruptionBudgets.  Chose {names[0]!r} arbitrarily.")
        for pdb in budgets:
            self._enqueue_pdb(pdb)
        wait = stale_disruption_wait(pod, self.clock(), self.stale_timeout)
        if wait is not None:
            self.stale.enqueue_after(object_key(pod), wait)

    # --- sync of a budget ---------------------------------------------------------------

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        pdb = self.pdbs.lister.get(namespace, name)
        if pdb is None:
            return
        try:
            await self.try_sync(key, _as_pdb(pdb))
        except errors.Conflict:
            raise  # a newer budget (an eviction's decrement): sync again, no fail-safe
        except (BudgetError, errors.StatusError) as err:
            log.info("disruption: cannot sync budget %s: %s", key, err)
            status = fail_safe_status(pdb, str(err), self.clock())
            if status != pdb.get("status"):
                await self._write(pdb, status)

    async def try_sync(self, key: str, pdb: Obj) -> None:
        spec = pdb.get("spec") or {}
        try:
            selector = labels.selector_from_label_selector(spec.get("selector"))
        except errors.StatusError as err:
            self.recorder.event(pdb, WARNING, "NoPods", f"Failed to get pods: {err}")
            raise
        pods = self.pods.lister.list(meta(pdb).get("namespace") or "", selector)
        if not pods:
            self.recorder.event(pdb, NORMAL, "NoPods", "No matching pods found")
        try:
            scale_total = 0
            if needs_scale(spec):
                scale = await self.scales.expected_scale(pods)
                scale_total = scale.total
                if scale.unmanaged:
                    self._warn_unmanaged(pdb)
            expected = expected_counts(spec, len(pods), scale_total)
        except (BudgetError, errors.StatusError) as err:
            self.recorder.event(pdb, WARNING, "CalculateExpectedPodCountFailed",
                                f"Failed to calculate the number of expected pods: {err}")
            raise
        now = self.clock()
        recorded = (pdb.get("status") or {}).get("disruptedPods") or {}
        disrupted, recheck = live_disrupted_pods(pods, recorded, now)
        for pod in expired_disruptions(pods, recorded, now):
            log.info("disruption: pod %s was expected to be deleted but it wasn't",
                     object_key(pod))
            self.recorder.event(_as_pod(pod), WARNING, "NotDeleted",
                                f"Pod was expected by PDB {key} to be deleted but it wasn't")
        computed = BudgetStatus(current_healthy=count_healthy(pods, disrupted, now),
                                desired_healthy=expected.desired_healthy,
                                expected_pods=expected.expected_pods,
                                disrupted_pods=disrupted)
        status = new_status(pdb, computed, now)
        if status is not None:
            await self._write(pdb, status)
        if recheck is not None:
            self.controller.enqueue_after(key, max(0.0, (recheck - now).total_seconds()))

    def _warn_unmanaged(self, pdb: Obj) -> None:
        selector = (pdb.get("spec") or {}).get("selector")
        self.recorder.event(
            pdb, WARNING, "UnmanagedPods",
            f"Pods selected by this PodDisruptionBudget (selector: {selector}) were found "
            "to be unmanaged. As a result, the status of the PDB cannot be calculated "
            "correctly, which may result in undefined behavior. To account for these pods "
            "please set \".spec.minAvailable\" field of the PDB to an integer value.")

    async def _write(self, pdb: Obj, status: Obj) -> None:
        """One status write on the budget as the lister has it (its resourceVersion a
        precondition); a conflict is raised, never retried over a fresh read."""
        try:
            await self.client.update_status(PDBS, {**_as_pdb(pdb), "status": status},
                                            namespace=meta(pdb).get("namespace"))
        except errors.NotFound:
            return  # deleted meanwhile

    # --- stale DisruptionTarget conditions ------------------------------------------------

    async def sync_stale_pod(self, key: str) -> None:
        namespace, name = split_key(key)
        pod = self.pods.lister.get(namespace, name)
        if pod is None:
            return
        now = self.clock()
        wait = stale_disruption_wait(pod, now, self.stale_timeout)
        if wait is None:
            return
        if wait > 0:
            self.stale.enqueue_after(key, wait)
            return
        status = dict(pod.get("status") or {})
        status["conditions"] = [
            {"type": DISRUPTION_TARGET, "status": "False", "lastProbeTime": None,
             "lastTransitionTime": format_time(now)}
            if isinstance(c, dict) and c.get("type") == DISRUPTION_TARGET else c
            for c in status.get("conditions") or ()]
        try:
            await self.client.update_status("pods", {**_as_pod(pod), "status": status},
                                            namespace=namespace)
        except errors.NotFound:
            return
        log.info("disruption: reset stale DisruptionTarget condition of pod %s to False", key)
