"""The node lifecycle loop (upstream's pkg/controller/nodelifecycle): a node whose
kubelet falls silent is marked so, its taints follow its conditions, and its pods stop
counting as ready.

    nodes informer ──┐ add/update: enqueue the node
    leases informer  │ (kube-node-lease: read at sync, the kubelet's heartbeat)
    pods informer ───┘ a pod on a node that is not Ready: enqueue that node
    every node-monitor-period: enqueue every node (monitorNodeHealth)
                         │
    sync(node name):
      1. probe: note the loop's own time when the Ready heartbeat or the Lease moved
         (node_health.py); silent past the grace period: Ready, MemoryPressure,
         DiskPressure, PIDPressure -> Unknown ("Kubelet stopped posting node status.")
         through nodes/status
      2. taints (node_taints.py), one update: NoSchedule from the conditions and
         spec.unschedulable (TaintNodesByCondition), NoExecute not-ready /
         unreachable from the Ready condition; the taint-eviction-controller evicts
         pods that do not tolerate them
      3. Ready not True: every pod on the node with Ready=True gets Ready=False
         (MarkPodsNotReady), with a NodeNotReady Event on the pod; the node gets a
         NodeNotReady Event when its Ready condition leaves True

What is remembered between syncs (probe times, the last Ready status seen) is only
this term's: a new leader starts every node's probe at its first look, so it never
marks a node silent sooner than one grace period after it started.

Not as upstream: NoExecute taints are applied at once, not through upstream's
per-zone rate-limited queue, and there are no zone disruption states (upstream stops
evicting in a zone whose nodes are all unready, taking that for its own network's
fault).
"""

from __future__ import annotations

import copy
import logging

from kubelite.client.controller import Controller
from kubelite.controllers.context import LoopContext
from kubelite.controllers.node_health import Probe, is_silent, observe, unknown_conditions
from kubelite.controllers.node_settings import NodeSettings
from kubelite.controllers.node_taints import (
    NO_EXECUTE_MANAGED, NO_SCHEDULE_MANAGED, no_execute_taints, no_schedule_taints,
    ready_status, reconciled_taints)
from kubelite.controllers.pods import Obj, meta, ready_condition
from kubelite.machinery import errors
from kubelite.machinery.timestamps import format_time

log = logging.getLogger(__name__)

# upstream's UpdateTaintBackoff allows five tries
TAINT_WRITE_TRIES = 5

NODE_LEASE_NAMESPACE = "kube-node-lease"
NODE_NAME_INDEX = "spec.nodeName"
WORKERS = 5
COMPONENT = "node-controller"


def node_name_index(pod: Obj) -> list[str]:
    name = (pod.get("spec") or {}).get("nodeName")
    return [name] if name else []


