"""Scheduling-cycle rate of the scheduler's pure core, against the 800 pods/s goal.

    python benchmarks/bench_scheduler_core.py [--pods 2000] [--nodes 5000 1000] [--seed 1]
                                              [--mix plain spread]

For each cluster size: a NodeTable of N nodes (three sizes, three zones, one node in ten
tainted, one in fifty cordoned, a few images), five pods already bound per node, then a mix
of pods scheduled one after another with the default profile, each assumed on its node as
the real scheduler would: plain requests, best-effort, nodeSelector, required and preferred
node affinity, tolerations, host ports and an init container. The `spread` mix gives the
same pods an `app` label (ten apps) and topology spread constraints on it: zone
DoNotSchedule maxSkew 1, hostname ScheduleAnyway maxSkew 1. Prints the mean time of
`schedule_one` + `assume_pod`, the pods/s it means, and its ratio to the 800 pods/s goal.
No HTTP, no queue, no binding: the ceiling the core sets. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.schedule_one import FitError, Scheduler

GOAL = 800.0
SIZES = (("4", "16Gi"), ("8", "32Gi"), ("16", "64Gi"))
ZONES = ("zone-a", "zone-b", "zone-c")
MB = 1024 * 1024


def make_node(i: int) -> dict[str, Any]:
    cpu, memory = SIZES[i % 3]
    taints = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}] if i % 10 == 9 else []
    return {
        "metadata": {"name": f"node-{i:05}", "labels": {
            "kubernetes.io/hostname": f"node-{i:05}", "topology.kubernetes.io/zone": ZONES[i % 3],
            "disk": "ssd" if i % 2 else "hdd"}},
        "spec": {"taints": taints, "unschedulable": i % 50 == 49},
        "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "100Gi"},
                   "images": [{"names": [f"registry.local/app-{j}:v1"], "sizeBytes": (100 + 50 * j) * MB}
                              for j in range(i % 4)]},
    }


def container(cpu: str | None, memory: str | None, **extra: Any) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    return {"name": "c", "image": "registry.local/app-1:v1", "resources": {"requests": requests}, **extra}


def spread(pod: dict[str, Any], i: int) -> dict[str, Any]:
    app = f"app-{i % 10}"
    pod["metadata"]["labels"] = {"app": app}
    pod["spec"]["topologySpreadConstraints"] = [
        {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": when, "labelSelector": {"matchLabels": {"app": app}}}
        for key, when in (("topology.kubernetes.io/zone", "DoNotSchedule"),
                          ("kubernetes.io/hostname", "ScheduleAnyway"))]
    return pod


def make_pod(i: int) -> dict[str, Any]:
    kind = i % 8
    spec: dict[str, Any] = {"containers": [container("100m", "128Mi")]}
    if kind == 1:
        spec["containers"] = [container(None, None)]
    elif kind == 2:
        spec["nodeSelector"] = {"topology.kubernetes.io/zone": ZONES[i % 3]}
    elif kind == 3:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-a", "zone-b"]}]}]}}}
    elif kind == 4:
        spec["affinity"] = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}}
    elif kind == 5:
        spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    elif kind == 6:
        spec["containers"] = [container("250m", "256Mi", ports=[{"containerPort": 80, "hostPort": 30000 + i % 500}])]
    elif kind == 7:
        spec["initContainers"] = [container("500m", "64Mi")]
        spec["containers"] = [container("200m", "512Mi"), container("50m", "32Mi")]
    return {"metadata": {"name": f"pod-{i}", "namespace": "bench"}, "spec": spec}


def build(num_nodes: int) -> NodeTable:
    nodes = NodeTable(capacity=num_nodes)
    for i in range(num_nodes):
        nodes.set_node(make_node(i))
    for i in range(num_nodes * 5):
        pod = make_pod(i)
        pod["metadata"]["namespace"] = "existing"
        pod["spec"].pop("containers")
        pod["spec"]["containers"] = [container("200m", "256Mi")]
        pod["spec"]["nodeName"] = f"node-{i % num_nodes:05}"
        nodes.add_pod(pod)
    return nodes


def measure(num_nodes: int, num_pods: int, seed: int, mix: str = "plain") -> tuple[float, int]:
    nodes = build(num_nodes)
    scheduler = Scheduler(seed=seed)
    pods = [spread(make_pod(i), i) if mix == "spread" else make_pod(i) for i in range(num_pods)]
    unschedulable = 0
    start = time.perf_counter()
    for pod in pods:
        try:
            result = scheduler.schedule_one(pod, nodes)
        except FitError:
            unschedulable += 1
        else:
            nodes.assume_pod(pod, result.node)
    return (time.perf_counter() - start) / num_pods, unschedulable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--nodes", type=int, nargs="+", default=[5000, 1000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", nargs="+", choices=("plain", "spread"), default=["plain", "spread"])
    args = parser.parse_args()
    for mix in args.mix:
        for num_nodes in args.nodes:
            mean, unschedulable = measure(num_nodes, args.pods, args.seed, mix)
            rate = 1 / mean
            print(f"schedule_one, {mix:>6}, {num_nodes:>5} nodes, {args.pods} pods: {mean * 1e6:8.1f} us/pod, "
                  f"{rate:8.0f} pods/s = {rate / GOAL:.2f}x the {GOAL:.0f} pods/s goal"
                  f" ({unschedulable} unschedulable)")


if __name__ == "__main__":
    main()
