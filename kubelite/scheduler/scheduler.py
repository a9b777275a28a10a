"""kube-scheduler's main loop (upstream's pkg/scheduler/scheduler.go and schedule_one.go):
informers feed the queue and the node table, one pod at a time is scheduled, and
bindings go out in the background while the next pod is scheduled.

    LeaderElector (Lease kube-system/kube-scheduler)
        └─ while leading: informers (pods, nodes) ─► EventHandlers ─► queue, table
                          queue.run()  (backoff flushes)
                          loop: pop ─► schedule_one(pod, table)
                                 ├─ node: assume in table ─► bind task (POST pods/binding)
                                 │          ok: queue.done    failed: forget, requeue
                                 ├─ FitError: requeue unschedulable; PodScheduled=False,
                                 │            FailedScheduling event (in the background)
                                 └─ other error: requeue with backoff

Guarantees:
- The scheduling cycle is synchronous and runs in one task, so cycles never overlap and
  each sees every assumption made before it: two pods are never both placed in the
  room only one fits, even while their bindings are still in flight.
- The binding cycle is a task per pod (upstream's goroutine). A failed binding forgets
  the assumption, wakes pods that the freed room may help (AssignedPodDelete, as
  upstream), and sends the pod back through backoff.
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
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from typing import Any

from kubelite.client.informer import Informer
from kubelite.client.leaderelection import LeaderElector
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.scheduler.event_handlers import (
    DEFAULT_SCHEDULER_NAME, EventHandlers, is_deleting, scheduler_name_of)
from kubelite.scheduler.events import ASSIGNED_POD_DELETE, ActionType
from kubelite.scheduler.framework import Obj
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.queue import PodAlreadyQueued, SchedulingQueue
from kubelite.scheduler.queued_pod import QueuedPodInfo
from kubelite.scheduler.reporting import SCHEDULER_ERROR, UNSCHEDULABLE, FailureReporter
from kubelite.scheduler.schedule_one import FitError, Profile, Scheduler, SchedulingError

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
                 renew_deadline: float = 10.0, retry_period: float = 2.0) -> None:
        self.client = client
        if not profiles:
            profiles = [replace(profile or Profile.default(), scheduler_name=scheduler_name)]
        # upstream's profile map: one framework (here a Scheduler) per schedulerName
        self.algorithms = {p.scheduler_name: Scheduler(p, seed=seed) for p in profiles}
        self.scheduler_name = profiles[0].scheduler_name
        self.algorithm = self.algorithms[self.scheduler_name]
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
        return SchedulingQueue(pre_enqueue=[functools.partial(_pre_enqueue_reason, self.algorithms)])

    async def _lead(self) -> None:
        self.table = NodeTable()
        self.queue = self._new_queue()
        handlers = EventHandlers(self.queue, self.table, scheduler_names=self.algorithms.keys())
        nodes = Informer(self.client, "nodes")
        nodes.add_event_handler(on_add=handlers.on_node_add, on_update=handlers.on_node_update,
                                on_delete=handlers.on_node_delete)
        pods = Informer(self.client, "pods")
        pods.add_event_handler(on_add=handlers.on_pod_add, on_update=handlers.on_pod_update,
                               on_delete=handlers.on_pod_delete)
        informers = [nodes, pods, *self._plugin_informers(handlers)]
        flushing: asyncio.Task[None] | None = None
        try:
            nodes.start()
            pods.start()
            for informer in informers[2:]:
                informer.start()
            for informer in informers:
                await informer.wait_for_sync()  # the informer retries until it lists
            for plugin in self._lister_users():
                plugin.use_listers({r: informers[2 + self._watched().index(r)].lister
                                    for r in plugin.watches})
            flushing = asyncio.create_task(self.queue.run(), name="scheduling queue flush")
            self.leading.set()
            await self._schedule_pods()
        finally:
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

    def _watched(self) -> list[str]:
        """The resources the profiles' plugins read besides pods and nodes, in order."""
        return list(dict.fromkeys(r for p in self._lister_users() for r in p.watches))

    def _plugin_informers(self, handlers: EventHandlers) -> list[Informer]:
        """An informer per resource a plugin reads; its changes move the pods waiting on
        plugins interested in that resource's events (a new claim, a bound volume)."""
        out = []
        for resource in self._watched():
            informer = Informer(self.client, resource)
            moved = functools.partial(handlers.on_other, resource)
            informer.add_event_handler(on_add=functools.partial(_ignore_args, moved, ActionType.ADD),
                                       on_update=functools.partial(_ignore_args, moved, ActionType.UPDATE),
                                       on_delete=functools.partial(_ignore_args, moved, ActionType.DELETE))
            out.append(informer)
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
        try:
            result = algorithm.schedule_one(pod, self.table)
        except FitError as error:
            info.unschedulable_plugins = set(error.unschedulable_plugins)
            self._fail(info, cycle, UNSCHEDULABLE, str(error))
            return
        except SchedulingError as error:
            self._fail(info, cycle, SCHEDULER_ERROR, str(error))
            return
        try:
            self.table.assume_pod(pod, result.node)
        except ValueError as error:
            self._fail(info, cycle, SCHEDULER_ERROR, f"cannot assume pod: {error}")
            return
        self._spawn(self._bind(info, cycle, result.node), f"bind {info.key}")

    def _fail(self, info: QueuedPodInfo, cycle: int, reason: str, message: str) -> None:
        log.info("unable to schedule pod %s: %s", info.key, message)
        self._requeue(info, cycle)
        reporter = self.reporters.get(scheduler_name_of(info.pod), self.reporter)
        self._spawn(reporter.report(info.pod, reason, message), f"report {info.key}")

    def _requeue(self, info: QueuedPodInfo, cycle: int) -> None:
        try:
            self.queue.add_unschedulable_if_not_present(info, cycle)
        except PodAlreadyQueued as error:
            log.debug("%s", error)  # an update re-added it meanwhile: that copy wins

    # --- the binding cycle -------------------------------------------------------------

    async def _bind(self, info: QueuedPodInfo, cycle: int, node: str) -> None:
        meta: Obj = info.pod.get("metadata") or {}
        try:
            await self.client.bind(meta.get("name", ""), node,
                                   namespace=meta.get("namespace", ""),
                                   pod_uid=meta.get("uid") or None)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.table.forget_pod(info.key)
            # the room it held may help others (upstream moves on AssignedPodDelete)
            self.queue.move_all_to_active_or_backoff(ASSIGNED_POD_DELETE)
            if isinstance(error, errors.NotFound):
                self.queue.done(info.key)  # deleted: nothing left to bind
                return
            info.unschedulable_plugins.clear()  # an error: retry after backoff
            message = f"binding rejected: {error}"
            self._fail(info, cycle, SCHEDULER_ERROR, message)
            return
        log.debug("bound %s to %s", info.key, node)
        self.queue.done(info.key)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def wait_idle(self) -> None:
        """Wait for the bindings and reports in flight (tests and shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
