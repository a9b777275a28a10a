"""What a failed scheduling cycle costs once DefaultPreemption runs after it.

    python benchmarks/bench_preemption.py [--nodes 1000 5000] [--pods-per-node 30]

For each cluster size: a NodeTable of N nodes of 4 cpu, each with P pods of 100m at
priority 0, then three failing pods scheduled three times each with the default profile:
one too big for any node with no lower-priority pod to evict (the common retry of an
unschedulable pod), one too big with victims everywhere (every node screened, none fits),
and one that fits once 10 victims go (the dry run finds its candidates). Prints the first
attempt (the pod index is built) and the mean of the next two (cached while no pod
changes). No HTTP, no queue. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.schedule_one import FitError, Scheduler


def pod(name: str, cpu: str, priority: int, node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"priority": priority, "containers": [
        {"name": "c", "image": "app", "resources": {"requests": {"cpu": cpu}}}]}
    if node:
        spec["nodeName"] = node
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}


def cluster(nodes: int, pods_per_node: int) -> NodeTable:
    table = NodeTable()
    for i in range(nodes):
        table.set_node({"metadata": {"name": f"n{i}"},
                        "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"}}})
    for i in range(nodes):
        for j in range(pods_per_node):
            table.add_pod(pod(f"p{i}-{j}", "100m", 0, f"n{i}"))
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--pods-per-node", type=int, default=30)
    args = parser.parse_args()
    for nodes in args.nodes:
        table = cluster(nodes, args.pods_per_node)
        for label, preemptor in (("too big, nothing to evict", pod("big", "8", 0)),
                                 ("too big, victims everywhere", pod("big", "8", 5)),
                                 ("fits once 10 pods go", pod("urgent", "2", 1000))):
            scheduler = Scheduler(seed=1)
            times = []
            for _ in range(3):
                start = time.perf_counter()
                try:
                    scheduler.schedule_one(preemptor, table)
                except FitError as error:
                    outcome = error.post_filter
                times.append((time.perf_counter() - start) * 1000)
            victims = len(outcome.victims) if outcome is not None else 0
            print(f"{nodes:5} nodes x {args.pods_per_node} pods, {label:28}: first {times[0]:7.1f} ms, "
                  f"then {sum(times[1:]) / 2:7.1f} ms ({victims} victims)")


if __name__ == "__main__":
    main()
