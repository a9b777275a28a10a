"""NodeResourcesFit against upstream's fit_test.go, least_allocated_test.go,
most_allocated_test.go and requested_to_capacity_ratio_test.go outcomes.

Upstream's cases give cpu in cores ("4000" = 4000 cores); the scores depend only on the
ratios, so kubelite's tables keep upstream's numbers. Upstream's bare st.MakePod() has no
container at all, hence `requests=[]` (no 100m/200Mi defaults apply)."""

from __future__ import annotations

import numpy as np
import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import Code, CycleState
from kubelite.scheduler.plugins.node_resources_fit import (
    MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO, NodeResourcesFit, ScoringStrategy)

CPU_AND_MEMORY = [{"cpu": "1000", "memory": "2000"}, {"cpu": "2000", "memory": "3000"}]


def reasons_by_node(plugin: NodeResourcesFit, pod: dict, nodes) -> dict[str, tuple[str, ...]]:
    state = CycleState()
    plugin.pre_filter(state, pod, nodes)
    verdict = plugin.filter(state, pod, nodes)
    return {name: verdict.status_of(row, plugin.name).reasons for name, row in nodes.row_of.items()}


@pytest.mark.parametrize("pod_requests, used, expected", [
    ([{"cpu": "1", "memory": "1"}], [{"cpu": "5", "memory": "5"}], ()),
    ([{"cpu": "1", "memory": "1"}], [{"cpu": "10", "memory": "20"}], ("Insufficient cpu", "Insufficient memory")),
    ([{"cpu": "1", "memory": "1"}], [{"cpu": "9", "memory": "20"}], ("Insufficient memory",)),
    ([{"cpu": "2", "memory": "1"}], [{"cpu": "9", "memory": "5"}], ("Insufficient cpu",)),
    ([{"ephemeral-storage": "10"}], [{"ephemeral-storage": "15"}], ("Insufficient ephemeral-storage",)),
    ([{}], [{"cpu": "10", "memory": "20"}], ()),
], ids=["fits", "short-of-cpu-and-memory", "short-of-memory", "short-of-cpu",
        "short-of-ephemeral-storage", "best-effort-fits-a-full-node"])
def test_filter_reports_every_shortage(pod_requests, used, expected) -> None:
    node = make_node("n", cpu="10", memory="20", pods="32")
    node["status"]["allocatable"]["ephemeral-storage"] = "20"
    nodes = table(node, pods=tuple(make_pod(requests=used, node="n") for _ in range(1)))
    plugin = NodeResourcesFit()
    assert reasons_by_node(plugin, make_pod(requests=pod_requests), nodes)["n"] == expected


def test_filter_rejects_a_node_with_no_pod_slot_left() -> None:
    nodes = table(make_node("n", pods="1"), pods=(make_pod(node="n"),))
    got = reasons_by_node(NodeResourcesFit(), make_pod(requests=[{"cpu": "100"}]), nodes)
    assert got["n"] == ("Too many pods", "Insufficient cpu")


def scores(plugin: NodeResourcesFit, pod: dict, nodes) -> list[int]:
    state = CycleState()
    rows = np.arange(len(nodes))
    plugin.pre_score(state, pod, nodes, rows)
    return plugin.score(state, pod, nodes, rows).tolist()


LEAST = [
    ("nothing-requested", [], [("4000", "10000"), ("4000", "10000")], [], [100, 100]),
    ("differently-sized-nodes", CPU_AND_MEMORY, [("4000", "10000"), ("6000", "10000")], [], [37, 50]),
    ("pods-scheduled-with-resources", [], [("10000", "20000"), ("10000", "20000")],
     [("node1", {"cpu": "3000", "memory": "0"}), ("node1", {"cpu": "3000", "memory": "0"}),
      ("node2", {"cpu": "3000", "memory": "0"}), ("node2", {"cpu": "3000", "memory": "5000"})], [70, 57]),
    ("requested-and-scheduled", CPU_AND_MEMORY, [("10000", "20000"), ("10000", "20000")],
     [("node1", {"cpu": "3000", "memory": "0"}), ("node2", {"cpu": "3000", "memory": "5000"})], [57, 45]),
    ("requested-exceeds-capacity", [{"cpu": "3000", "memory": "0"}], [("4000", "10000"), ("4000", "10000")],
     [("node1", {"cpu": "3000", "memory": "0"}), ("node2", {"cpu": "3000", "memory": "5000"})], [50, 25]),
    ("zero-node-resources", [], [(None, None), (None, None)],
     [("node1", {"cpu": "3000", "memory": "0"})], [0, 0]),
]


