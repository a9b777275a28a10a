"""The framework's extension points after a node is chosen: Reserve, Permit, PreBind, Bind
and PostBind, with the waiting pods that Permit can hold (upstream's
pkg/scheduler/framework/runtime/framework.go and waiting_pods_map.go).

    scheduling cycle (synchronous)        binding cycle (a task per pod)
    assume ─► Reserve ─► Permit ──────────► WaitOnPermit ─► PreBind ─► Bind ─► PostBind
                 │          │ Wait: a WaitingPod,      │           │        │
                 │          │ allowed / rejected       │           │        │
                 ▼          ▼ through the Handle       ▼           ▼        ▼
               any failure: Unreserve (reverse order), forget the assumption, requeue

Each `run_*` applies one extension point over the profile's plugins at that point (its
`at(method)`, so a configured profile's lists are honoured), in order, and words the result
as upstream does: a rejection keeps its reasons and names its plugin; anything else is an
Error `running <Point> plugin "<name>": <message>`. Unreserve runs every reserve plugin in
reverse order and never fails; Bind stops at the first plugin that does not answer Skip.

A WaitingPod is resolved once: by `allow` from every plugin that asked it to wait, by the
first `reject`, or by a plugin's timeout ("rejected due to timeout after waiting 10s at plugin
P"). Timeouts are loop timers, so a waiting pod costs nothing while it waits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator
from typing import Any, Protocol

from kubelite.api.protobuf.wellknown import format_duration
from kubelite.client.rest import Client
from kubelite.client.store import Lister
from kubelite.scheduler.framework import Code, CycleState, Obj, Status

log = logging.getLogger(__name__)

MAX_PERMIT_TIMEOUT = 15 * 60.0  # upstream's maxTimeout for a Permit plugin's Wait


def _uid(pod: Obj) -> str:
    meta = pod.get("metadata") or {}
    # a pod without a uid (unit tests) is known by its key, which is unique at any one time
    return str(meta.get("uid") or f"{meta.get('namespace', '')}/{meta.get('name', '')}")


class WaitingPod:
    """A pod held at Permit until every plugin that asked it to wait allows it."""

    def __init__(self, pod: Obj, waits: dict[str, float]) -> None:
        loop = asyncio.get_running_loop()
        self.pod = pod
        self._result: asyncio.Future[Status] = loop.create_future()
        self._timers = {
            plugin: loop.call_later(
                timeout, self.reject, plugin,
                f"rejected due to timeout after waiting {format_duration(round(timeout * 1e9))} "
                f"at plugin {plugin}")
            for plugin, timeout in waits.items()}

    def pending_plugins(self) -> list[str]:
        return list(self._timers)

    def allow(self, plugin: str) -> None:
        timer = self._timers.pop(plugin, None)
        if timer is not None:
            timer.cancel()
        if not self._timers and not self._result.done():
            self._result.set_result(Status.success())

    def reject(self, plugin: str, message: str) -> None:
        for timer in self._timers.values():
            timer.cancel()
        if not self._result.done():
            self._result.set_result(Status(Code.UNSCHEDULABLE, (message,), plugin))

    async def wait(self) -> Status:
        return await self._result


class WaitingPods:
    """Waiting pods by uid (upstream's waitingPodsMap; one event loop, so no lock)."""

    def __init__(self) -> None:
        self._pods: dict[str, WaitingPod] = {}

    def add(self, waiting: WaitingPod) -> None:
        self._pods[_uid(waiting.pod)] = waiting

    def remove(self, pod: Obj) -> None:
        self._pods.pop(_uid(pod), None)

    def get(self, uid: str) -> WaitingPod | None:
        return self._pods.get(uid)

    def __iter__(self) -> Iterator[WaitingPod]:
        return iter(list(self._pods.values()))

    def __len__(self) -> int:
        return len(self._pods)


class Handle:
    """What the framework offers plugins beyond their arguments (upstream's framework.Handle):
    the API client, for the plugins that write (binders), the waiting pods, and whether a
    pod still exists (the pods lister, for plugins that wait in the binding cycle)."""

    def __init__(self, client: Client | None) -> None:
        self._client = client
        self.waiting_pods = WaitingPods()
        # the pods informer's lister while a term of leadership runs (None outside one)
        self.pods: Lister | None = None

    def pod_exists(self, pod: Obj) -> bool:
        """Whether the pods informer still has the pod (True when there is no informer)."""
        meta = pod.get("metadata") or {}
        return self.pods is None or self.pods.get(meta.get("namespace", ""), meta.get("name", "")) is not None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("this scheduler has no API client")
        return self._client

    def get_waiting_pod(self, uid: str) -> WaitingPod | None:
        return self.waiting_pods.get(uid)

    def iterate_over_waiting_pods(self) -> Iterator[WaitingPod]:
        return iter(self.waiting_pods)

    def reject_waiting_pod(self, uid: str) -> bool:
        """Reject a waiting pod (it was deleted); whether it was waiting."""
        waiting = self.waiting_pods.get(uid)
        if waiting is None:
            return False
        waiting.reject("", "removed")
        return True


class Points(Protocol):
    """Where the plugins of each extension point come from (schedule_one.Profile)."""

    def at(self, method: str) -> list[Any]: ...


def _failure(point: str, plugin: str, status: Status) -> Status:
    """A plugin's non-success as its extension point reports it."""
    if status.is_rejected():
        return dataclasses.replace(status, plugin=plugin)
    return Status(Code.ERROR, (f'running {point} plugin "{plugin}": {status.message()}',), plugin,
                  error=status.error)


def run_reserve(points: Points, state: CycleState, pod: Obj, node: str) -> Status:
    for plugin in points.at("reserve"):
        status: Status = plugin.reserve(state, pod, node)
        if not status.is_success():
            return _failure("Reserve", plugin.name, status)
    return Status.success()


def run_unreserve(points: Points, state: CycleState, pod: Obj, node: str) -> None:
    """Every reserve plugin's Unreserve, in reverse order; one failing does not stop the
    others (it is a bug, logged), since each must release what it holds."""
    for plugin in reversed(points.at("unreserve")):
        try:
            plugin.unreserve(state, pod, node)
        except Exception:
            log.exception("Unreserve of plugin %s failed", plugin.name)


def run_permit(points: Points, handle: Handle, state: CycleState, pod: Obj,
               node: str) -> Status:
    """Success, a rejection, an Error, or Wait (the pod is then a waiting pod)."""
    waits: dict[str, float] = {}
    for plugin in points.at("permit"):
        status, timeout = plugin.permit(state, pod, node)
        if status.is_success():
            continue
        if status.code == Code.WAIT:
            waits[plugin.name] = min(max(float(timeout), 0.0), MAX_PERMIT_TIMEOUT)
            continue
        return _failure("Permit", plugin.name, status)
    if not waits:
        return Status.success()
    handle.waiting_pods.add(WaitingPod(pod, waits))
    name = (pod.get("metadata") or {}).get("name", "")
    return Status(Code.WAIT, (f'one or more plugins asked to wait and no plugin rejected pod "{name}"',))


async def wait_on_permit(handle: Handle, pod: Obj) -> Status:
    """Block until a waiting pod is allowed or rejected; Success for a pod not waiting."""
    waiting = handle.waiting_pods.get(_uid(pod))
    if waiting is None:
        return Status.success()
    try:
        status = await waiting.wait()
    finally:
        handle.waiting_pods.remove(pod)
    if status.is_success() or status.is_rejected():
        return status
    return Status(Code.ERROR, (f"waiting on permit for pod: {status.message()}",), status.plugin)


async def run_pre_bind(points: Points, state: CycleState, pod: Obj, node: str) -> Status:
    for plugin in points.at("pre_bind"):
        status: Status = await plugin.pre_bind(state, pod, node)
        if not status.is_success():
            return _failure("PreBind", plugin.name, status)
    return Status.success()


async def run_bind(points: Points, state: CycleState, pod: Obj, node: str) -> Status:
    """The first Bind plugin that does not answer Skip binds the pod; Skip if none does."""
    for plugin in points.at("bind"):
        status: Status = await plugin.bind(state, pod, node)
        if status.is_skip():
            continue
        return status if status.is_success() else _failure("Bind", plugin.name, status)
    return Status.skip()


def run_post_bind(points: Points, state: CycleState, pod: Obj, node: str) -> None:
    for plugin in points.at("post_bind"):
        try:
            plugin.post_bind(state, pod, node)
        except Exception:
            log.exception("PostBind of plugin %s failed", plugin.name)
