"""NodeResourcesBalancedAllocation against upstream's balanced_allocation_test.go outcomes
(node sizes in millicores and bytes, as upstream's makeNode)."""

from __future__ import annotations

import numpy as np
import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import CycleState
from kubelite.scheduler.plugins.balanced_allocation import NodeResourcesBalancedAllocation

CPU_ONLY = [{"cpu": "1000m", "memory": "0"}, {"cpu": "2000m", "memory": "0"}]
CPU_AND_MEMORY = [{"cpu": "1000m", "memory": "2000"}, {"cpu": "2000m", "memory": "3000"}]


def run(pod: dict, sizes: list[tuple[str, str]], existing: list[tuple[str, list[dict[str, str]]]]):
    nodes = table(*(make_node(f"node{i + 1}", cpu=c, memory=m) for i, (c, m) in enumerate(sizes)),
                  pods=tuple(make_pod(requests=r, node=n) for n, r in existing))
    plugin, state, rows = NodeResourcesBalancedAllocation(), CycleState(), np.arange(len(nodes))
    status = plugin.pre_score(state, pod, nodes, rows)
    return status, (None if status.is_skip() else plugin.score(state, pod, nodes, rows).tolist())


@pytest.mark.parametrize("pod_requests, sizes, existing, expected", [
    (CPU_AND_MEMORY, [("4", "10000"), ("6", "10000")], [], [87, 100]),
    (CPU_AND_MEMORY, [("10", "20000"), ("10", "20000")],
     [("node1", CPU_ONLY), ("node2", CPU_AND_MEMORY)], [82, 95]),
    (CPU_AND_MEMORY, [("10", "20000"), ("10", "50000")],
     [("node1", CPU_ONLY), ("node2", CPU_AND_MEMORY)], [82, 80]),
    (CPU_ONLY, [("6", "10000"), ("6", "10000")],
     [("node1", CPU_ONLY), ("node2", CPU_AND_MEMORY)], [50, 75]),
], ids=["differently-sized-nodes", "pods-scheduled-with-resources",
        "scheduled-differently-sized", "requested-at-node-capacity"])
def test_score_is_one_minus_std_of_fractions(pod_requests, sizes, existing, expected) -> None:
    status, got = run(make_pod(requests=pod_requests), sizes, existing)
    assert status.is_success() and got == expected


def test_best_effort_pod_is_skipped_in_pre_score() -> None:
    status, _ = run(make_pod(requests=[]), [("4", "10000")], [])
    assert status.is_skip()