def cluster(sizes, existing):
    nodes = [make_node(f"node{i + 1}", cpu=c, memory=m) for i, (c, m) in enumerate(sizes)]
    return table(*nodes, pods=tuple(make_pod(requests=[r], node=n) for n, r in existing))


@pytest.mark.parametrize("pod_requests, sizes, existing, expected",
                         [case[1:] for case in LEAST], ids=[case[0] for case in LEAST])
def test_least_allocated_scores_as_upstream(pod_requests, sizes, existing, expected) -> None:
    assert scores(NodeResourcesFit(), make_pod(requests=pod_requests), cluster(sizes, existing)) == expected


def test_least_allocated_weights_resources() -> None:
    plugin = NodeResourcesFit(strategy=ScoringStrategy(resources=(("memory", 2), ("cpu", 1))))
    nodes = cluster([("4000", "10000"), ("6000", "10000")], [])
    assert scores(plugin, make_pod(requests=CPU_AND_MEMORY), nodes) == [41, 50]


MOST = [
    ("differently-sized-nodes", CPU_AND_MEMORY, [("4000", "10000"), ("6000", "10000")], [], [62, 50]),
    ("requested-exceeds-capacity-is-capped", [{"cpu": "5000", "memory": "0"}],
     [("4000", "10000"), ("4000", "10000")], [("node2", {"cpu": "0", "memory": "5000"})], [50, 75]),
]


@pytest.mark.parametrize("pod_requests, sizes, existing, expected",
                         [case[1:] for case in MOST], ids=[case[0] for case in MOST])
def test_most_allocated_scores_as_upstream(pod_requests, sizes, existing, expected) -> None:
    plugin = NodeResourcesFit(strategy=ScoringStrategy(type=MOST_ALLOCATED))
    assert scores(plugin, make_pod(requests=pod_requests), cluster(sizes, existing)) == expected


@pytest.mark.parametrize("shape, pod_requests, sizes, expected", [
    (((0, 10), (100, 0)), [], [("4000", "10000"), ("4000", "10000")], [100, 100]),
    (((0, 10), (100, 0)), CPU_AND_MEMORY, [("4000", "10000"), ("6000", "10000")], [38, 50]),
    (((0, 0), (100, 10)), CPU_AND_MEMORY, [("4000", "10000"), ("6000", "10000")], [62, 50]),
], ids=["least-shape-nothing-requested", "least-shape-rounds-half-up", "bin-packing-shape"])
def test_requested_to_capacity_ratio_follows_its_shape(shape, pod_requests, sizes, expected) -> None:
    plugin = NodeResourcesFit(strategy=ScoringStrategy(type=REQUESTED_TO_CAPACITY_RATIO, shape=shape))
    assert scores(plugin, make_pod(requests=pod_requests), cluster(sizes, [])) == expected


def test_filter_status_code_is_unschedulable() -> None:
    nodes = table(make_node("n", cpu="1"))
    plugin = NodeResourcesFit()
    state = CycleState()
    pod = make_pod(requests=[{"cpu": "2"}])
    plugin.pre_filter(state, pod, nodes)
    assert plugin.filter(state, pod, nodes).status_of(0, plugin.name).code == Code.UNSCHEDULABLE


