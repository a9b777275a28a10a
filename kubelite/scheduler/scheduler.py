"""kube-scheduler's main loop (upstream's pkg/scheduler/scheduler.go and schedule_one.go):
informers feed the queue and the node table, one pod at a time is scheduled, and
bindings go out in the background while the next pod is scheduled.

    LeaderElector (Lease kube-system/kube-scheduler)
        └─ while leading: informers (pods, nodes) ─► EventHandlers ─► queue, table
                          queue.run()  (backoff flushes)
                          loop: pop ─► schedule_one(pod, table)
                                 ├─ node: assume in table ─► Reserve ─► Permit
                                 │    └─ binding task: WaitOnPermit ─► PreBind ─► Bind
                                 │       (DefaultBinder: POST pods/binding) ─► PostBind
                                 │          ok: queue.done
                                 │          failed: Unreserve, forget, requeue
                                 ├─ FitError: requeue unschedulable; PodScheduled=False,
                                 │            FailedScheduling event (in the background);
                                 │            preemption chose a node: nominate the pod
                                 │            there, evict the victims (in the background)
                                 └─ other error: requeue with backoff

Guarantees:
- The scheduling cycle is synchronous and runs in one task, so cycles never overlap and
  each sees every assumption made before it: two pods are never both placed in the
  room only one fits, even while their bindings are still in flight.
- Reserve and Permit end the scheduling cycle, synchronously; a failure there runs every
  reserve plugin's Unreserve (reverse order) and forgets the assumption before the next
  pod is scheduled. A rejection (Unschedulable) is reported as upstream's
  "0/1 nodes are available: 1 <reason>." and waits for an event its plugin registered.
- The binding cycle is a task per pod (upstream's goroutine): WaitOnPermit, PreBind
  (VolumeBinding binds volumes and waits for them), Bind, PostBind. A failure unreserves,
  forgets the assumption, wakes pods that the freed room may help (AssignedPodDelete, as
  upstream) and sends the pod back: to wait for an event if Permit rejected it, through
  backoff otherwise. A pod deleted while waiting at Permit is rejected at once.
- A nomination is recorded in the queue's Nominator at once (later cycles count the
  pod on its node) and written to status.nominatedNodeName with the PodScheduled
  condition; it ends when the pod is assumed, deleted, or fails otherwise.
- Only the Lease holder schedules. Each term of leadership starts from a fresh table
  and queue filled by fresh informers, so nothing stale outlives a lost lease; losing
  the lease cancels the term's tasks, in-flight bindings included.
- Nothing here reads the store: everything goes through kubelite/client, so the loop
  runs unchanged against any Kubernetes API server.
- Several profiles (a KubeSchedulerConfiguration's, scheduler/config.py) share one queue
  and one node table, as upstream's profile map does; a pod is scheduled by the profile
  its spec.schedulerName names, with that profile's plugins and weights, and its
  FailedScheduling events are reported under that name.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import uuid
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from typing import Any

from kubelite.client.informer import Informer, strip_managed_fields
from kubelite.client.leaderelection import LeaderElector
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.scheduler.binding_cycle import (
    Handle, run_bind, run_permit, run_post_bind, run_pre_bind, run_reserve, run_unreserve,
    wait_on_permit)
from kubelite.scheduler.event_handlers import (
    DEFAULT_SCHEDULER_NAME, EventHandlers, is_deleting, scheduler_name_of)
from kubelite.scheduler.events import ASSIGNED_POD_DELETE, ActionType
from kubelite.scheduler.framework import Code, CycleState, Obj, Status
from kubelite.scheduler.node_table import NodeTable, pod_key
from kubelite.scheduler.queue import INITIAL_BACKOFF, MAX_BACKOFF, PodAlreadyQueued, SchedulingQueue
from kubelite.scheduler.queued_pod import QueuedPodInfo
from kubelite.scheduler.reporting import SCHEDULER_ERROR, UNSCHEDULABLE, FailureReporter
from kubelite.scheduler.preemption import PostFilterResult
from kubelite.scheduler.schedule_one import FitError, Profile, Scheduler, SchedulingError
from kubelite.scheduler.victims import prepare_candidate

log = logging.getLogger(__name__)

LEASE_NAME = "kube-scheduler"
NO_NODES = "no nodes available to schedule pods"  # upstream's ErrNoNodesAvailable


def _pre_enqueue_reason(algorithms: dict[str, Scheduler], pod: Obj) -> str | None:
    """The first refusal of the PreEnqueue plugins of the pod's own profile (upstream's
    preEnqueuePluginMap by schedulerName), None if they all admit it."""
    algorithm = algorithms.get(scheduler_name_of(pod))
    for plugin in algorithm.profile.at("pre_enqueue") if algorithm else ():
        status = plugin.pre_enqueue(pod)
        if not status.is_success():
            return str(status.message() or plugin.name)
    return None


def _ignore_args(call: Any, action: ActionType, *_objects: Obj) -> None:
    call(action)


def default_identity() -> str:
    """hostname_uuid, as upstream names a scheduler replica in its Lease."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class KubeScheduler:
    """`profiles` (from a configuration file) or else one `profile` (the default one
    unless given) named `scheduler_name`."""

    def __init__(self, client: Client, *, scheduler_name: str = DEFAULT_SCHEDULER_NAME,
                 profile: Profile | None = None, profiles: Sequence[Profile] = (),
                 seed: int | None = None, identity: str | None = None,
                 leader_elect: bool = True, lease_name: str = LEASE_NAME,
                 lease_namespace: str = "kube-system", lease_duration: float = 15.0,
                 renew_deadline: float = 10.0, retry_period: float = 2.0,
                 pod_initial_backoff: float = INITIAL_BACKOFF,
                 pod_max_backoff: float = MAX_BACKOFF) -> None:
        self.client = client
        self.backoffs = (pod_initial_backoff, pod_max_backoff)
        if not profiles:
            profiles = [replace(profile or Profile.default(), scheduler_name=scheduler_name)]
        # upstream's profile map: one framework (here a Scheduler) per schedulerName
        self.algorithms = {p.scheduler_name: Scheduler(p, seed=seed) for p in profiles}
        self.scheduler_name = profiles[0].scheduler_name
        self.handle = Handle(client)
        for algorithm in self.algorithms.values():
            for plugin in algorithm.profile.plugins:
                if hasattr(plugin, "use_handle"):
                    plugin.use_handle(self.handle)
        self.identity = identity or default_identity()
        self.leader_elect = leader_elect
        self.elector = LeaderElector(
            client, name=lease_name, namespace=lease_namespace, identity=self.identity,
            on_started_leading=self._lead, lease_duration=lease_duration,
            renew_deadline=renew_deadline, retry_period=retry_period)
        self.reporters = {name: FailureReporter(client, component=name, host=self.identity)
                          for name in self.algorithms}
        self.reporter = self.reporters[self.scheduler_name]
        self.table = NodeTable()
        self.queue = self._new_queue()
        self.leading = asyncio.Event()  # set once a term's informers have synced
        self._background: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Campaign for the Lease and schedule while holding it; campaign again after
        losing it, until cancelled. Without leader election, just schedule."""
        if not self.leader_elect:
            await self._lead()
            return
        while True:
            await self.elector.run()
            log.warning("scheduler %s lost its lease; campaigning again", self.identity)

    # --- one term of leadership ------------------------------------------------------

    def _new_queue(self) -> SchedulingQueue:
        """A queue that admits pods through their profile's PreEnqueue plugins
        (scheduling gates); its order is PrioritySort's, the queue's own rule, which
        validation makes the same in every profile."""
        return SchedulingQueue(pre_enqueue=[functools.partial(_pre_enqueue_reason, self.algorithms)],
                               initial_backoff=self.backoffs[0], max_backoff=self.backoffs[1])

    async def _lead(self) -> None:
        self.table = NodeTable()
        self.queue = self._new_queue()
        for algorithm in self.algorithms.values():
            algorithm.nominator = self.queue.nominator
        handlers = EventHandlers(self.queue, self.table, scheduler_names=self.algorithms.keys())
        nodes = Informer(self.client, "nodes", transform=strip_managed_fields)
        nodes.add_event_handler(on_add=handlers.on_node_add, on_update=handlers.on_node_update,
                                on_delete=handlers.on_node_delete)
        pods = Informer(self.client, "pods", transform=strip_managed_fields)
        pods.add_event_handler(on_add=handlers.on_pod_add, on_update=handlers.on_pod_update,
                               on_delete=handlers.on_pod_delete)
        pods.add_event_handler(on_delete=self._reject_waiting)
        watched = self._plugin_informers(handlers)
        informers = [nodes, pods, *watched.values()]
        flushing: asyncio.Task[None] | None = None
        try:
            for informer in informers:
                informer.start()
            for informer in informers:
                await informer.wait_for_sync()  # the informer retries until it lists
            for plugin in self._lister_users():
                plugin.use_listers({r: watched[r].lister for r in plugin.watches})
            self.handle.pods = pods.lister
            flushing = asyncio.create_task(self.queue.run(), name="scheduling queue flush")
            self.leading.set()
            await self._schedule_pods()
        finally:
            self.handle.pods = None
            self.leading.clear()
            self.queue.close()
            for task in [*self._background, *([flushing] if flushing else [])]:
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
            if flushing is not None:
                await asyncio.gather(flushing, return_exceptions=True)
            for informer in informers:
                await informer.stop()

    def _lister_users(self) -> list[Any]:
        return [p for algorithm in self.algorithms.values()
                for p in algorithm.profile.plugins if getattr(p, "watches", ())]

    def _plugin_informers(self, handlers: EventHandlers) -> dict[str, Informer]:
        """An informer per resource the profiles' plugins read besides pods and nodes;
        its changes move the pods waiting on plugins interested in that resource's events
        (a new claim, a bound volume)."""
        out: dict[str, Informer] = {}
        for resource in dict.fromkeys(r for p in self._lister_users() for r in p.watches):
            informer = Informer(self.client, resource, transform=strip_managed_fields)
            moved = functools.partial(handlers.on_other, resource)
            informer.add_event_handler(on_add=functools.partial(_ignore_args, moved, ActionType.ADD),
                                       on_update=functools.partial(_ignore_args, moved, ActionType.UPDATE),
                                       on_delete=functools.partial(_ignore_args, moved, ActionType.DELETE))
            out[resource] = informer
        return out

    async def _schedule_pods(self) -> None:
        while (info := await self.queue.pop()) is not None:
            try:
                self.schedule_one(info)
            except Exception as error:  # a bug must cost one pod a backoff, not the loop
                log.exception("scheduling %s failed", info.key)
                self._fail(info, self.queue.scheduling_cycle, SCHEDULER_ERROR, str(error))
            await asyncio.sleep(0)  # let informers and bindings run between cycles

    # --- the scheduling cycle ----------------------------------------------------------

    def schedule_one(self, info: QueuedPodInfo) -> None:
        """One scheduling cycle for a popped pod; the binding cycle is left running."""
        pod, cycle = info.pod, self.queue.scheduling_cycle
        if is_deleting(pod):
            self.queue.done(info.key)  # upstream's skipPodSchedule
            return
        if len(self.table) == 0:
            # an error, not a FitError: no plugin rejected it, so it retries on backoff
            self._fail(info, cycle, SCHEDULER_ERROR, NO_NODES)
            return
        algorithm = self.algorithms.get(scheduler_name_of(pod))
        if algorithm is None:  # the handlers queue only our profiles' pods
            self.queue.done(info.key)
            return
        state = CycleState()
        try:
            result = algorithm.schedule_one(pod, self.table, state)
        except FitError as error:
            info.unschedulable_plugins = set(error.unschedulable_plugins)
            preemption = error.post_filter
            self._fail(info, cycle, UNSCHEDULABLE, str(error),
                       nominated_node=preemption.nominated_node if preemption else None)
            if preemption is not None and preemption.nominated_node:
                for other in preemption.clear_nominations:  # they may no longer fit there
                    self.queue.delete_nominated_pod_if_exists(other)
                self._spawn(self._preempt(info, preemption), f"preempt for {info.key}")
            return
        except SchedulingError as error:
            self._fail(info, cycle, SCHEDULER_ERROR, str(error))
            return
        try:
            self.table.assume_pod(pod, result.node)
        except ValueError as error:
            self._fail(info, cycle, SCHEDULER_ERROR, f"cannot assume pod: {error}")
            return
        self.queue.delete_nominated_pod_if_exists(pod)  # its room is its own now
        assumed = {**pod, "spec": {**(pod.get("spec") or {}), "nodeName": result.node}}
        profile = algorithm.profile  # the pod's profile runs its binding cycle too
        try:
            status = run_reserve(profile, state, assumed, result.node)
            if status.is_success():
                status = run_permit(profile, self.handle, state, assumed, result.node)
        except Exception as error:  # a plugin's bug: still unwind what was reserved
            log.exception("Reserve or Permit of %s failed", info.key)
            status = Status.from_error(error)
        if not (status.is_success() or status.is_wait()):
            run_unreserve(profile, state, assumed, result.node)
            self.table.forget_pod(info.key)
            self._fail_with(info, cycle, status)
            return
        self._spawn(self._binding_cycle(info, cycle, profile, state, assumed, result.node),
                    f"bind {info.key}")

    def _fail(self, info: QueuedPodInfo, cycle: int, reason: str, message: str, *,
              nominated_node: str | None = "") -> None:
        """Requeue and report a failed cycle. `nominated_node`: the node preemption
        nominated, "" to end any nomination (the default, as upstream clears it on every
        failure but a FitError), None to leave it as it is."""
        log.info("unable to schedule pod %s: %s", info.key, message)
        self._requeue(info, cycle)
        if nominated_node is not None:
            if nominated_node and self.queue.get(info.key) is not None:
                # only while it waits: a pod deleted meanwhile must not hold room
                self.queue.add_nominated_pod(info.pod, nominated_node)
            else:
                self.queue.delete_nominated_pod_if_exists(info.pod)
        self._spawn(self._reporter_of(info.pod).report(info.pod, reason, message, nominated_node),
                    f"report {info.key}")

    def _reporter_of(self, pod: Obj) -> FailureReporter:
        return self.reporters.get(scheduler_name_of(pod), self.reporter)

    def _fail_with(self, info: QueuedPodInfo, cycle: int, status: Status) -> None:
        """A failure after a node was chosen: a rejection is reported as a FitError over
        that one node (upstream's NumAllNodes 1), anything else as an error to back off."""
        if status.is_rejected():
            error = FitError(info.key, 1, Counter(status.reasons),
                             unschedulable_plugins={status.plugin} if status.plugin else set())
            info.unschedulable_plugins = set(error.unschedulable_plugins)
            self._fail(info, cycle, UNSCHEDULABLE, str(error))
        else:
            info.unschedulable_plugins.clear()
            self._fail(info, cycle, SCHEDULER_ERROR, status.message())

    def _requeue(self, info: QueuedPodInfo, cycle: int) -> None:
        try:
            self.queue.add_unschedulable_if_not_present(info, cycle)
        except PodAlreadyQueued as error:
            log.debug("%s", error)  # an update re-added it meanwhile: that copy wins

    async def _preempt(self, info: QueuedPodInfo, preemption: PostFilterResult) -> None:
        if not await prepare_candidate(self.client, self._reporter_of(info.pod), info.pod, preemption):
            # the victims it waits for may never go: try again now, as upstream does
            self.queue.activate([info.pod])

    # --- the binding cycle -------------------------------------------------------------

    async def _binding_cycle(self, info: QueuedPodInfo, cycle: int, profile: Profile,
                             state: CycleState, pod: Obj, node: str) -> None:
        try:
            status = await wait_on_permit(self.handle, pod)
            if status.is_success():
                status = await run_pre_bind(profile, state, pod, node)
            if status.is_success():
                status = await run_bind(profile, state, pod, node)
                if status.is_skip():
                    status = Status(Code.ERROR, ("no Bind plugin bound the pod",))
        except asyncio.CancelledError:
            # a lost lease ends the term's table and queue, not the plugins' reservations
            run_unreserve(profile, state, pod, node)
            raise
        except Exception as error:  # a plugin's bug costs this pod a backoff, not the loop
            log.exception("binding cycle of %s failed", info.key)
            status = Status.from_error(error)
        if not status.is_success():
            self._binding_failed(info, cycle, profile, state, pod, node, status)
            return
        log.debug("bound %s to %s", info.key, node)
        run_post_bind(profile, state, pod, node)
        self.queue.done(info.key)
        # what `kubectl describe pod` shows first, as upstream's bindingCycle records it
        self._spawn(self._reporter_of(pod).record_event(
            pod, f"Successfully assigned {info.key} to {node}", type="Normal",
            reason="Scheduled", action="Binding"), f"scheduled event {info.key}")

    def _binding_failed(self, info: QueuedPodInfo, cycle: int, profile: Profile,
                        state: CycleState, pod: Obj, node: str, status: Status) -> None:
        """Upstream's handleBindingCycleError: unreserve, forget, wake the pods the freed
        room may help (AssignedPodDelete), and requeue the pod."""
        run_unreserve(profile, state, pod, node)
        self.table.forget_pod(info.key)
        if status.is_rejected():
            # requeue first, then move all but this pod: it was rejected by its own plugin,
            # and a move during its cycle would only send it to backoff for nothing
            self._fail_with(info, cycle, status)
            self.queue.move_all_to_active_or_backoff(
                ASSIGNED_POD_DELETE, pre_check=lambda other: pod_key(other) != info.key)
            return
        self.queue.move_all_to_active_or_backoff(ASSIGNED_POD_DELETE)
        if isinstance(status.error, errors.NotFound):
            self.queue.done(info.key)  # deleted: nothing left to bind
            return
        self._fail_with(info, cycle, status)

    def _reject_waiting(self, pod: Obj) -> None:
        uid = (pod.get("metadata") or {}).get("uid")
        if uid:
            self.handle.reject_waiting_pod(str(uid))

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def wait_idle(self) -> None:
        """Wait for the bindings and reports in flight (tests and shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
