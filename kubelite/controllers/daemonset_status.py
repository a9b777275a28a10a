"""A DaemonSet's status (upstream's updateDaemonSetStatus / storeDaemonSetStatus,
pkg/controller/daemon/daemon_controller.go).

Per node that should run the pod: desiredNumberScheduled; with a pod there,
currentNumberScheduled, and of its oldest pod: numberReady (Ready), numberAvailable
(Ready for minReadySeconds), updatedNumberScheduled (the current revision's hash).
A node that should not run the pod but has one counts in numberMisscheduled.
numberUnavailable = desired - available. observedGeneration is the generation the
counts were made for. Written only when something changed, one retry after a conflict.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from kubelite.client.rest import Client
from kubelite.controllers.status_writes import write_status
from kubelite.controllers.daemonset_rolling import NodePods, is_updated
from kubelite.controllers.pods import Obj, is_available, is_ready, meta

RESOURCE = "daemonsets.apps"
COUNTS = ("desiredNumberScheduled", "currentNumberScheduled", "numberReady",
          "numberAvailable", "numberUnavailable", "updatedNumberScheduled",
          "numberMisscheduled")


def calculate_status(ds: Obj, nodes: dict[str, Obj], node_pods: NodePods, hash_: str,
                     now: datetime.datetime,
                     should_run: Callable[[Obj], tuple[bool, bool]]) -> Obj:
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    counts = dict.fromkeys(COUNTS, 0)
    for name, node in nodes.items():
        run, _ = should_run(node)
        # a pod pinned to the node counts before the scheduler binds it, as upstream's
        scheduled = [p for p in node_pods.get(name, []) if not meta(p).get("deletionTimestamp")]
        if not run:
            if scheduled:
                counts["numberMisscheduled"] += 1
            continue
        counts["desiredNumberScheduled"] += 1
        if not scheduled:
            continue
        counts["currentNumberScheduled"] += 1
        oldest = scheduled[0]  # pods by node are oldest first
        if is_ready(oldest):
            counts["numberReady"] += 1
            if is_available(oldest, min_ready, now):
                counts["numberAvailable"] += 1
        if is_updated(oldest, hash_):
            counts["updatedNumberScheduled"] += 1
    counts["numberUnavailable"] = counts["desiredNumberScheduled"] - counts["numberAvailable"]
    return {**(ds.get("status") or {}), **counts,
            "observedGeneration": int(meta(ds).get("generation") or 0)}


def status_unchanged(ds: Obj, status: Obj) -> bool:
    old = ds.get("status") or {}
    return all(int(old.get(k) or 0) == int(status.get(k) or 0)
               for k in (*COUNTS, "observedGeneration"))


async def update_status(client: Client, ds: Obj, status: Obj) -> Obj:
    if status_unchanged(ds, status):
        return ds
    return await write_status(client, RESOURCE, ds, status)