@pytest.mark.parametrize("args, strategy", [
    ({}, ScoringStrategy()),
    ({"scoringStrategy": {"type": "MostAllocated"}}, ScoringStrategy(MOST_ALLOCATED)),
    ({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 0},
                                                                 {"name": "memory", "weight": 3}]}},
     ScoringStrategy(MOST_ALLOCATED, (("cpu", 1), ("memory", 3)))),
    ({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {
        "shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]}}},
     ScoringStrategy(REQUESTED_TO_CAPACITY_RATIO, shape=((0, 0), (100, 10)))),
], ids=["defaults", "most-allocated", "weights-zero-means-one", "requested-to-capacity-ratio"])
def test_from_args_builds_upstreams_defaulted_strategy(args, strategy) -> None:
    assert NodeResourcesFit.from_args(args).strategy == strategy


def test_from_args_refuses_what_upstream_refuses() -> None:
    from kubelite.scheduler.config_errors import ArgsError

    with pytest.raises(ArgsError) as caught:
        NodeResourcesFit.from_args({"scoringStrategy": {"type": "RequestedToCapacityRatio"}})
    assert [str(e) for e in caught.value.errors] == [
        "scoringStrategy.requestedToCapacityRatio: Required value: must be specified when type "
        "is RequestedToCapacityRatio"]
    with pytest.raises(ArgsError) as caught:
        NodeResourcesFit.from_args({"scoringStrategy": {"typo": "MostAllocated"}})
    assert [str(e) for e in caught.value.decoding] == ['unknown field "scoringStrategy.typo"']


# upstream's fit_test.go TestEnoughRequests: a node of 10m cpu, 20 B memory, 32 pods,
# 5 example.com/aaa, 5 hugepages-2Mi
EXTENDED_A, EXTENDED_B = "example.com/aaa", "example.com/bbb"
KUBERNETES_IO_A, HUGE_PAGES_A = "kubernetes.io/something", "hugepages-2Mi"


def extended_node() -> dict:
    node = make_node("n", cpu="10m", memory="20", pods="32")
    node["status"]["allocatable"].update({EXTENDED_A: "5", HUGE_PAGES_A: "5"})
    return node


@pytest.mark.parametrize("pod_requests, init_requests, used, options, expected", [
    ([{"cpu": "1m", "memory": "1", EXTENDED_A: "1"}], [], {}, {}, ()),
    ([{"cpu": "1m", "memory": "1"}], [{EXTENDED_A: "1"}], {}, {}, ()),
    ([{"cpu": "1m", "memory": "1", EXTENDED_A: "10"}], [], {}, {}, (f"Insufficient {EXTENDED_A}",)),
    ([{"cpu": "1m", "memory": "1"}], [{EXTENDED_A: "10"}], {}, {}, (f"Insufficient {EXTENDED_A}",)),
    ([{"cpu": "1m", "memory": "1", EXTENDED_A: "1"}], [], {EXTENDED_A: "5"}, {},
     (f"Insufficient {EXTENDED_A}",)),
    ([{"cpu": "1m", "memory": "1", EXTENDED_A: "3"}, {EXTENDED_A: "3"}], [], {}, {},
     (f"Insufficient {EXTENDED_A}",)),
    ([{"cpu": "1m", "memory": "1", EXTENDED_B: "1"}], [], {}, {}, (f"Insufficient {EXTENDED_B}",)),
    ([{"cpu": "1m", "memory": "1", KUBERNETES_IO_A: "10"}], [], {}, {},
     (f"Insufficient {KUBERNETES_IO_A}",)),
    ([{"cpu": "1m", "memory": "1", HUGE_PAGES_A: "10"}], [], {}, {}, (f"Insufficient {HUGE_PAGES_A}",)),
    ([{"cpu": "1m", "memory": "1", HUGE_PAGES_A: "3"}], [], {HUGE_PAGES_A: "3"}, {},
     (f"Insufficient {HUGE_PAGES_A}",)),
    ([{"cpu": "1m", "memory": "1", EXTENDED_B: "1"}], [], {}, {"ignored_resources": (EXTENDED_B,)}, ()),
    ([{"cpu": "1m", "memory": "1", EXTENDED_B: "1"}], [], {}, {"ignored_resource_groups": ("example.com",)},
     ()),
    ([{"cpu": "1m", "memory": "1", KUBERNETES_IO_A: "10"}], [], {},
     {"ignored_resource_groups": ("kubernetes.io",)}, (f"Insufficient {KUBERNETES_IO_A}",)),
    ([{"cpu": "1m", "memory": "1", EXTENDED_B: "0"}], [], {}, {}, ()),
    ([{"cpu": "20m", "memory": "1", EXTENDED_A: "6", EXTENDED_B: "1"}], [], {}, {},
     ("Insufficient cpu", f"Insufficient {EXTENDED_A}", f"Insufficient {EXTENDED_B}")),
], ids=["extended-resource-fits", "extended-resource-fits-for-init-container",
        "extended-resource-capacity-enforced", "extended-resource-capacity-enforced-for-init-container",
        "extended-resource-allocatable-enforced", "extended-resource-summed-over-containers",
        "unknown-extended-resource-enforced", "kubernetes-io-resource-capacity-enforced",
        "hugepages-capacity-enforced", "hugepages-allocatable-enforced",
        "ignored-extended-resource-skipped", "ignored-resource-group-skipped",
        "native-prefixed-resource-never-ignored", "zero-request-skipped",
        "every-shortage-reported-in-name-order"])
