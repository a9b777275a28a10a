"""What the scheduler does through the API once preemption has chosen a node (upstream's
prepareCandidate and the Evaluator's PreemptPod, pkg/scheduler/framework/preemption):

    for each victim not already being deleted:
        PATCH pods/NAME/status   DisruptionTarget=True, reason PreemptionByScheduler,
                                 "<schedulerName>: preempting to accommodate a higher
                                 priority pod" (kubectl describe shows why it went)
        DELETE pods/NAME         graceful: the kubelet stops it, then it is gone
        Event Normal Preempted   "Preempted by pod <preemptor uid> on node <node>",
                                 about the victim, related to the preemptor
    for each lower-priority pod nominated to the same node:
        PATCH pods/NAME/status   nominatedNodeName: null (it may no longer fit there)

A victim already gone (NotFound) counts as evicted. Any other failure stops the work and
is reported to the caller, which sends the preemptor back to be scheduled again at once,
as upstream does after a failed asynchronous preemption. Clearing nominations is best
effort and never counts as a failure.
"""

from __future__ import annotations

import logging

from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_rfc3339
from kubelite.scheduler.event_handlers import DEFAULT_SCHEDULER_NAME, is_deleting
from kubelite.scheduler.framework import Obj
from kubelite.scheduler.node_table import pod_key
from kubelite.scheduler.preemption import PREEMPTION_BY_SCHEDULER, PostFilterResult
from kubelite.scheduler.reporting import FailureReporter, nominated_node_name

log = logging.getLogger(__name__)

PREEMPTED = "Preempted"


def disruption_target(preemptor: Obj) -> Obj:
    scheduler = (preemptor.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER_NAME
    return {"type": "DisruptionTarget", "status": "True", "reason": PREEMPTION_BY_SCHEDULER,
            "message": f"{scheduler}: preempting to accommodate a higher priority pod",
            "lastTransitionTime": now_rfc3339()}


async def prepare_candidate(client: Client, reporter: FailureReporter, preemptor: Obj,
                            result: PostFilterResult) -> bool:
    """Evict the victims and clear the lower nominations; False if a victim could not be
    evicted (logged)."""
    uid = (preemptor.get("metadata") or {}).get("uid", "")
    for victim in result.victims:
        if is_deleting(victim):
            continue  # its graceful deletion has started: nothing more to ask
        meta = victim.get("metadata") or {}
        name, namespace = meta.get("name", ""), meta.get("namespace", "")
        try:
            await client.patch("pods", name, {"status": {"conditions": [disruption_target(preemptor)]}},
                               type="strategic", subresource="status", namespace=namespace)
            await client.delete("pods", name, namespace=namespace)
        except errors.NotFound:
            continue  # already gone
        except Exception:
            log.exception("cannot preempt %s for %s", pod_key(victim), pod_key(preemptor))
            return False
        await reporter.record_event(
            victim, f"Preempted by pod {uid} on node {result.nominated_node}", type="Normal",
            reason=PREEMPTED, action="Preempting", related=preemptor)
    for other in result.clear_nominations:
        if not nominated_node_name(other):
            continue
        meta = other.get("metadata") or {}
        try:
            await client.patch("pods", meta.get("name", ""), {"status": {"nominatedNodeName": None}},
                               type="strategic", subresource="status",
                               namespace=meta.get("namespace", ""))
        except errors.NotFound:
            pass
        except Exception:
            log.exception("cannot clear the nominated node of %s", pod_key(other))
    return True
