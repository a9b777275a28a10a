"""Informer events into the node table and the queue, as upstream's eventhandlers.go:
which pods are queued, which are counted on nodes, and which events wake a pod that
did not fit. No server: the handlers are called as an informer would call them."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler.conftest import make_node, make_pod
from kubelite.scheduler.event_handlers import EventHandlers
from kubelite.scheduler.node_table import CPU, NodeTable
from kubelite.scheduler.queue import SchedulingQueue

Obj = dict[str, Any]


@pytest.fixture
def handlers() -> EventHandlers:
    return EventHandlers(SchedulingQueue(), NodeTable())


def queued(h: EventHandlers) -> list[str]:
    pending = h.queue.pending_pods()
    return sorted(p["metadata"]["name"] for p in
                  [*pending.active, *pending.backoff, *pending.unschedulable])


def cpu_requested(h: EventHandlers, node: str) -> int:
    return int(h.table.requested[h.table.row_of[node], CPU])


def with_phase(pod: Obj, phase: str) -> Obj:
    return {**pod, "status": {"phase": phase}}


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, ["p"]),
    ({"schedulerName": "default-scheduler"}, ["p"]),
    ({"schedulerName": ""}, ["p"]),
    ({"schedulerName": "my-scheduler"}, []),
], ids=["no-name", "default", "empty", "another-scheduler"])
async def test_only_our_unassigned_pods_are_queued(
        handlers: EventHandlers, spec: Obj, expected: list[str]) -> None:
    handlers.on_pod_add(make_pod("p", **spec))
    assert queued(handlers) == expected


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, ["p"]),
    ({"schedulerName": "bin-packing"}, ["p"]),
    ({"schedulerName": "my-scheduler"}, []),
], ids=["no-name-is-default", "second-profile", "no-profile"])
async def test_pods_of_every_profile_are_queued(spec: Obj, expected: list[str]) -> None:
    handlers = EventHandlers(SchedulingQueue(), NodeTable(),
                             scheduler_names=["default-scheduler", "bin-packing"])
    handlers.on_pod_add(make_pod("p", **spec))
    assert queued(handlers) == expected


async def test_assigned_pods_of_any_scheduler_count_on_their_node(
        handlers: EventHandlers) -> None:
    handlers.on_node_add(make_node("n1"))
    handlers.on_pod_add(make_pod("a", requests=[{"cpu": "1"}], node="n1"))
    handlers.on_pod_add(make_pod("b", requests=[{"cpu": "500m"}], node="n1",
                                 schedulerName="my-scheduler"))
    assert queued(handlers) == []
    assert cpu_requested(handlers, "n1") == 1500


async def test_a_pod_that_gets_bound_leaves_the_queue_and_counts(
        handlers: EventHandlers) -> None:
    handlers.on_node_add(make_node("n1"))
    pending = make_pod("p", requests=[{"cpu": "1"}])
    handlers.on_pod_add(pending)
    handlers.on_pod_update(pending, make_pod("p", requests=[{"cpu": "1"}], node="n1"))
    assert queued(handlers) == []
    assert cpu_requested(handlers, "n1") == 1000


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
async def test_a_terminal_pod_frees_its_room(handlers: EventHandlers, phase: str) -> None:
    handlers.on_node_add(make_node("n1"))
    running = with_phase(make_pod("a", requests=[{"cpu": "1"}], node="n1"), "Running")
    handlers.on_pod_add(running)
    handlers.on_pod_update(running, with_phase(running, phase))
    assert cpu_requested(handlers, "n1") == 0


async def test_a_deleted_pod_frees_its_room(handlers: EventHandlers) -> None:
    handlers.on_node_add(make_node("n1"))
    bound = make_pod("a", requests=[{"cpu": "1"}], node="n1")
    handlers.on_pod_add(bound)
    handlers.on_pod_delete(bound)
    assert cpu_requested(handlers, "n1") == 0


async def test_a_malformed_node_is_left_out_without_raising(handlers: EventHandlers) -> None:
    handlers.on_node_add(make_node("bad", cpu="lots"))
    assert len(handlers.table) == 0


async def unschedulable_after_one_attempt(h: EventHandlers, pod: Obj, plugin: str) -> None:
    h.on_pod_add(pod)
    info = await h.queue.pop()
    assert info is not None
    info.unschedulable_plugins = {plugin}
    h.queue.add_unschedulable_if_not_present(info, h.queue.scheduling_cycle)
    assert [p["metadata"]["name"] for p in h.queue.pending_pods().unschedulable] == ["p"]


@pytest.mark.parametrize(("plugin", "change", "moved"), [
    ("NodeResourcesFit", {"status": {"allocatable": {"cpu": "64", "memory": "32Gi",
                                                     "pods": "110"}}}, True),
    ("NodeResourcesFit", {"metadata": {"name": "n1", "labels": {},
                                       "annotations": {"note": "x"}}}, False),
    ("NodeAffinity", {"metadata": {"name": "n1", "labels": {"disk": "ssd"}}}, True),
    ("NodeAffinity", {"status": {"allocatable": {"cpu": "64", "memory": "32Gi",
                                                 "pods": "110"}}}, False),
    ("TaintToleration", {"spec": {"taints": [], "unschedulable": False}}, True),
], ids=["fit-on-allocatable", "fit-ignores-annotation", "affinity-on-label",
        "affinity-ignores-allocatable", "taints-on-taint-change"])
async def test_a_node_update_wakes_pods_its_change_may_help(
        handlers: EventHandlers, plugin: str, change: Obj, moved: bool) -> None:
    old = make_node("n1", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}])
    handlers.on_node_add(old)
    await unschedulable_after_one_attempt(handlers, make_pod("p"), plugin)
    handlers.on_node_update(old, {**old, **change})
    assert (handlers.queue.pending_pods().unschedulable == []) is moved


async def test_a_new_node_wakes_an_unschedulable_pod(handlers: EventHandlers) -> None:
    await unschedulable_after_one_attempt(handlers, make_pod("p"), "NodeResourcesFit")
    handlers.on_node_add(make_node("n2"))
    assert handlers.queue.pending_pods().unschedulable == []