class NodeLifecycleLoop:
    name = "nodelifecycle"

    def __init__(self, ctx: LoopContext, *, settings: NodeSettings | None = None) -> None:
        self.client = ctx.client
        self.settings = settings or ctx.settings.node
        self.recorder = ctx.recorder(COMPONENT)
        self.probes: dict[str, Probe] = {}
        self.ready_seen: dict[str, str | None] = {}
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.nodes = ctx.informers.informer("nodes")
        self.leases = ctx.informers.informer("leases.coordination.k8s.io")
        self.pods = ctx.informers.informer("pods", indexers={NODE_NAME_INDEX: node_name_index})
        self.nodes.add_event_handler(on_add=self._node_changed,
                                     on_update=lambda old, new: self._node_changed(new),
                                     on_delete=self._node_changed)
        self.pods.add_event_handler(on_add=self._pod_changed,
                                    on_update=lambda old, new: self._pod_changed(new))
        self.controller.enqueue_every(self.settings.monitor_period,
                                      lambda: [meta(n)["name"] for n in self.nodes.lister.list()])

    async def run(self) -> None:
        await self.controller.run()

    def _node_changed(self, node: Obj) -> None:
        self.controller.enqueue(meta(node)["name"])

    def _pod_changed(self, pod: Obj) -> None:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name or not (cond := ready_condition(pod)) or cond.get("status") != "True":
            return
        node = self.nodes.lister.get("", node_name)
        if node is not None and ready_status(node) not in (None, "True"):
            self.controller.enqueue(node_name)

    async def sync(self, name: str) -> None:
        node = self.nodes.lister.get("", name)
        if node is None:
            self.probes.pop(name, None)
            self.ready_seen.pop(name, None)
            return
        now = self.settings.clock()
        stamp = format_time(now)
        lease = self.leases.lister.get(NODE_LEASE_NAMESPACE, name)
        probe = self.probes[name] = observe(self.probes.get(name), node, lease, now)
        if is_silent(probe, node, now, grace=self.settings.monitor_grace_period,
                     startup_grace=self.settings.startup_grace_period):
            conditions = unknown_conditions(node, stamp)
            if conditions is not None:
                log.info("node %s stopped posting status; marking its conditions Unknown",
                         name)
                written = copy.copy(node)
                written["status"] = {**(node.get("status") or {}), "conditions": conditions}
                node = await self.client.update_status("nodes", written)
        node = await self._reconcile_taints(node, stamp)
        ready = ready_status(node)
        if self.ready_seen.get(name) == "True" and ready != "True":
            self.recorder.event(node, "Normal", "NodeNotReady",
                                f"Node {name} status is now: NodeNotReady")
        self.ready_seen[name] = ready
        if ready not in (None, "True"):
            await self._mark_pods_not_ready(name, stamp)

    async def _reconcile_taints(self, node: Obj, stamp: str) -> Obj:
        """The taints the node's conditions call for, written if they differ. A write
        that loses to another (the kubelet's status, nodeipam's podCIDR: a new node sees
        all three at once) reads the node again and retries, as upstream's
        SwapNodeControllerTaint does under RetryOnConflict, rather than failing the
        sync into the queue's back-off with the node left tainted meanwhile."""
        tries = 1
        while (updated := self._with_reconciled_taints(node, stamp)) is not None:
            try:
                written: Obj = await self.client.update("nodes", updated)
            except errors.Conflict:
                if tries == TAINT_WRITE_TRIES:
                    raise
                tries += 1
                node = await self.client.get("nodes", meta(node)["name"])
                continue
            log.info("node %s taints: %s", meta(node)["name"],
                     ", ".join(f"{t['key']}:{t['effect']}"
                               for t in (updated["spec"].get("taints") or ())) or "none")
            return written
        return node

    @staticmethod
    def _with_reconciled_taints(node: Obj, stamp: str) -> Obj | None:
        """The node with the taints its conditions call for; None if it has them."""
        taints = (node.get("spec") or {}).get("taints") or []
        after_no_schedule = reconciled_taints(taints, no_schedule_taints(node),
                                              NO_SCHEDULE_MANAGED, stamp)
        current = taints if after_no_schedule is None else after_no_schedule
        after_no_execute = reconciled_taints(current, no_execute_taints(node),
                                             NO_EXECUTE_MANAGED, stamp)
        if after_no_schedule is None and after_no_execute is None:
            return None
        wanted = current if after_no_execute is None else after_no_execute
        updated = copy.copy(node)
        spec = updated["spec"] = dict(node.get("spec") or {})
        if wanted:
            spec["taints"] = wanted
        else:
            spec.pop("taints", None)
        return updated

    async def _mark_pods_not_ready(self, node_name: str, stamp: str) -> None:
        """MarkPodsNotReady: Ready=False on every pod of the node that says True."""
        failed: list[Exception] = []
        for pod in self.pods.indexer.by_index(NODE_NAME_INDEX, node_name):
            cond = ready_condition(pod)
            if cond is None or cond.get("status") != "True":
                continue
            status = dict(pod.get("status") or {})
            status["conditions"] = [
                {**c, "status": "False", "lastTransitionTime": stamp}
                if c.get("type") == "Ready" else c for c in status.get("conditions") or ()]
            try:
                written = await self.client.update_status("pods", {**pod, "status": status})
            except errors.NotFound:
                continue
            except errors.StatusError as err:
                failed.append(err)  # a conflict: the next sync reads the newer pod
                continue
            self.recorder.event(written, "Warning", "NodeNotReady", "Node is not ready")
        if failed:
            raise failed[0]
