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
                                 │            FailedScheduling event (in the background);
                                 │            preemption chose a node: nominate the pod
                                 │            there, evict the victims (in the background)
                                 └─ other error: requeue with backoff

Guarantees:
- The scheduling cycle is synchronous and runs in one task, so cycles never overlap and
  each sees every assumption made before it: two pods are never both placed in the
  room only one fits, even while their bindings are still in flight.
- The binding cycle is a task per pod (upstream's goroutine). A failed binding forgets
  the assumption, wakes pods that the freed room may help (AssignedPodDelete, as
  upstream), and sends the pod back through backoff.
- A nomination is recorded in the queue's Nominator at once (later cycles count the
  pod on its node) and written to status.nominatedNodeName with the PodScheduled
  condition; it ends when the pod is assumed, deleted, or fails otherwise.
- Only the Lease holder schedules. Each term of leadership starts from a fresh table
  and queue filled by fresh informers, so nothing stale outlives a lost lease; losing
  the lease cancels the term's tasks, in-flight bindings included.
- Nothing here reads the store: everything goes through kubelite/client, so the loop
  runs unchanged against any Kubernetes API server.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import uuid
from collections.abc import Coroutine
from typing import Any

from kubelite.client.informer import Informer
from kubelite.client.leaderelection import LeaderElector
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.scheduler.event_handlers import DEFAULT_SCHEDULER_NAME, EventHandlers, is_deleting
from kubelite.scheduler.events import ASSIGNED_POD_DELETE, ActionType
from kubelite.scheduler.framework import Obj
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.queue import PodAlreadyQueued, SchedulingQueue
from kubelite.scheduler.queued_pod import QueuedPodInfo
from kubelite.scheduler.reporting import SCHEDULER_ERROR, UNSCHEDULABLE, FailureReporter
from kubelite.scheduler.preemption import PostFilterResult
from kubelite.scheduler.schedule_one import FitError, Profile, Scheduler, SchedulingError
from kubelite.scheduler.victims import prepare_candidate

log = logging.getLogger(__name__)

LEASE_NAME = "kube-scheduler"
NO_NODES = "no nodes available to schedule pods"  # upstream's ErrNoNodesAvailable


def _ignore_args(call: Any, action: ActionType, *_objects: Obj) -> None:
    call(action)


def default_identity() -> str:
    """hostname_uuid, as upstream names a scheduler replica in its Lease."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class KubeScheduler:
    def __init__(self, client: Client, *, scheduler_name: str = DEFAULT_SCHEDULER_NAME,
                 profile: Profile | None = None, seed: int | None = None,
                 identity: str | None = None, lease_namespace: str = "kube-system",
                 lease_duration: float = 15.0, renew_deadline: float = 10.0,
                 retry_period: float = 2.0) -> None:
        self.client = client
        self.scheduler_name = scheduler_name
        self.algorithm = Scheduler(profile, seed=seed)
        self.identity = identity or default_identity()
        self.elector = LeaderElector(
            client, name=LEASE_NAME, namespace=lease_namespace, identity=self.identity,
            on_started_leading=self._lead, lease_duration=lease_duration,
            renew_deadline=renew_deadline, retry_period=retry_period)
        self.reporter = FailureReporter(client, component=scheduler_name,
                                        host=self.identity)
        self.table = NodeTable()
        self.queue = SchedulingQueue()
        self.leading = asyncio.Event()  # set once a term's informers have synced
        self._background: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Campaign for the Lease and schedule while holding it; campaign again after
        losing it, until cancelled."""
        while True:
            await self.elector.run()
            log.warning("scheduler %s lost its lease; campaigning again", self.identity)

    # --- one term of leadership ------------------------------------------------------

    async def _lead(self) -> None:
        self.table = NodeTable()
        self.queue = SchedulingQueue()
        self.algorithm.nominator = self.queue.nominator
        handlers = EventHandlers(self.queue, self.table, scheduler_name=self.scheduler_name)
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
        return [p for p in self.algorithm.profile.plugins if getattr(p, "watches", ())]

    def _watched(self) -> list[str]:
        """The resources the profile's plugins read besides pods and nodes, in order."""
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
        try:
            result = self.algorithm.schedule_one(pod, self.table)
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
        self._spawn(self._bind(info, cycle, result.node), f"bind {info.key}")

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
        self._spawn(self.reporter.report(info.pod, reason, message, nominated_node),
                    f"report {info.key}")

    def _requeue(self, info: QueuedPodInfo, cycle: int) -> None:
        try:
            self.queue.add_unschedulable_if_not_present(info, cycle)
        except PodAlreadyQueued as error:
            log.debug("%s", error)  # an update re-added it meanwhile: that copy wins

    async def _preempt(self, info: QueuedPodInfo, preemption: PostFilterResult) -> None:
        if not await prepare_candidate(self.client, self.reporter, info.pod, preemption):
            # the victims it waits for may never go: try again now, as upstream does
            self.queue.activate([info.pod])

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
