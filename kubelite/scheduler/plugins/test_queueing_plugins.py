"""PrioritySort, SchedulingGates, NodeName and NodeUnschedulable."""

from __future__ import annotations

import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import Code, CycleState
from kubelite.scheduler.plugins.node_name import NodeName
from kubelite.scheduler.plugins.node_unschedulable import NodeUnschedulable
from kubelite.scheduler.plugins.priority_sort import PrioritySort
from kubelite.scheduler.plugins.scheduling_gates import SchedulingGates


@pytest.mark.parametrize("p1, t1, p2, t2, less", [
    (100, 2.0, 50, 1.0, True), (50, 1.0, 100, 2.0, False), (10, 1.0, 10, 2.0, True),
    (10, 2.0, 10, 1.0, False), (None, 1.0, 0, 2.0, True),
], ids=["higher-priority-first", "lower-priority-later", "equal-priority-older-first",
        "equal-priority-newer-later", "missing-priority-is-zero"])
def test_priority_sort_orders_by_priority_then_queue_time(p1, t1, p2, t2, less) -> None:
    pod1, pod2 = make_pod(), make_pod()
    if p1 is not None:
        pod1["spec"]["priority"] = p1
    pod2["spec"]["priority"] = p2
    assert PrioritySort().less(pod1, t1, pod2, t2) is less


@pytest.mark.parametrize("gates, message", [
    ([], None), ([{"name": "foo"}], "waiting for scheduling gates: [foo]"),
    ([{"name": "foo"}, {"name": "bar"}], "waiting for scheduling gates: [foo bar]"),
], ids=["no-gates", "one-gate", "two-gates"])
def test_scheduling_gates_hold_gated_pods(gates, message) -> None:
    status = SchedulingGates().pre_enqueue(make_pod(schedulingGates=gates))
    if message is None:
        assert status.is_success()
    else:
        assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE and status.message() == message


@pytest.mark.parametrize("wanted, expected", [("", [True, True]), ("b", [False, True]), ("c", [False, False])],
                         ids=["no-node-name", "named-node", "unknown-node"])
def test_node_name_fits_only_the_named_node(wanted, expected) -> None:
    nodes = table(make_node("a"), make_node("b"))
    plugin, state, pod = NodeName(), CycleState(), make_pod(node=wanted)
    if plugin.pre_filter(state, pod, nodes).is_skip():
        assert expected == [True, True]
        return
    rejected = plugin.filter(state, pod, nodes).rejected()
    assert [not r for r in rejected] == expected


@pytest.mark.parametrize("tolerations, fits", [
    ([], False),
    ([{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}], True),
    ([{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoExecute"}], False),
], ids=["no-toleration", "tolerates-unschedulable-taint", "wrong-effect"])
def test_node_unschedulable_admits_only_tolerating_pods(tolerations, fits) -> None:
    nodes = table(make_node("cordoned", unschedulable=True), make_node("open"))
    plugin = NodeUnschedulable()
    verdict = plugin.filter(CycleState(), make_pod(tolerations=tolerations), nodes)
    assert verdict.status_of(0, plugin.name).reasons == (() if fits else ("node(s) were unschedulable",))
    assert verdict.status_of(1, plugin.name).is_success()
