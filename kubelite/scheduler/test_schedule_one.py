"""One scheduling cycle over the default profile: feasibility, scoring, rotation, FitError."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.nominator import Nominator
from kubelite.scheduler.schedule_one import (
    FitError, Scheduler, SchedulingError, num_feasible_nodes_to_find, schedule_one)


@pytest.mark.parametrize("percentage, num_nodes, expected", [
    (0, 10, 10), (40, 10, 10), (0, 1000, 420), (40, 1000, 400), (0, 6000, 300), (40, 6000, 2400),
    (0, 99, 99), (0, 100, 100), (0, 5000, 500), (1, 1000, 100),
], ids=["adaptive-few-nodes", "set-few-nodes", "adaptive-1000", "set-1000", "adaptive-6000", "set-6000",
        "below-minimum", "at-minimum", "adaptive-5000", "never-below-100"])
def test_num_feasible_nodes_to_find_as_upstream(percentage, num_nodes, expected) -> None:
    assert num_feasible_nodes_to_find(num_nodes, percentage) == expected


@pytest.mark.parametrize("reasons, pre_filter, message", [
    ({"node(s) had untolerated taint {k: v}": 1, "Insufficient cpu": 2}, "",
     "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu."),
    ({"Insufficient memory": 10, "Insufficient cpu": 2}, "",
     "0/3 nodes are available: 10 Insufficient memory, 2 Insufficient cpu."),
    ({}, "", "0/3 nodes are available:"),
    ({"Insufficient cpu": 3}, "node(s) didn't satisfy plugin(s) [NodeAffinity]",
     "0/3 nodes are available: node(s) didn't satisfy plugin(s) [NodeAffinity]."),
], ids=["two-reasons", "sorted-as-strings", "no-reasons", "pre-filter-message-alone"])
def test_fit_error_message_is_upstreams(reasons, pre_filter, message) -> None:
    assert str(FitError("default/p", 3, Counter(reasons), pre_filter)) == message


def test_first_rejecting_plugin_gives_the_reason() -> None:
    nodes = table(make_node("tainted", cpu="1", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}]),
                  make_node("small1", cpu="1"), make_node("small2", cpu="1"))
    with pytest.raises(FitError) as caught:
        schedule_one(make_pod(requests=[{"cpu": "2"}]), nodes)
    # preemption cannot help: the taint is unresolvable, the small nodes have no pods to evict
    assert str(caught.value) == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. "
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod.")
    assert caught.value.unschedulable_plugins == {"TaintToleration", "NodeResourcesFit"}


def test_node_short_of_two_resources_counts_for_both() -> None:
    nodes = table(make_node("a", cpu="1", memory="1Gi"), make_node("b", cpu="8", memory="1Gi"))
    with pytest.raises(FitError) as caught:
        schedule_one(make_pod(requests=[{"cpu": "2", "memory": "2Gi"}]), nodes)
    assert str(caught.value) == (
        "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory. "
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.")


def test_no_nodes_is_a_fit_error() -> None:
    with pytest.raises(FitError, match=r"^0/0 nodes are available:$"):
        schedule_one(make_pod(), table())


def test_picks_the_least_allocated_node() -> None:
    nodes = table(make_node("busy", cpu="4"), make_node("idle", cpu="4"),
                  pods=(make_pod(requests=[{"cpu": "3"}], node="busy"),))
    assert schedule_one(make_pod(requests=[{"cpu": "500m", "memory": "1Gi"}]), nodes).node == "idle"


def test_preferred_affinity_outweighs_resources() -> None:
    nodes = table(make_node("ssd", cpu="4", labels={"disk": "ssd"}), make_node("hdd", cpu="8"))
    pref = [{"weight": 1, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]
    pod = make_pod(requests=[{"cpu": "1"}], affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": pref}})
    assert schedule_one(pod, nodes).node == "ssd"


def test_assumed_pods_fill_the_cluster_until_fit_error() -> None:
    nodes = table(make_node("a", cpu="1"), make_node("b", cpu="1"))
    scheduler = Scheduler(seed=7)
    chosen = []
    for i in range(2):
        pod = make_pod(f"p{i}", requests=[{"cpu": "600m"}])
        chosen.append(scheduler.schedule_one(pod, nodes).node)
        nodes.assume_pod(pod, chosen[-1])
    assert sorted(chosen) == ["a", "b"]
    with pytest.raises(FitError, match=r"^0/2 nodes are available: 2 Insufficient cpu\. preemption: "
                                       r"0/2 nodes are available: 2 No preemption victims found"):
        scheduler.schedule_one(make_pod("p2", requests=[{"cpu": "600m"}]), nodes)


def test_scoring_stops_at_enough_feasible_nodes_and_the_start_rotates() -> None:
    nodes = table(*(make_node(f"n{i:03}") for i in range(200)))
    scheduler = Scheduler(seed=1)
    first = scheduler.schedule_one(make_pod(), nodes)
    assert (first.evaluated_nodes, first.feasible_nodes) == (100, 100)
    assert scheduler.next_start_node_index == 100
    scheduler.schedule_one(make_pod(), nodes)
    assert scheduler.next_start_node_index == 0


def test_rejected_nodes_walked_past_count_as_processed() -> None:
    # 150 nodes, the first 30 too small: the 101st feasible node is row 130, so 130 rows were walked
    nodes = table(*(make_node(f"n{i:03}", cpu="1" if i < 30 else "8") for i in range(150)))
    scheduler = Scheduler(seed=1)
    result = scheduler.schedule_one(make_pod(requests=[{"cpu": "2"}]), nodes)
    assert (result.evaluated_nodes, result.feasible_nodes) == (130, 100)
    assert scheduler.next_start_node_index == 130


def walk_as_upstream(feasible: list[bool], start: int, wanted: int) -> tuple[list[int], list[int], int]:
    """findNodesThatPassFilters' walk, node by node: (feasible rows taken, rows processed,
    next start index)."""
    n = len(feasible)
    taken: list[int] = []
    processed: list[int] = []
    for i in range(n):
        row = (start + i) % n
        if feasible[row]:
            if len(taken) == wanted:
                return taken, sorted(processed), row
            taken.append(row)
        processed.append(row)
    return taken, sorted(processed), (start + n) % n


@pytest.mark.parametrize("feasible, start", [
    pytest.param([True] * 150, 0, id="all-feasible"),
    pytest.param([True] * 150, 120, id="all-feasible-wrapping"),
    pytest.param([i % 3 == 0 for i in range(400)], 250, id="sparse-wrapping"),
    pytest.param([i >= 30 for i in range(150)], 0, id="rejected-first"),
    pytest.param([False] * 150, 40, id="none-feasible"),
    pytest.param([i < 20 for i in range(150)], 149, id="fewer-than-wanted"),
    pytest.param([True] * 150, 310, id="start-beyond-a-shrunk-table"),
])
def test_the_feasible_walk_takes_rows_as_upstream(feasible: list[bool], start: int) -> None:
    scheduler = Scheduler(seed=1)
    scheduler.next_start_node_index = start
    wanted = num_feasible_nodes_to_find(len(feasible))
    rows, processed = scheduler._take_feasible(np.array(feasible), len(feasible))
    taken, walked, next_start = walk_as_upstream(feasible, start % len(feasible), wanted)
    assert rows.tolist() == taken
    assert np.flatnonzero(processed).tolist() == walked
    assert scheduler.next_start_node_index == next_start


def test_only_feasible_node_is_taken_without_scoring() -> None:
    nodes = table(make_node("a", cpu="1"), make_node("b", cpu="8"))
    assert schedule_one(make_pod(requests=[{"cpu": "2"}]), nodes).node == "b"


def test_ties_are_broken_at_random_by_the_seed() -> None:
    nodes = table(*(make_node(f"n{i}") for i in range(4)))
    picks = [Scheduler(seed=seed).schedule_one(make_pod(), nodes).node for seed in range(40)]
    assert set(picks) == {"n0", "n1", "n2", "n3"}
    again = [Scheduler(seed=seed).schedule_one(make_pod(), nodes).node for seed in range(40)]
    assert picks == again


@pytest.mark.parametrize("requests", [{"cpu": "lots"}, {"memory": "1Zi"}, {"cpu": ["1"]}],
                         ids=["not-a-quantity", "bad-suffix", "not-a-string"])
def test_malformed_request_is_a_scheduling_error_not_a_crash(requests) -> None:
    nodes = table(make_node("a"))
    with pytest.raises(SchedulingError, match="cannot schedule pod"):
        schedule_one(make_pod(requests=[requests]), nodes)


def nominated(name: str, node: str, priority: int, cpu: str) -> tuple[Scheduler, dict]:
    scheduler = Scheduler(seed=1)
    scheduler.nominator = Nominator()
    pod = make_pod(name, requests=[{"cpu": cpu}], priority=priority)
    scheduler.nominator.add(pod, node)
    return scheduler, pod


@pytest.mark.parametrize("priority, fits", [(50, False), (100, False), (101, True)],
                         ids=["lower-priority-yields", "equal-priority-yields",
                              "higher-priority-takes-the-room"])
def test_a_nominated_pod_holds_its_room_for_pods_not_above_it(priority: int, fits: bool) -> None:
    nodes = table(make_node("only", cpu="2"))
    scheduler, _ = nominated("promised", "only", 100, "2")
    pod = make_pod("next", requests=[{"cpu": "1"}], priority=priority)
    if fits:
        assert scheduler.schedule_one(pod, nodes).node == "only"
        return
    with pytest.raises(FitError) as caught:
        scheduler.schedule_one(pod, nodes)
    assert str(caught.value).startswith("0/1 nodes are available: 1 Insufficient cpu.")
    assert nodes.pods_on("only") == set()  # the nominated pod was counted only for the pass


def test_a_nominated_pod_does_not_block_itself_and_goes_to_its_node_first() -> None:
    nodes = table(make_node("busy", cpu="4"), make_node("idle", cpu="4"),
                  pods=(make_pod(requests=[{"cpu": "3"}], node="busy"),))
    scheduler, pod = nominated("promised", "busy", 100, "1")
    # scoring would pick "idle"; the nominated node fits, so it is taken without scoring
    result = scheduler.schedule_one(pod, nodes)
    assert (result.node, result.evaluated_nodes, result.feasible_nodes) == ("busy", 1, 1)
    written = {**pod, "status": {"nominatedNodeName": "idle"}}
    assert scheduler.schedule_one(written, nodes).node == "idle"  # the status wins
