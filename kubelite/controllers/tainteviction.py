"""The taint eviction loop (upstream's pkg/controller/tainteviction, the "taint
manager"): pods leave nodes whose NoExecute taints they do not tolerate.

    nodes informer ── add/update with changed NoExecute taints: enqueue the node's pods
    pods informer  ── add/update of a pod on a node: enqueue it; delete: forget it
                         │
    sync(namespace/name): the pod and its node from the listers; the node's NoExecute
        taints against the pod's tolerations (node_taints.eviction_delay):
          stays for good (no taints, or tolerated forever) -> forget any countdown
            (a TaintManagerEviction "Cancelling deletion" Event if one ran);
          must go after d seconds -> the countdown starts the first time the loop
            sees it, and the pod is looked at again when it ends;
          the countdown is over (d = 0: at once) -> TaintManagerEviction "Marking for
            deletion" Event, the DisruptionTarget condition (DeletionByTaintManager)
            through pods/status, then delete the pod.

A countdown lives in this term's memory, as upstream's timed workers do: a new leader
starts it again. Pods already terminating are left to finish.
"""

from __future__ import annotations

import datetime
import logging

from kubelite.client.controller import Controller
from kubelite.client.store import object_key, split_key
from kubelite.controllers.context import LoopContext
from kubelite.controllers.node_settings import NodeSettings
from kubelite.controllers.node_taints import NO_EXECUTE, eviction_delay
from kubelite.controllers.nodelifecycle import NODE_NAME_INDEX, node_name_index
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors
from kubelite.machinery.timestamps import format_time

log = logging.getLogger(__name__)

WORKERS = 8
COMPONENT = "taint-eviction-controller"
REASON = "TaintManagerEviction"
DISRUPTION_TARGET = {"type": "DisruptionTarget", "status": "True",
                     "reason": "DeletionByTaintManager",
                     "message": "Taint manager: deleting due to NoExecute taint"}


def no_execute_taints_of(node: Obj | None) -> list[Obj]:
    return [t for t in ((node or {}).get("spec") or {}).get("taints") or ()
            if isinstance(t, dict) and t.get("effect") == NO_EXECUTE]


def with_disruption_target(pod: Obj, now: str) -> Obj | None:
    """The pod's status with DisruptionTarget=True added; None if it has it already."""
    status = dict(pod.get("status") or {})
    conditions = [c for c in status.get("conditions") or () if isinstance(c, dict)]
    if any(c.get("type") == "DisruptionTarget" and c.get("status") == "True"
           for c in conditions):
        return None
    conditions = [c for c in conditions if c.get("type") != "DisruptionTarget"]
    status["conditions"] = [*conditions, {**DISRUPTION_TARGET, "lastTransitionTime": now}]
    return status


class TaintEvictionLoop:
    name = "taint-eviction-controller"

    def __init__(self, ctx: LoopContext, *, settings: NodeSettings | None = None) -> None:
        self.client = ctx.client
        self.clock = (settings or ctx.settings.node).clock
        self.recorder = ctx.recorder(COMPONENT)
        self.countdowns: dict[str, datetime.datetime] = {}  # pod key -> when it started
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.nodes = ctx.informers.informer("nodes")
        self.pods = ctx.informers.informer("pods", indexers={NODE_NAME_INDEX: node_name_index})
        self.nodes.add_event_handler(on_add=self._node_added, on_update=self._node_updated)
        self.pods.add_event_handler(on_add=self._pod_changed,
                                    on_update=lambda old, new: self._pod_changed(new),
                                    on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.controller.run()

    def _node_added(self, node: Obj) -> None:
        if no_execute_taints_of(node):
            self._enqueue_pods_of(meta(node)["name"])

    def _node_updated(self, old: Obj, new: Obj) -> None:
        if no_execute_taints_of(old) != no_execute_taints_of(new):
            self._enqueue_pods_of(meta(new)["name"])

    def _enqueue_pods_of(self, node_name: str) -> None:
        for pod in self.pods.indexer.by_index(NODE_NAME_INDEX, node_name):
            self.controller.enqueue(object_key(pod))

    def _pod_changed(self, pod: Obj) -> None:
        if (pod.get("spec") or {}).get("nodeName"):
            self.controller.enqueue(object_key(pod))

    def _pod_deleted(self, pod: Obj) -> None:
        self.countdowns.pop(object_key(pod), None)

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        pod = self.pods.lister.get(namespace, name)
        node_name = ((pod or {}).get("spec") or {}).get("nodeName")
        if pod is None or not node_name or meta(pod).get("deletionTimestamp"):
            self.countdowns.pop(key, None)
            return
        taints = no_execute_taints_of(self.nodes.lister.get("", node_name))
        tolerations = [t for t in (pod.get("spec") or {}).get("tolerations") or ()
                       if isinstance(t, dict)]
        delay = eviction_delay(taints, tolerations)
        if delay is None:
            if self.countdowns.pop(key, None) is not None:
                self.recorder.event(pod, "Normal", REASON, f"Cancelling deletion of Pod {key}")
            return
        now = self.clock()
        started = self.countdowns.setdefault(key, now)
        left = (started - now).total_seconds() + delay
        if left > 0:
            self.controller.enqueue_after(key, left)
            return
        await self._evict(pod, key, now)

    async def _evict(self, pod: Obj, key: str, now: datetime.datetime) -> None:
        namespace, name = split_key(key)
        uid = str(meta(pod).get("uid"))
        log.info("evicting pod %s from node %s: NoExecute taint not tolerated", key,
                 pod["spec"]["nodeName"])
        self.recorder.event(pod, "Normal", REASON, f"Marking for deletion Pod {key}")
        try:
            fresh = await self.client.get("pods", name, namespace=namespace)
            if meta(fresh).get("uid") == uid:
                status = with_disruption_target(fresh, format_time(now))
                if status is not None:
                    # a Conflict is raised: the retry finds the countdown still over
                    await self.client.update_status("pods", {**fresh, "status": status})
                await self.client.delete("pods", name, namespace=namespace,
                                         preconditions={"uid": uid})
        except errors.NotFound:
            log.debug("pod %s went before its eviction", key)
        self.countdowns.pop(key, None)
