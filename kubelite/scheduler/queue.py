"""The scheduling queue: which pod the scheduler tries next, and when a pod that did
not fit is tried again (upstream's PriorityQueue, pkg/scheduler/backend/queue).

Three places hold a pending pod, each pod in exactly one:

    add/update ──► activeQ ──pop()──► scheduling cycle (in flight) ──bound──► done()
                      ▲                      │ failed
                      │  backoff expired     ├─ rejected by plugins, no move request
                      │  (1 s flush)         │  during its cycle ──► unschedulablePods
                   backoffQ ◄────────────────┘  error, or a move request came meanwhile
                      ▲                              │
                      └── relevant cluster event ────┘ (or 5 min left over)
                          while still backing off;
                          to activeQ once backoff is over

- activeQ: a heap ordered by `less` (PrioritySort: higher `spec.priority` first, then
  the earlier enqueue time). `pop()` waits for a pod, counts the attempt and clears the
  plugins that rejected it last time; it returns None once the queue is closed and
  activeQ is empty.
- backoffQ: a heap by backoff expiry. A pod's backoff is 1 s after its first attempt,
  doubling per attempt up to 10 s (podInitialBackoffDuration, podMaxBackoffDuration),
  counted from its last failure. `flush_backoff_completed()` moves expired pods to
  activeQ; `run()` calls it every second and `flush_unschedulable_left_over()` every
  30 s, which retries pods unschedulable for more than 5 minutes. When activeQ is
  empty, `pop()` takes a pod that plugins rejected from backoffQ at once, back-off or
  not (SchedulerPopFromBackoffQ, backoff_queue.py); one that failed with an error waits.
- unschedulablePods: a map of pods that plugins rejected. `move_all_to_active_or_backoff
  (event)` moves those whose rejecting plugins registered interest in the event (see
  events.py); a moved pod still backing off goes to backoffQ, else to activeQ.

moveRequestCycle (upstream, without queueing hints): every move request records the
current scheduling cycle. A pod whose failed cycle started no later than the last move
request goes to backoffQ, not unschedulablePods: the event came while it was being
scheduled and may have made it schedulable, and no later event would wake it. A pod
that failed without rejecting plugins (an error) also goes to backoffQ.

PreEnqueue checks (e.g. scheduling gates) run whenever a pod would enter activeQ. A
pod a check refuses waits in unschedulablePods marked `gated`; it is re-checked on its
own update and on wildcard events (the 5-minute flush), never counted as backing off.

Kubelite choices where upstream relies on the surrounding scheduler:
- A pod deleted while in flight is not requeued by `add_unschedulable_if_not_present`
  (upstream checks the informer cache first).
- A pod updated while in flight is requeued to backoffQ when it fails, as upstream does
  with queueing hints (the update may be what it needed), not added a second time.
- `activate(pods)` of a pod in flight sends it to activeQ if its cycle fails.

Pods are keyed `namespace/name`. Every time decision reads the injected Clock, so tests
step a fake clock instead of sleeping. Everything runs in one event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.scheduler.backoff_queue import BackoffQueue
from kubelite.scheduler.events import (
    ASSIGNED_POD_ADD,
    DEFAULT_PLUGIN_EVENTS,
    UNSCHEDULABLE_TIMEOUT,
    ClusterEvent,
    Resource,
    pod_update_action,
)
from kubelite.scheduler.heap import KeyedHeap
from kubelite.scheduler.nominator import Nominator, pod_key
from kubelite.scheduler.queued_pod import (
    INITIAL_BACKOFF,
    MAX_BACKOFF,
    Less,
    PreEnqueueCheck,
    QueuedPodInfo,
    backoff_duration,
    backoff_expiry,
    term_matches,
    is_pod_updated,
    pod_priority,
    priority_less,
)

__all__ = [  # the queue's vocabulary, importable from here
    "INITIAL_BACKOFF", "MAX_BACKOFF", "MAX_IN_UNSCHEDULABLE", "Clock", "Less",
    "PendingPods", "PodAlreadyQueued", "PreEnqueueCheck", "QueuedPodInfo",
    "SchedulingQueue", "SystemClock", "backoff_duration", "pod_priority", "priority_less",
]

Obj = dict[str, Any]

MAX_IN_UNSCHEDULABLE = 300.0  # podMaxInUnschedulablePodsDuration
BACKOFF_FLUSH_PERIOD = 1.0
LEFT_OVER_FLUSH_PERIOD = 30.0


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class PodAlreadyQueued(Exception):
    """add_unschedulable_if_not_present found the pod already waiting in a sub-queue."""


@dataclass(frozen=True, slots=True)
class PendingPods:
    active: list[Obj]
    backoff: list[Obj]
    unschedulable: list[Obj]

    def summary(self) -> str:
        return (f"activeQ:{len(self.active)}; backoffQ:{len(self.backoff)}; "
                f"unschedulablePods:{len(self.unschedulable)}")


@dataclass(slots=True)
class _InFlight:
    info: QueuedPodInfo
    deleted: bool = False
    updated: bool = False
    activated: bool = False


def _key_of(info: QueuedPodInfo) -> str:
    return info.key


class SchedulingQueue:
    def __init__(self, *, less: Less = priority_less,
                 pre_enqueue: Sequence[PreEnqueueCheck] = (),
                 plugin_events: Mapping[str, Sequence[ClusterEvent]] = DEFAULT_PLUGIN_EVENTS,
                 clock: Clock | None = None, initial_backoff: float = INITIAL_BACKOFF,
                 max_backoff: float = MAX_BACKOFF) -> None:
        self._clock: Clock = clock or SystemClock()
        # podInitialBackoffSeconds / podMaxBackoffSeconds of the configuration
        self._backoffs = (initial_backoff, max_backoff)
        self._pre_enqueue = tuple(pre_enqueue)
        self._plugin_events = plugin_events
        self._active: KeyedHeap[QueuedPodInfo] = KeyedHeap(less=less)
        self._backoff = BackoffQueue(self._expiry, less)
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._in_flight: dict[str, _InFlight] = {}
        self.nominator = Nominator()
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self._ready = asyncio.Event()
        self._closed = asyncio.Event()

    def _expiry(self, info: QueuedPodInfo) -> float:
        return backoff_expiry(info, *self._backoffs)

    # --- pods from the informer ----------------------------------------------------

    def add(self, pod: Obj) -> None:
        """A new unassigned pod: into activeQ (or gated), out of any other sub-queue."""
        info = QueuedPodInfo(pod_key(pod), pod, self._clock.now())
        self._backoff.remove(info.key)
        self._unschedulable.pop(info.key, None)
        self._add_to_active(info)
        self.nominator.add(pod)

    def update(self, old: Obj, new: Obj) -> None:
        key = pod_key(new)
        self.nominator.update(old, new)
        for heap in (self._active, self._backoff):
            if (info := heap.get(key)) is not None:
                info.update_pod(new)
                heap.push(key, info)  # re-sort: priority may have changed
                return
        if (info := self._unschedulable.get(key)) is not None:
            info.update_pod(new)
            if info.gated or is_pod_updated(old, new):
                # the update may be what the pod waited for: retry it
                del self._unschedulable[key]
                self._requeue(info)
            return
        if (flight := self._in_flight.get(key)) is not None:
            flight.info.update_pod(new)
            flight.updated = flight.updated or is_pod_updated(old, new)
            return
        self._add_to_active(QueuedPodInfo(key, new, self._clock.now()))

    def delete(self, pod: Obj) -> None:
        key = pod_key(pod)
        self.nominator.delete(pod)
        self._active.remove(key)
        self._backoff.remove(key)
        self._unschedulable.pop(key, None)
        if (flight := self._in_flight.get(key)) is not None:
            flight.deleted = True

    # --- the scheduling cycle -------------------------------------------------------

    async def pop(self) -> QueuedPodInfo | None:
        """The next pod to schedule; waits for one. After `close()` it still hands out
        what activeQ holds, then returns None (as upstream's Pop)."""
        while (info := self._active.pop(_key_of)) is None:
            if self._closed.is_set():
                return None
            if (info := self._backoff.pop_for_retry()) is not None:
                break  # an idle scheduler retries a rejected pod now (SchedulerPopFromBackoffQ)
            self._ready.clear()
            await self._ready.wait()
        info.attempts += 1
        if info.initial_attempt_timestamp is None:
            info.initial_attempt_timestamp = self._clock.now()
        info.unschedulable_plugins.clear()
        info.pending_plugins.clear()
        self.scheduling_cycle += 1
        self._in_flight[info.key] = _InFlight(info)
        return info

    def done(self, key: str) -> None:
        """The cycle of `key` ended (bound, or requeued): it is no longer in flight."""
        self._in_flight.pop(key, None)

    def add_unschedulable_if_not_present(self, info: QueuedPodInfo, cycle: int) -> None:
        """Requeue a pod whose scheduling cycle `cycle` failed; its rejecting plugins are
        in `unschedulable_plugins` (empty: it failed with an error). Ends its flight, as
        `done()` does. Raises PodAlreadyQueued if the pod was added again meanwhile."""
        flight = self._in_flight.pop(info.key, None)
        for name, queued in (("activeQ", info.key in self._active),
                             ("backoffQ", info.key in self._backoff),
                             ("unschedulablePods", info.key in self._unschedulable)):
            if queued:
                raise PodAlreadyQueued(f"pod {info.key} is already present in {name}")
        if flight is not None and flight.deleted:
            return  # deleted while being scheduled: nothing left to retry
        info.timestamp = self._clock.now()
        if flight is not None and flight.activated:
            self._add_to_active(info)  # a plugin asked for it during the cycle
            return
        updated = flight is not None and flight.updated
        if (self.move_request_cycle >= cycle or updated
                or not (info.unschedulable_plugins or info.pending_plugins)):
            self._push_backoff(info)
        else:
            self._unschedulable[info.key] = info

    # --- cluster events -------------------------------------------------------------

    def move_all_to_active_or_backoff(self, event: ClusterEvent,
                                      pre_check: Callable[[Obj], bool] | None = None) -> None:
        """A cluster event that may help unschedulable pods; `pre_check` narrows the pods
        further (e.g. only those that would fit a newly added node)."""
        self._move([info for info in self._unschedulable.values()
                    if pre_check is None or pre_check(info.pod)], event)

    def assigned_pod_added(self, pod: Obj) -> None:
        self._move(self._with_affinity_to(pod), ASSIGNED_POD_ADD)

    def assigned_pod_updated(self, old: Obj, new: Obj) -> None:
        event = ClusterEvent(Resource.POD, pod_update_action(old, new), "AssignedPodUpdate")
        if event.action & event.action.UPDATE_POD_SCALE_DOWN:
            # freed resources may help any pod, not only those with affinity to this one
            self.move_all_to_active_or_backoff(event)
        else:
            self._move(self._with_affinity_to(new), event)

    def activate(self, pods: Iterable[Obj]) -> None:
        """Move these pods to activeQ now, backoff or not (upstream's Activate, for
        plugins that know a waiting pod can go, e.g. the rest of a gang). PreEnqueue
        checks still apply; a pod in flight goes to activeQ if its cycle fails."""
        for pod in pods:
            key = pod_key(pod)
            info = self._unschedulable.pop(key, None) or self._backoff.remove(key)
            if info is not None:
                self._add_to_active(info)
            elif (flight := self._in_flight.get(key)) is not None:
                flight.activated = True

    def flush_backoff_completed(self) -> None:
        for info in self._backoff.pop_completed(self._clock.now()):
            self._add_to_active(info)

    def flush_unschedulable_left_over(self) -> None:
        now = self._clock.now()
        self._move([info for info in self._unschedulable.values()
                    if now - info.timestamp > MAX_IN_UNSCHEDULABLE], UNSCHEDULABLE_TIMEOUT)

    # --- lifecycle and introspection ------------------------------------------------

    async def run(self) -> None:
        """Flush backoffQ every second and left-over unschedulable pods every 30 s,
        until `close()`."""
        last_left_over = self._clock.now()
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            while not self._closed.is_set():
                tick = asyncio.ensure_future(self._clock.sleep(BACKOFF_FLUSH_PERIOD))
                await asyncio.wait((tick, closed), return_when=asyncio.FIRST_COMPLETED)
                if not tick.done():
                    tick.cancel()
                    break
                self.flush_backoff_completed()
                if self._clock.now() - last_left_over >= LEFT_OVER_FLUSH_PERIOD:
                    last_left_over = self._clock.now()
                    self.flush_unschedulable_left_over()
        finally:
            closed.cancel()

    def close(self) -> None:
        """Wake every `pop()` waiter with None and stop `run()`."""
        self._closed.set()
        self._ready.set()

    def get(self, key: str) -> QueuedPodInfo | None:
        """The pod queued under `key` in any sub-queue (not one in flight)."""
        return self._active.get(key) or self._backoff.get(key) or self._unschedulable.get(key)

    def pending_pods(self) -> PendingPods:
        return PendingPods(active=[i.pod for i in self._active.items()],
                           backoff=[i.pod for i in self._backoff.items()],
                           unschedulable=[i.pod for i in self._unschedulable.values()])

    def nominated_pods_for_node(self, node_name: str) -> list[Obj]:
        return self.nominator.pods_for_node(node_name)

    def add_nominated_pod(self, pod: Obj, node_name: str | None = None) -> None:
        self.nominator.add(pod, node_name)

    def delete_nominated_pod_if_exists(self, pod: Obj) -> None:
        self.nominator.delete(pod)

    # --- internals ------------------------------------------------------------------

    def _add_to_active(self, info: QueuedPodInfo) -> bool:
        """Run the PreEnqueue checks: into activeQ, or into unschedulablePods gated."""
        for check in self._pre_enqueue:
            if (reason := check(info.pod)) is not None:
                info.gated, info.gating_reason = True, reason
                self._unschedulable[info.key] = info
                return False
        info.gated, info.gating_reason = False, None
        self._active.push(info.key, info)
        self._ready.set()
        return True

    def _push_backoff(self, info: QueuedPodInfo) -> None:
        self._backoff.push(info.key, info)
        self._ready.set()  # a waiting pop() may take it now (see backoff_queue.py)

    def _is_backing_off(self, info: QueuedPodInfo) -> bool:
        return not info.gated and self._expiry(info) > self._clock.now()

    def _requeue(self, info: QueuedPodInfo) -> None:
        if self._is_backing_off(info):
            self._push_backoff(info)
        else:
            self._add_to_active(info)

    def _is_relevant(self, info: QueuedPodInfo, event: ClusterEvent) -> bool:
        if info.gated:
            # only the gate's own pod update (see update()) or a wildcard re-checks it
            return event.is_wildcard()
        plugins = info.unschedulable_plugins | info.pending_plugins
        if not plugins or event.is_wildcard():
            return True
        for plugin in plugins:
            registered = self._plugin_events.get(plugin)
            if registered is None or any(r.matches(event) for r in registered):
                return True  # a plugin that registered nothing is woken by anything
        return False

    def _move(self, infos: Iterable[QueuedPodInfo], event: ClusterEvent) -> None:
        for info in list(infos):
            if self._is_relevant(info, event):
                del self._unschedulable[info.key]
                self._requeue(info)
        self.move_request_cycle = self.scheduling_cycle

    def _with_affinity_to(self, assigned: Obj) -> list[QueuedPodInfo]:
        """Unschedulable pods with a required pod-affinity term the assigned pod meets."""
        return [info for info in self._unschedulable.values() if info.affinity_terms
                and any(term_matches(term, info.pod, assigned) for term in info.affinity_terms)]
