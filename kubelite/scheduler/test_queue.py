"""The scheduling queue against upstream's scheduling_queue_test.go outcomes, with a
fake clock: nothing here sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from kubelite.scheduler.events import (
    ASSIGNED_POD_DELETE,
    NODE_ADD,
    ActionType,
    ClusterEvent,
    Resource,
)
from kubelite.scheduler.queue import (
    MAX_IN_UNSCHEDULABLE,
    PodAlreadyQueued,
    QueuedPodInfo,
    SchedulingQueue,
    backoff_duration,
)

Obj = dict[str, Any]


NODE_LABEL = ClusterEvent(Resource.NODE, ActionType.UPDATE_NODE_LABEL)
NODE_TAINT = ClusterEvent(Resource.NODE, ActionType.UPDATE_NODE_TAINT)
NODE_ALLOCATABLE = ClusterEvent(Resource.NODE, ActionType.UPDATE_NODE_ALLOCATABLE)
POD_LABEL = ClusterEvent(Resource.POD, ActionType.UPDATE_POD_LABEL)
NODE_CONDITION = ClusterEvent(Resource.NODE, ActionType.UPDATE_NODE_CONDITION)


class FakeClock:
    def __init__(self) -> None:
        self.time = 1000.0
        self.sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.time + seconds, future))
        await future

    def step(self, seconds: float) -> None:
        self.time += seconds
        for at, future in list(self.sleepers):
            if at <= self.time:
                self.sleepers.remove((at, future))
                if not future.done():
                    future.set_result(None)


def make_pod(name: str, *, priority: int = 0, namespace: str = "default",
             labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels or {},
                         "resourceVersion": "1"},
            "spec": {"priority": priority, "containers": [{"name": "c", "image": "i"}], **spec},
            "status": {"phase": "Pending"}}


def where(queue: SchedulingQueue, name: str) -> str | None:
    pending = queue.pending_pods()
    for place, pods in (("active", pending.active), ("backoff", pending.backoff),
                        ("unschedulable", pending.unschedulable)):
        if any(p["metadata"]["name"] == name for p in pods):
            return place
    return None


async def pop(queue: SchedulingQueue) -> QueuedPodInfo:
    info = await asyncio.wait_for(queue.pop(), timeout=5)
    assert info is not None
    return info


async def fail(queue: SchedulingQueue, *plugins: str) -> QueuedPodInfo:
    """Pop the next pod and report its cycle failed, rejected by `plugins`."""
    info = await pop(queue)
    info.unschedulable_plugins.update(plugins)
    queue.add_unschedulable_if_not_present(info, queue.scheduling_cycle)
    return info


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> SchedulingQueue:
    return SchedulingQueue(clock=clock)


async def test_pop_returns_higher_priority_first_then_earlier(queue: SchedulingQueue,
                                                              clock: FakeClock) -> None:
    # TestPriorityQueue_Add: medium, unschedulable (low), high -> high, medium, low
    queue.add(make_pod("medium", priority=100))
    clock.step(1)
    queue.add(make_pod("low-early", priority=0))
    clock.step(1)
    queue.add(make_pod("high", priority=1000))
    clock.step(1)
    queue.add(make_pod("low-late", priority=0))
    names = [(await pop(queue)).pod["metadata"]["name"] for _ in range(4)]
    assert names == ["high", "medium", "low-early", "low-late"]


async def test_pop_counts_attempts_and_clears_last_rejections(queue: SchedulingQueue,
                                                              clock: FakeClock) -> None:
    queue.add(make_pod("p"))
    first = await fail(queue, "NodeResourcesFit")
    assert first.attempts == 1 and first.initial_attempt_timestamp == 1000.0
    queue.move_all_to_active_or_backoff(NODE_ADD)
    clock.step(1)
    queue.flush_backoff_completed()
    again = await pop(queue)
    assert again is first and again.attempts == 2 and again.unschedulable_plugins == set()
    assert again.initial_attempt_timestamp == 1000.0  # kept from the first attempt


@pytest.mark.parametrize(("attempts", "seconds"), [
    (0, 0.0), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (6, 10.0), (100, 10.0),
], ids=["never-tried", "first", "second", "third", "fourth", "capped", "stays-capped",
        "many"])
def test_backoff_doubles_per_attempt_up_to_ten_seconds(attempts: int, seconds: float) -> None:
    assert backoff_duration(attempts) == seconds


@pytest.mark.parametrize("attempts", [1, 2, 3, 4, 5], ids=lambda a: f"attempt-{a}")
async def test_failed_pod_leaves_backoff_exactly_when_it_expires(
        queue: SchedulingQueue, clock: FakeClock, attempts: int) -> None:
    queue.add(make_pod("p"))
    for _ in range(attempts - 1):  # earlier failures, each waited out
        await fail(queue)
        clock.step(backoff_duration(queue.scheduling_cycle))
        queue.flush_backoff_completed()
    info = await fail(queue)  # an error (no rejecting plugin) also backs off
    assert info.attempts == attempts
    assert where(queue, "p") == "backoff"
    clock.step(backoff_duration(attempts) - 0.001)
    queue.flush_backoff_completed()
    assert where(queue, "p") == "backoff"
    clock.step(0.001)
    queue.flush_backoff_completed()
    assert where(queue, "p") == "active"


async def test_configured_backoffs_replace_one_and_ten_seconds(clock: FakeClock) -> None:
    # podInitialBackoffSeconds 3, podMaxBackoffSeconds 5: 3 s, then 5 s (6 capped)
    queue = SchedulingQueue(clock=clock, initial_backoff=3, max_backoff=5)
    queue.add(make_pod("p"))
    for waited in (3, 5, 5):
        await fail(queue)
        clock.step(waited - 0.001)
        queue.flush_backoff_completed()
        assert where(queue, "p") == "backoff"
        clock.step(0.001)
        queue.flush_backoff_completed()
        assert where(queue, "p") == "active"


@pytest.mark.parametrize(("move_during_cycle", "move_before_cycle", "plugins", "expected"), [
    (False, False, ("NodeResourcesFit",), "unschedulable"),
    (True, False, ("NodeResourcesFit",), "backoff"),
    (False, True, ("NodeResourcesFit",), "unschedulable"),
    (False, False, (), "backoff"),
], ids=["no-move-request", "move-request-during-its-cycle", "move-request-before-its-cycle",
        "error-without-plugins"])
async def test_failed_pod_goes_where_move_request_cycle_says(
        queue: SchedulingQueue, move_during_cycle: bool, move_before_cycle: bool,
        plugins: tuple[str, ...], expected: str) -> None:
    queue.add(make_pod("p"))
    if move_before_cycle:
        queue.move_all_to_active_or_backoff(NODE_ADD)
    info = await pop(queue)
    cycle = queue.scheduling_cycle
    if move_during_cycle:
        # upstream records every move request, relevant to this pod or not
        queue.move_all_to_active_or_backoff(NODE_CONDITION)
    info.unschedulable_plugins.update(plugins)
    queue.add_unschedulable_if_not_present(info, cycle)
    assert where(queue, "p") == expected


@pytest.mark.parametrize(("plugins", "event", "moved"), [
    (("NodeResourcesFit",), NODE_ADD, True),
    (("NodeResourcesFit",), NODE_ALLOCATABLE, True),
    (("NodeResourcesFit",), ASSIGNED_POD_DELETE, True),
    (("NodeResourcesFit",), NODE_LABEL, True),
    (("NodeResourcesFit",), NODE_CONDITION, False),
    (("NodeAffinity",), NODE_LABEL, True),
    (("NodeAffinity",), ASSIGNED_POD_DELETE, False),
    (("TaintToleration",), NODE_TAINT, True),
    (("TaintToleration",), NODE_ALLOCATABLE, False),
    (("InterPodAffinity",), POD_LABEL, True),
    (("NodeAffinity", "NodeResourcesFit"), ASSIGNED_POD_DELETE, True),
    (("SomeOutOfTreePlugin",), NODE_LABEL, True),
], ids=["fit-node-add", "fit-allocatable", "fit-pod-delete",
        "fit-node-label-as-upstream-without-hints", "fit-ignores-conditions",
        "affinity-node-label", "affinity-ignores-pod-delete", "taint-node-taint",
        "taint-ignores-allocatable", "interpod-pod-label", "any-rejecting-plugin",
        "unregistered-plugin-wakes-on-anything"])
async def test_move_only_on_event_a_rejecting_plugin_registered(
        queue: SchedulingQueue, clock: FakeClock, plugins: tuple[str, ...],
        event: ClusterEvent, moved: bool) -> None:
    queue.add(make_pod("p"))
    await fail(queue, *plugins)
    clock.step(1)  # backoff (1 s after the first attempt) is over
    queue.move_all_to_active_or_backoff(event)
    assert where(queue, "p") == ("active" if moved else "unschedulable")


async def test_moved_pod_still_backing_off_waits_in_backoff(queue: SchedulingQueue,
                                                           clock: FakeClock) -> None:
    queue.add(make_pod("p"))
    await fail(queue, "NodeResourcesFit")
    clock.step(0.5)
    queue.move_all_to_active_or_backoff(NODE_ADD)
    assert where(queue, "p") == "backoff"
    clock.step(0.5)
    queue.flush_backoff_completed()
    assert where(queue, "p") == "active"


async def test_an_idle_scheduler_retries_a_rejected_pod_without_waiting_out_its_backoff(
        queue: SchedulingQueue, clock: FakeClock) -> None:
    # SchedulerPopFromBackoffQ: the node's not-ready taint goes, the pod moves to backoffQ
    # still backing off, and with activeQ empty pop() takes it at once
    queue.add(make_pod("p"))
    await fail(queue, "TaintToleration")
    clock.step(0.1)
    waiting = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0)
    assert not waiting.done()  # unschedulable: nothing to retry yet
    queue.move_all_to_active_or_backoff(NODE_TAINT)
    info = await asyncio.wait_for(waiting, timeout=5)
    assert info is not None and info.key == "default/p" and info.attempts == 2


async def test_backoff_pods_go_by_expiry_and_active_comes_first(queue: SchedulingQueue,
                                                                clock: FakeClock) -> None:
    for name in ("early", "late"):
        queue.add(make_pod(name))
        await fail(queue, "NodeResourcesFit")
        clock.step(0.2)
    queue.move_all_to_active_or_backoff(NODE_ADD)
    queue.add(make_pod("new"))
    assert [(await pop(queue)).pod["metadata"]["name"] for _ in range(3)] == \
        ["new", "early", "late"]


async def test_a_pod_that_failed_with_an_error_waits_out_its_backoff(
        queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add(make_pod("p"))
    await fail(queue)  # no rejecting plugin: an error
    assert where(queue, "p") == "backoff"
    waiting = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.step(1)
    queue.flush_backoff_completed()
    info = await asyncio.wait_for(waiting, timeout=5)
    assert info is not None and info.key == "default/p"


async def test_a_closed_queue_hands_out_nothing_from_backoff(queue: SchedulingQueue) -> None:
    queue.add(make_pod("p"))
    info = await pop(queue)
    queue.move_all_to_active_or_backoff(NODE_CONDITION)  # a move request during its cycle
    info.unschedulable_plugins.add("NodeResourcesFit")
    queue.add_unschedulable_if_not_present(info, queue.scheduling_cycle)
    assert where(queue, "p") == "backoff"
    queue.close()
    assert await queue.pop() is None


async def test_pre_check_narrows_the_pods_moved(queue: SchedulingQueue,
                                                clock: FakeClock) -> None:
    for name in ("fits", "too-big"):
        queue.add(make_pod(name))
        await fail(queue, "NodeResourcesFit")
    clock.step(1)
    queue.move_all_to_active_or_backoff(NODE_ADD, lambda pod: pod["metadata"]["name"] == "fits")
    assert (where(queue, "fits"), where(queue, "too-big")) == ("active", "unschedulable")


@pytest.mark.parametrize(("waited", "moved"), [
    (MAX_IN_UNSCHEDULABLE - 1, False), (MAX_IN_UNSCHEDULABLE, False),
    (MAX_IN_UNSCHEDULABLE + 1, True),
], ids=["under-five-minutes", "exactly-five-minutes", "over-five-minutes"])
async def test_flush_retries_pods_unschedulable_over_five_minutes(
        queue: SchedulingQueue, clock: FakeClock, waited: float, moved: bool) -> None:
    queue.add(make_pod("p"))
    await fail(queue, "NodeAffinity")
    clock.step(waited)
    queue.flush_unschedulable_left_over()
    assert where(queue, "p") == ("active" if moved else "unschedulable")


def no_gates(pod: Obj) -> str | None:
    gates = pod["spec"].get("schedulingGates")
    return f"waiting for scheduling gates: {[g['name'] for g in gates]}" if gates else None


async def test_gated_pod_waits_until_its_own_update_lifts_the_gate(clock: FakeClock) -> None:
    queue = SchedulingQueue(clock=clock, pre_enqueue=[no_gates])
    gated = make_pod("p", schedulingGates=[{"name": "example.com/quota"}])
    queue.add(gated)
    assert where(queue, "p") == "unschedulable"
    info = queue.get("default/p")
    assert info is not None and info.gated
    assert info.gating_reason == "waiting for scheduling gates: ['example.com/quota']"
    queue.move_all_to_active_or_backoff(NODE_ADD)  # no cluster event lifts a gate
    clock.step(MAX_IN_UNSCHEDULABLE + 1)
    queue.flush_unschedulable_left_over()  # re-checked, still gated
    assert where(queue, "p") == "unschedulable"
    still_gated = {**gated, "metadata": {**gated["metadata"], "labels": {"a": "b"}}}
    queue.update(gated, still_gated)
    assert where(queue, "p") == "unschedulable"
    ungated = {**still_gated, "spec": {**still_gated["spec"], "schedulingGates": []}}
    queue.update(still_gated, ungated)
    assert where(queue, "p") == "active"  # never attempted, so no backoff
    assert not (await pop(queue)).gated


def relabel(pod: Obj, **labels: str) -> Obj:
    return {**pod, "metadata": {**pod["metadata"], "labels": labels}}


def labelled(pod: Obj) -> Obj:
    return relabel(pod, tier="web")


def status_only(pod: Obj) -> Obj:
    return {**pod, "metadata": {**pod["metadata"], "resourceVersion": "2"},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled"}]}}


@pytest.mark.parametrize(("start", "change", "step", "expected"), [
    ("active", labelled, 0, "active"),
    ("backoff", labelled, 0, "backoff"),
    ("unschedulable", labelled, 0, "backoff"),
    ("unschedulable", labelled, 1, "active"),
    ("unschedulable", status_only, 1, "unschedulable"),
    (None, labelled, 0, "active"),
], ids=["in-active-stays", "in-backoff-stays", "unschedulable-changed-backing-off",
        "unschedulable-changed-backoff-over", "unschedulable-status-only-stays",
        "unknown-pod-is-added"])
async def test_update_in_each_sub_queue(queue: SchedulingQueue, clock: FakeClock,
                                        start: str | None, change: Callable[[Obj], Obj],
                                        step: float, expected: str) -> None:
    old = make_pod("p")
    if start == "active":
        queue.add(old)
    elif start == "backoff":
        queue.add(old)
        await fail(queue)
    elif start == "unschedulable":
        queue.add(old)
        await fail(queue, "NodeResourcesFit")
    clock.step(step)
    new = change(old)
    queue.update(old, new)
    assert where(queue, "p") == expected
    assert len(queue.pending_pods().active + queue.pending_pods().backoff
               + queue.pending_pods().unschedulable) == 1


async def test_update_of_priority_in_active_re_sorts(queue: SchedulingQueue,
                                                     clock: FakeClock) -> None:
    queue.add(make_pod("a", priority=10))
    clock.step(1)
    old_b = make_pod("b", priority=1)
    queue.add(old_b)
    queue.update(old_b, make_pod("b", priority=100))
    assert (await pop(queue)).pod["metadata"]["name"] == "b"


@pytest.mark.parametrize("start", ["active", "backoff", "unschedulable"])
async def test_delete_removes_pod_from_its_sub_queue(queue: SchedulingQueue,
                                                     start: str) -> None:
    pod = make_pod("p")
    queue.add(pod)
    if start != "active":
        await fail(queue, *(("NodeAffinity",) if start == "unschedulable" else ()))
    assert where(queue, "p") == start
    queue.delete(pod)
    assert where(queue, "p") is None


async def test_pod_deleted_while_in_flight_is_not_requeued(queue: SchedulingQueue) -> None:
    pod = make_pod("p")
    queue.add(pod)
    info = await pop(queue)
    queue.delete(pod)
    info.unschedulable_plugins.add("NodeResourcesFit")
    queue.add_unschedulable_if_not_present(info, queue.scheduling_cycle)
    assert where(queue, "p") is None


async def test_pod_updated_while_in_flight_is_retried_with_its_update(
        queue: SchedulingQueue) -> None:
    pod = make_pod("p")
    queue.add(pod)
    info = await pop(queue)
    queue.update(pod, relabel(pod, tier="web"))
    assert where(queue, "p") is None  # not queued twice while in flight
    info.unschedulable_plugins.add("NodeAffinity")
    queue.add_unschedulable_if_not_present(info, queue.scheduling_cycle)
    assert where(queue, "p") == "backoff"
    assert queue.pending_pods().backoff[0]["metadata"]["labels"] == {"tier": "web"}


async def test_requeue_of_a_pod_already_queued_is_refused(queue: SchedulingQueue) -> None:
    pod = make_pod("p")
    queue.add(pod)
    info = await pop(queue)
    queue.add(pod)  # the informer re-added it meanwhile
    with pytest.raises(PodAlreadyQueued, match="default/p is already present in activeQ"):
        queue.add_unschedulable_if_not_present(info, queue.scheduling_cycle)


async def test_close_unblocks_every_waiting_pop(queue: SchedulingQueue) -> None:
    waiters = [asyncio.create_task(queue.pop()) for _ in range(3)]
    await asyncio.sleep(0)  # let them block
    queue.close()
    assert await asyncio.wait_for(asyncio.gather(*waiters), timeout=5) == [None] * 3


async def test_pop_after_close_hands_out_what_is_queued_then_none(
        queue: SchedulingQueue) -> None:
    queue.add(make_pod("p"))
    queue.close()
    assert (await pop(queue)).key == "default/p"
    assert await asyncio.wait_for(queue.pop(), timeout=5) is None


async def test_pop_waits_for_an_add(queue: SchedulingQueue) -> None:
    waiter = asyncio.create_task(queue.pop())
    await asyncio.sleep(0)
    assert not waiter.done()
    queue.add(make_pod("p"))
    info = await asyncio.wait_for(waiter, timeout=5)
    assert info is not None and info.key == "default/p"


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0)
    await asyncio.wait_for(poll(), timeout=5)


async def test_run_flushes_backoff_and_left_overs_on_the_clock(queue: SchedulingQueue,
                                                               clock: FakeClock) -> None:
    queue.add(make_pod("backing-off"))
    await fail(queue)
    queue.add(make_pod("stuck"))
    await fail(queue, "NodeAffinity")
    runner = asyncio.create_task(queue.run())
    await until(lambda: bool(clock.sleepers))
    clock.step(1)
    assert (await pop(queue)).key == "default/backing-off"
    for _ in range(int(MAX_IN_UNSCHEDULABLE) + 30):  # one tick per second, as upstream
        await until(lambda: bool(clock.sleepers))
        clock.step(1)
        if where(queue, "stuck") == "active":
            break
    assert where(queue, "stuck") == "active"
    queue.close()
    await asyncio.wait_for(runner, timeout=5)


async def test_pending_pods_lists_each_sub_queue(queue: SchedulingQueue) -> None:
    for name in ("a", "b", "c"):
        queue.add(make_pod(name))
    await fail(queue)
    await fail(queue, "NodeAffinity")
    pending = queue.pending_pods()
    assert pending.summary() == "activeQ:1; backoffQ:1; unschedulablePods:1"
    assert [p["metadata"]["name"] for p in pending.active] == ["c"]


def affinity_to(**labels: str) -> Obj:
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}]}}


@pytest.mark.parametrize(("assigned", "moved"), [
    (make_pod("db-0", labels={"app": "db"}), True),
    (make_pod("web-0", labels={"app": "web"}), False),
    (make_pod("db-0", labels={"app": "db"}, namespace="other"), False),
], ids=["matching-labels", "other-labels", "other-namespace"])
async def test_assigned_pod_added_moves_pods_with_affinity_to_it(
        queue: SchedulingQueue, clock: FakeClock, assigned: Obj, moved: bool) -> None:
    queue.add(make_pod("needs-db", affinity=affinity_to(app="db")))
    await fail(queue, "InterPodAffinity")
    queue.add(make_pod("no-affinity"))
    await fail(queue, "InterPodAffinity")
    clock.step(1)
    queue.assigned_pod_added(assigned)
    assert where(queue, "needs-db") == ("active" if moved else "unschedulable")
    assert where(queue, "no-affinity") == "unschedulable"


def with_cpu(pod: Obj, cpu: str) -> Obj:
    containers = [{"name": "c", "image": "i", "resources": {"requests": {"cpu": cpu}}}]
    return {**pod, "spec": {**pod["spec"], "containers": containers}}


async def test_assigned_pod_scaled_down_moves_pods_short_of_resources(
        queue: SchedulingQueue, clock: FakeClock) -> None:
    queue.add(make_pod("big"))
    await fail(queue, "NodeResourcesFit")
    clock.step(1)
    running = with_cpu(make_pod("running", nodeName="n1"), "2")
    queue.assigned_pod_updated(running, relabel(running, x="y"))
    assert where(queue, "big") == "unschedulable"  # a label change frees nothing
    queue.assigned_pod_updated(running, with_cpu(running, "500m"))
    assert where(queue, "big") == "active"


def test_nominated_pods_follow_add_update_and_delete(queue: SchedulingQueue) -> None:
    pod = make_pod("p")
    queue.add(pod)
    queue.add_nominated_pod(pod, "n1")
    assert queue.nominated_pods_for_node("n1") == [pod]
    # an update without nominatedNodeName keeps the in-memory nomination
    updated = relabel(pod, a="b")
    queue.update(pod, updated)
    assert queue.nominated_pods_for_node("n1") == [updated]
    moved = {**updated, "status": {"nominatedNodeName": "n2"}}
    queue.update(updated, moved)
    assert (queue.nominated_pods_for_node("n1"), queue.nominated_pods_for_node("n2")) == (
        [], [moved])
    queue.delete(moved)
    assert queue.nominated_pods_for_node("n2") == []


def test_added_pod_with_nominated_node_name_is_nominated(queue: SchedulingQueue) -> None:
    pod = {**make_pod("p"), "status": {"nominatedNodeName": "n3"}}
    queue.add(pod)
    assert queue.nominated_pods_for_node("n3") == [pod]


@pytest.mark.parametrize(("start", "expected"), [
    ("unschedulable", "active"), ("backoff", "active"), ("active", "active"),
    ("in-flight", "active"), ("gated", "unschedulable"), (None, None),
], ids=["from-unschedulable", "from-backoff-before-expiry", "already-active",
        "in-flight-requeued-to-active", "gate-still-applies", "unknown-pod-ignored"])
async def test_activate_moves_pod_to_active_now(clock: FakeClock, start: str | None,
                                                expected: str | None) -> None:
    queue = SchedulingQueue(clock=clock, pre_enqueue=[no_gates])
    pod = make_pod("p", **({"schedulingGates": [{"name": "g"}]} if start == "gated" else {}))
    if start is not None:
        queue.add(pod)
    if start in ("unschedulable", "backoff", "in-flight"):
        info = await pop(queue)
        if start != "in-flight":
            info.unschedulable_plugins.update(["NodeAffinity"] if start == "unschedulable" else [])
            queue.add_unschedulable_if_not_present(info, queue.scheduling_cycle)
    queue.activate([pod])
    if start == "in-flight":
        assert where(queue, "p") is None
        info.unschedulable_plugins.add("NodeAffinity")
        queue.add_unschedulable_if_not_present(info, queue.scheduling_cycle)
    assert where(queue, "p") == expected