def test_filter_checks_scalar_resources_as_upstream(pod_requests, init_requests, used, options,
                                                   expected) -> None:
    existing = make_pod(requests=[used], node="n")
    nodes = table(extended_node(), pods=(existing,))
    pod = make_pod(requests=pod_requests)
    pod["spec"]["initContainers"] = [{"name": f"i{i}", "image": "busybox", "resources": {"requests": r}}
                                     for i, r in enumerate(init_requests)]
    assert reasons_by_node(NodeResourcesFit(**options), pod, nodes)["n"] == expected


def test_scalar_columns_follow_pods_and_nodes_after_first_use() -> None:
    nodes = table(extended_node(), make_node("m"))
    assert nodes.scalar_resource(EXTENDED_A)[0].tolist() == [5, 0]
    nodes.add_pod(make_pod("a", requests=[{EXTENDED_A: "2"}], node="n"))
    assert nodes.scalar_resource(EXTENDED_A)[1].tolist() == [2, 0]
    nodes.remove_node("n")  # the last row moves in; the pod is counted again if n returns
    assert nodes.scalar_resource(EXTENDED_A)[0].tolist() == [0]
    nodes.set_node(extended_node())
    assert nodes.scalar_resource(EXTENDED_A)[0].tolist() == [0, 5]
    assert nodes.scalar_resource(EXTENDED_A)[1].tolist() == [0, 2]
    nodes.remove_pod("default/a")
    assert nodes.scalar_resource(EXTENDED_A)[1].tolist() == [0, 0]


WITH_EXTENDED = [{**CPU_AND_MEMORY[0], EXTENDED_A: "2"}, CPU_AND_MEMORY[1]]


@pytest.mark.parametrize("strategy_resources, pod_requests, expected", [
    ((("cpu", 1), ("memory", 1)), WITH_EXTENDED, [37, 50]),
    ((("cpu", 1), ("memory", 1), (EXTENDED_A, 1)), WITH_EXTENDED, [41, 50]),
    ((("cpu", 1), ("memory", 1), (EXTENDED_A, 1)), CPU_AND_MEMORY, [37, 50]),
], ids=["extended-resource-not-configured-is-not-scored", "configured-extended-resource-is-scored",
        "pod-not-asking-leaves-it-out"])
def test_least_allocated_scores_extended_resources_only_when_configured(
        strategy_resources, pod_requests, expected) -> None:
    # node1 has 4 example.com/aaa, node2 none: a resource a node lacks is left out of its mean
    nodes = cluster([("4000", "10000"), ("6000", "10000")], [])
    first = nodes.nodes[nodes.row_of["node1"]]
    nodes.set_node({**first, "status": {**first["status"], "allocatable": {
        **first["status"]["allocatable"], EXTENDED_A: "4"}}})
    plugin = NodeResourcesFit(strategy=ScoringStrategy(resources=strategy_resources))
    assert scores(plugin, make_pod(requests=pod_requests), nodes) == expected
