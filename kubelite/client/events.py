"""EventRecorder: core/v1 Events about objects, written through the API (client-go's
tools/record: EventRecorder, the broadcaster's sink and the event correlator).

`recorder.event(obj, "Normal", "SuccessfulCreate", "Created pod: web-x7k2p")` returns at
once; the Event is written in the background, so a control loop never waits on (or
fails because of) its own bookkeeping. What `kubectl describe` then shows:

- involvedObject names the object (kind, apiVersion, namespace, name, uid,
  resourceVersion); source.component and reportingComponent name the writer
  ("replicaset-controller"), reportingInstance its host.
- Repeats correlate as client-go's correlator does: one Event per object, type,
  reason and message (its name is `<object name>.<digest of those>`), whose count
  grows and lastTimestamp moves, instead of a new object per repeat. Past 10
  different messages of one reason the Event is an aggregate, and past a burst of 25
  Events about one object the rest are dropped as spam (event_correlator.py).
- Best effort, bounded: a failed write is logged, never raised; with more than
  `max_pending` writes in flight new events are dropped (the broadcaster's queue of
  1000 drops too), so an outage cannot pile up unbounded work.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any

from kubelite.client.event_correlator import Aggregator, Clock, SpamFilter
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_micro_time, now_rfc3339

log = logging.getLogger(__name__)

Obj = dict[str, Any]

NORMAL = "Normal"
WARNING = "Warning"


def object_reference(obj: Obj) -> Obj:
    """The involvedObject of an Event about `obj`."""
    meta = obj.get("metadata") or {}
    ref = {"kind": obj.get("kind", ""), "apiVersion": obj.get("apiVersion", ""),
           "name": meta.get("name", ""), "uid": meta.get("uid", ""),
           "resourceVersion": meta.get("resourceVersion", "")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


async def create_or_count(client: Client, event: Obj) -> None:
    """Create the Event, or, when one of its name exists (a repeat: the name carries the
    correlator's key), add one to its count and move its lastTimestamp. Raises what the
    API answers; callers decide what a failure means to them."""
    name, namespace = event["metadata"]["name"], event["metadata"]["namespace"]
    try:
        await client.create("events", event, namespace=namespace)
    except errors.AlreadyExists:
        # Recorders may create, patch and update events but not read them (upstream's
        # roles for the scheduler and the nodes), so the first patch both moves the
        # timestamp and answers with the count the second one raises.
        current = await client.patch("events", name, {"lastTimestamp": event["lastTimestamp"],
                                                      "message": event["message"]},
                                     namespace=namespace)
        await client.patch("events", name, {"count": int(current.get("count") or 1) + 1},
                           namespace=namespace)


class EventRecorder:
    def __init__(self, client: Client, component: str, *, host: str = "",
                 max_pending: int = 1000, clock: Clock = time.monotonic) -> None:
        self.client = client
        self.component = component
        self.host = host
        self.max_pending = max_pending
        self._pending: set[asyncio.Task[None]] = set()
        self._aggregator = Aggregator(clock=clock)
        self._spam = SpamFilter(clock=clock)

    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        """Record an Event about `obj` in the background (see the module docstring)."""
        event = self._build(obj, type_, reason, message)
        event, combined = self._aggregator.aggregate(event)
        if self._spam.is_spam(event):
            log.debug("event %s %s on %s dropped as spam", type_, reason,
                      event["involvedObject"].get("name"))
            return
        if len(self._pending) >= self.max_pending:
            log.warning("dropping event %s %s on %s: %d writes pending", type_, reason,
                        event["involvedObject"].get("name"), len(self._pending))
            return
        # An aggregate is one Event whatever its latest message: named without it.
        ref = event["involvedObject"]
        key = f"{ref['kind']}/{ref['uid']}/{type_}/{reason}/" + ("" if combined else message)
        event["metadata"]["name"] = f"{ref['name']}.{hashlib.sha1(key.encode()).hexdigest()[:16]}"
        task = asyncio.create_task(self.write(event), name=f"event {reason}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def wait_idle(self) -> None:
        """Wait for the events in flight (tests, and shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*list(self._pending), return_exceptions=True)

    def _build(self, obj: Obj, type_: str, reason: str, message: str) -> Obj:
        ref = object_reference(obj)
        now = now_rfc3339()
        return {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "", "namespace": ref.get("namespace") or "default"},
            "involvedObject": ref, "type": type_, "reason": reason, "message": message,
            "source": {"component": self.component, **({"host": self.host} if self.host else {})},
            "reportingComponent": self.component, "reportingInstance": self.host,
            "firstTimestamp": now, "lastTimestamp": now, "eventTime": now_micro_time(),
            "count": 1,
        }

    async def write(self, event: Obj) -> None:
        """Create the Event, or count a repeat of it; never raises."""
        namespace, reason = event["metadata"]["namespace"], event["reason"]
        ref = event["involvedObject"]
        try:
            await create_or_count(self.client, event)
        except asyncio.CancelledError:
            raise
        except (errors.NotFound, errors.Forbidden) as err:
            # the namespace is gone or going away: nobody will read it
            log.debug("event %s on %s/%s not recorded: %s", reason, namespace, ref["name"], err)
        except Exception:
            log.exception("cannot record event %s on %s/%s", reason, namespace, ref["name"])
