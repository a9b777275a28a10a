"""What a failed scheduling attempt leaves on the pod for people to read (upstream's
handleSchedulingFailure: updatePod and the FailedScheduling event).

- The pod's PodScheduled condition becomes False with reason Unschedulable (no node
  fits) or SchedulerError (anything else), and the message of the failure. The patch is
  strategic, so conditions merge by type and nobody else's condition is touched; it is
  skipped when the condition already says exactly that, so repeated attempts do not
  churn the pod (and the pod informer does not wake it for nothing).
- A core/v1 Event of type Warning, reason FailedScheduling, source and reporting
  component "default-scheduler", about the pod: what `kubectl describe pod` prints.
  Repeats of the same message on the same pod add to one Event's count and move its
  lastTimestamp, as client-go's event correlator does, instead of piling up objects.

- status.nominatedNodeName, in the same status patch, when preemption nominated a
  node for the pod (or cleared a nomination that can no longer help), as upstream's
  updatePod writes the condition and the nomination together.

Both are best effort: a failure to write them is logged, never raised, and never
stops the pod from being retried. `record_event` also writes the other events the
scheduler reports about pods (Preempted on a victim).
"""

from __future__ import annotations

import hashlib
import logging

from kubelite.client.events import create_or_count
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_micro_time, now_rfc3339
from kubelite.scheduler.framework import Obj

log = logging.getLogger(__name__)

UNSCHEDULABLE = "Unschedulable"
SCHEDULER_ERROR = "SchedulerError"
FAILED_SCHEDULING = "FailedScheduling"


def _meta(pod: Obj) -> Obj:
    meta: Obj = pod.get("metadata") or {}
    return meta


def pod_scheduled_condition(pod: Obj) -> Obj | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if isinstance(condition, dict) and condition.get("type") == "PodScheduled":
            return condition
    return None


def nominated_node_name(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("nominatedNodeName") or "")


def condition_is_current(pod: Obj, reason: str, message: str) -> bool:
    current = pod_scheduled_condition(pod)
    return current is not None and (current.get("status"), current.get("reason"),
                                    current.get("message")) == ("False", reason, message)


class FailureReporter:
    def __init__(self, client: Client, *, component: str = "default-scheduler",
                 host: str = "") -> None:
        self.client = client
        self.component = component
        self.host = host

    async def report(self, pod: Obj, reason: str, message: str,
                     nominated_node: str | None = None) -> None:
        """`nominated_node`: None leaves status.nominatedNodeName alone, "" clears it."""
        await self._update_status(pod, reason, message, nominated_node)
        await self.record_event(pod, message)

    async def _update_status(self, pod: Obj, reason: str, message: str,
                             nominated_node: str | None) -> None:
        status: Obj = {}
        if not condition_is_current(pod, reason, message):
            previous = pod_scheduled_condition(pod)
            transition = (previous.get("lastTransitionTime") if previous is not None
                          and previous.get("status") == "False" else None) or now_rfc3339()
            status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": reason,
                                     "message": message, "lastProbeTime": None,
                                     "lastTransitionTime": transition}]
        if nominated_node is not None and nominated_node != nominated_node_name(pod):
            status["nominatedNodeName"] = nominated_node or None  # null deletes the field
        if not status:
            return
        meta = _meta(pod)
        try:
            await self.client.patch("pods", meta.get("name", ""), {"status": status},
                                    type="strategic", subresource="status",
                                    namespace=meta.get("namespace", ""))
        except errors.NotFound:
            pass  # deleted meanwhile: nothing to tell
        except Exception:
            log.exception("cannot set PodScheduled on %s/%s", meta.get("namespace"),
                          meta.get("name"))

    async def record_event(self, pod: Obj, message: str, *, type: str = "Warning",
                           reason: str = FAILED_SCHEDULING, action: str = "Scheduling",
                           related: Obj | None = None) -> None:
        meta = _meta(pod)
        namespace = meta.get("namespace") or "default"
        # one Event per pod, reason and message: the correlator's key, in a name
        digest = hashlib.sha1(f"{meta.get('uid')}/{reason}/{message}".encode()).hexdigest()[:12]
        name = f"{meta.get('name', '')}.{digest}"
        now = now_rfc3339()
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"kind": "Pod", "apiVersion": "v1", "namespace": namespace,
                               "name": meta.get("name", ""), "uid": meta.get("uid", ""),
                               "resourceVersion": meta.get("resourceVersion", "")},
            "type": type, "reason": reason, "message": message,
            "source": {"component": self.component},
            "reportingComponent": self.component, "reportingInstance": self.host,
            "action": action, "firstTimestamp": now, "lastTimestamp": now,
            "eventTime": now_micro_time(), "count": 1,
        }
        if related is not None:
            related_meta = _meta(related)
            event["related"] = {"kind": "Pod", "apiVersion": "v1",
                                "namespace": related_meta.get("namespace", ""),
                                "name": related_meta.get("name", ""),
                                "uid": related_meta.get("uid", "")}
        try:
            await create_or_count(self.client, event)
        except errors.NotFound:
            pass  # the namespace is going away
        except Exception:
            log.exception("cannot record %s for %s/%s", reason, namespace, meta.get("name"))
