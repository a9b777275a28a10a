"""The pod garbage collector (upstream's pkg/controller/podgc/gc_controller.go): a pass
over every pod every GC_CHECK_PERIOD seconds (and once at start), from the pods and
nodes listers, deleting what no one else will:

    terminated    more finished pods (phase neither Pending, Running nor Unknown) than
                  --terminated-pod-gc-threshold (12500; 0 turns this off): the surplus
                  goes, Evicted pods first, then oldest first (name breaks ties)
    out of service  pods being deleted on a node that is not Ready and carries the
                  node.kubernetes.io/out-of-service taint (its kubelet will never
                  finish them)
    orphaned      pods bound to a node the nodes lister lacks, once the node has been
                  missing for QUARANTINE seconds and a live GET confirms it is gone (a
                  node registering meanwhile is not mistaken for a deleted one); these
                  get DisruptionTarget=True, reason DeletionByPodGC, "PodGC: node no
                  longer exists"
    unscheduled terminating   pods being deleted that no node was ever assigned

Each such pod is first marked Failed in its status (with the condition, where there is
one), since no kubelet will ever report its end, then force-deleted (grace period 0,
its uid as precondition so a pod recreated under the name is spared). A pod already
gone is no error; any other failure is logged and the next pass tries again.

The clock is injected (`clock=`) for the quarantine; `period` for tests. `passes`
counts finished passes, so a test can wait for one instead of sleeping.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Iterable

from kubelite.client.controller import Controller
from kubelite.client.store import object_key
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors
from kubelite.machinery.timestamps import format_time

log = logging.getLogger(__name__)

GC_CHECK_PERIOD = 20.0  # upstream's gcCheckPeriod
QUARANTINE = datetime.timedelta(seconds=40)  # upstream's quarantineTime
DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12500
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"
DELETION_BY_POD_GC = "DeletionByPodGC"
DELETE_CONCURRENCY = 50
GC_KEY = "gc"  # the one key: a pass over everything

def is_terminated(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Pending", "Running", "Unknown")


def is_evicted(pod: Obj) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Failed" and status.get("reason") == "Evicted"


def deletion_order(pod: Obj) -> tuple[bool, str, str]:
    """Evicted pods first, then by creationTimestamp, then by name
    (byEvictionAndCreationTimestamp)."""
    m = meta(pod)
    return (not is_evicted(pod), str(m.get("creationTimestamp") or ""), str(m.get("name") or ""))


def terminated_to_delete(pods: Iterable[Obj], threshold: int) -> list[Obj]:
    """The finished pods over `threshold`, in the order they go; none when threshold <= 0."""
    if threshold <= 0:
        return []
    terminated = [p for p in pods if is_terminated(p)]
    surplus = len(terminated) - threshold
    if surplus <= 0:
        return []
    return sorted(terminated, key=deletion_order)[:surplus]


def is_node_ready(node: Obj) -> bool:
    return any(isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or ())


def is_out_of_service(node: Obj) -> bool:
    """Not Ready and tainted node.kubernetes.io/out-of-service (any effect)."""
    taints = (node.get("spec") or {}).get("taints") or ()
    return not is_node_ready(node) and any(
        isinstance(t, dict) and t.get("key") == OUT_OF_SERVICE_TAINT for t in taints)


def orphan_condition(now: datetime.datetime) -> Obj:
    return {"type": "DisruptionTarget", "status": "True", "reason": DELETION_BY_POD_GC,
            "message": "PodGC: node no longer exists", "lastProbeTime": None,
            "lastTransitionTime": format_time(now)}


class PodGCLoop:
    name = "pod-garbage-collector"

    def __init__(self, ctx: LoopContext, *, clock: Clock = utc_now,
                 period: float = GC_CHECK_PERIOD,
                 quarantine: datetime.timedelta = QUARANTINE,
                 terminated_pod_gc_threshold: int | None = None) -> None:
        self.client = ctx.client
        self.clock = clock
        self.quarantine = quarantine
        self.threshold = (ctx.settings.terminated_pod_gc_threshold if terminated_pod_gc_threshold is None
                          else terminated_pod_gc_threshold)
        self.pods = ctx.informers.informer("pods")
        self.nodes = ctx.informers.informer("nodes")
        self.controller: Controller[str] = Controller(self.name, self.sync)
        self.controller.enqueue_every(period, lambda: [GC_KEY])
        self.missing_since: dict[str, datetime.datetime] = {}  # quarantined node names
        self.passes = 0

    async def run(self) -> None:
        self.controller.enqueue(GC_KEY)  # upstream's first pass runs at once
        await self.controller.run()

    async def sync(self, key: str) -> None:
        pods = self.pods.lister.list()
        await self._delete_all(terminated_to_delete(pods, self.threshold))
        await self._delete_all(self._terminating_out_of_service(pods))
        await self._gc_orphaned(pods)
        await self._delete_all(p for p in pods if meta(p).get("deletionTimestamp")
                               and not (p.get("spec") or {}).get("nodeName"))
        self.passes += 1

    def _terminating_out_of_service(self, pods: list[Obj]) -> list[Obj]:
        out = []
        for pod in pods:
            if not meta(pod).get("deletionTimestamp"):
                continue
            node = self.nodes.lister.get("", str((pod.get("spec") or {}).get("nodeName") or ""))
            if node is not None and is_out_of_service(node):
                out.append(pod)
        return sorted(out, key=deletion_order)

    async def _gc_orphaned(self, pods: list[Obj]) -> None:
        now = self.clock()
        existing = {str(meta(n).get("name")) for n in self.nodes.lister.list()}
        for pod in pods:
            node = str((pod.get("spec") or {}).get("nodeName") or "")
            if node and node not in existing:
                self.missing_since.setdefault(node, now)
        deleted: set[str] = set()
        for node, since in list(self.missing_since.items()):
            if now - since < self.quarantine:
                continue
            del self.missing_since[node]  # re-quarantined next pass if still needed
            if node not in existing and await self._node_is_gone(node):
                deleted.add(node)
        orphans = [p for p in pods if (p.get("spec") or {}).get("nodeName") in deleted]
        for pod in orphans:
            log.info("pod garbage collector: deleting pod %s of deleted node %s",
                     object_key(pod), pod["spec"]["nodeName"])
        await self._delete_all(orphans, orphan_condition(now))

    async def _node_is_gone(self, name: str) -> bool:
        try:
            await self.client.get("nodes", name)
        except errors.NotFound:
            return True
        except errors.StatusError as err:
            log.warning("pod garbage collector: cannot get node %s: %s", name, err)
        return False

    async def _delete_all(self, pods: Iterable[Obj], condition: Obj | None = None) -> None:
        limit = asyncio.Semaphore(DELETE_CONCURRENCY)

        async def one(pod: Obj) -> None:
            async with limit:
                await self.mark_failed_and_delete(pod, condition)

        await asyncio.gather(*(one(p) for p in pods))

    async def mark_failed_and_delete(self, pod: Obj, condition: Obj | None = None) -> None:
        m = meta(pod)
        namespace, name, uid = m.get("namespace"), str(m.get("name")), str(m.get("uid"))
        try:
            if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                # no kubelet will report this pod's end: say it, as upstream does
                status: Obj = {"phase": "Failed"}
                if condition is not None:
                    status["conditions"] = [condition]
                await self.client.patch("pods", name, {"metadata": {"uid": uid},
                                                       "status": status},
                                        type="strategic", subresource="status",
                                        namespace=namespace)
            log.info("pod garbage collector: force deleting pod %s/%s", namespace, name)
            await self.client.delete("pods", name, namespace=namespace, grace_period_seconds=0,
                                     preconditions={"uid": uid})
        except (errors.NotFound, errors.Conflict):
            return  # gone, or another pod by that name now
        except errors.StatusError as err:
            log.warning("pod garbage collector: cannot delete pod %s/%s: %s",
                        namespace, name, err)
