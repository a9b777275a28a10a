"""Placement as a user drives it: real kubectl against `kubelite server` with three
simulated nodes (sim-0, sim-1, sim-2 in zone-a, zone-b, zone-c), one manifest per case.

Each test works in its own namespace and puts back what it changes on the shared nodes
(labels, taints, cordons) in a finally block, so the cases share one server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for

NODES = ("sim-0", "sim-1", "sim-2")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("placement") / "cluster", 3,
                           "--node-cpu", "4", "--node-memory", "8Gi") as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def pod(name: str, *, cpu: str = "100m", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                                     "resources": {"requests": {"cpu": cpu}}}], **spec}}


def apply(cluster: Cluster, ns: str, *objects: dict[str, Any]) -> None:
    manifest = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(manifest))


def node_of(cluster: Cluster, ns: str, name: str) -> str:
    """The node a pod runs on, once it is Running ("" until then)."""
    out = cluster.kubectl("get", "pod", "-n", ns, name, "-o",
                          "jsonpath={.status.phase} {.spec.nodeName}", check=False).stdout
    phase, _, node = out.partition(" ")
    return node if phase == "Running" else ""


def placed(cluster: Cluster, ns: str, *names: str) -> list[str]:
    """The nodes of `names`, in order, waiting until all of them run."""
    out = {name: wait_for(lambda name=name: node_of(cluster, ns, name)) for name in names}
    assert all(out.values()), out
    return [out[name] for name in names]


def pending_message(cluster: Cluster, ns: str, name: str) -> str:
    """The PodScheduled=False message of a pending pod, once the scheduler wrote it."""
    path = '{.status.conditions[?(@.type=="PodScheduled")].message}'
    return wait_for(lambda: cluster.kubectl("get", "pod", "-n", ns, name, "-o",
                                            f"jsonpath={path}", check=False).stdout)


def test_node_selector_follows_a_label_kubectl_puts_on(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("label", "node", "sim-1", "disk=ssd")
    try:
        apply(cluster, ns, *(pod(f"ssd-{i}", nodeSelector={"disk": "ssd"}) for i in range(3)))
        assert placed(cluster, ns, "ssd-0", "ssd-1", "ssd-2") == ["sim-1"] * 3
    finally:
        cluster.kubectl("label", "node", "sim-1", "disk-")


def test_required_node_affinity_keeps_pods_in_a_zone(cluster: Cluster, ns: str) -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "NotIn",
             "values": ["zone-a", "zone-b"]}]}]}}}
    apply(cluster, ns, *(pod(f"c-{i}", affinity=affinity) for i in range(3)))
    assert placed(cluster, ns, "c-0", "c-1", "c-2") == ["sim-2"] * 3

    nowhere = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-z"]}]}]}}}
    apply(cluster, ns, pod("lost", affinity=nowhere))
    assert pending_message(cluster, ns, "lost") == (
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
        " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")


def test_preferred_node_affinity_wins_when_there_is_room(cluster: Cluster, ns: str) -> None:
    affinity = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "preference": {"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["sim-0"]}]}}]}}
    apply(cluster, ns, *(pod(f"p-{i}", affinity=affinity) for i in range(3)))
    assert placed(cluster, ns, "p-0", "p-1", "p-2") == ["sim-0"] * 3
    # a preference, not a rule: a pod too big for sim-0's remaining room goes elsewhere
    apply(cluster, ns, pod("big", cpu="3900m", affinity=affinity))
    assert placed(cluster, ns, "big")[0] in {"sim-1", "sim-2"}


def test_taints_repel_pods_without_a_toleration(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("taint", "nodes", "sim-0", "sim-1", "dedicated=infra:NoSchedule")
    try:
        apply(cluster, ns, *(pod(f"plain-{i}") for i in range(3)))
        assert placed(cluster, ns, "plain-0", "plain-1", "plain-2") == ["sim-2"] * 3

        tolerant = [{"key": "dedicated", "operator": "Equal", "value": "infra",
                     "effect": "NoSchedule"}]
        only_tainted = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["sim-0"]}]}]}}}
        apply(cluster, ns, pod("infra", tolerations=tolerant, affinity=only_tainted))
        assert placed(cluster, ns, "infra") == ["sim-0"]

        cluster.kubectl("taint", "nodes", "sim-2", "dedicated=infra:NoSchedule")
        apply(cluster, ns, pod("stuck"))
        assert pending_message(cluster, ns, "stuck") == (
            "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: infra}."
            " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    finally:
        cluster.kubectl("taint", "nodes", *NODES, "dedicated-", check=False)


def test_prefer_no_schedule_is_avoided_while_other_nodes_fit(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("taint", "nodes", "sim-0", "sim-1", "noisy=yes:PreferNoSchedule")
    try:
        apply(cluster, ns, *(pod(f"q-{i}") for i in range(4)))
        assert set(placed(cluster, ns, "q-0", "q-1", "q-2", "q-3")) == {"sim-2"}
    finally:
        cluster.kubectl("taint", "nodes", "sim-0", "sim-1", "noisy-", check=False)


def test_cordon_and_uncordon(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("cordon", "sim-0", "sim-1")
    try:
        status = cluster.kubectl("get", "node", "sim-0", "--no-headers").stdout
        assert "SchedulingDisabled" in status
        apply(cluster, ns, *(pod(f"r-{i}") for i in range(3)))
        assert placed(cluster, ns, "r-0", "r-1", "r-2") == ["sim-2"] * 3

        cluster.kubectl("cordon", "sim-2")
        apply(cluster, ns, pod("waits"))
        assert pending_message(cluster, ns, "waits") == (
            "0/3 nodes are available: 3 node(s) were unschedulable."
            " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
        cluster.kubectl("uncordon", "sim-1")  # a node update wakes the pod
        assert placed(cluster, ns, "waits") == ["sim-1"]
    finally:
        cluster.kubectl("uncordon", *NODES)


def test_resource_requests_fill_nodes_then_wait(cluster: Cluster, ns: str) -> None:
    apply(cluster, ns, *(pod(f"big-{i}", cpu="3") for i in range(4)))
    nodes = [wait_for(lambda i=i: node_of(cluster, ns, f"big-{i}")
                      or ("pending" if "Insufficient cpu" in pending_message(
                          cluster, ns, f"big-{i}") else "")) for i in range(4)]
    assert sorted(nodes) == ["pending", "sim-0", "sim-1", "sim-2"]
    waiting = f"big-{nodes.index('pending')}"
    assert "0/3 nodes are available: 3 Insufficient cpu." in pending_message(cluster, ns, waiting)
    cluster.kubectl("delete", "pod", "-n", ns, "big-0" if waiting != "big-0" else "big-1",
                    "--grace-period=0", "--force")
    assert placed(cluster, ns, waiting)[0] in NODES  # the freed room wakes it


def test_scheduling_gates_hold_a_pod_until_removed(cluster: Cluster, ns: str) -> None:
    apply(cluster, ns, pod("gated", schedulingGates=[{"name": "example.com/quota"}]))
    status = wait_for(lambda: "SchedulingGated" in cluster.kubectl(
        "get", "pod", "-n", ns, "gated", "--no-headers").stdout)
    assert status
    assert node_of(cluster, ns, "gated") == ""
    cluster.kubectl("patch", "pod", "-n", ns, "gated", "--type=json",
                    "-p", '[{"op": "remove", "path": "/spec/schedulingGates"}]')
    assert placed(cluster, ns, "gated")[0] in NODES


def test_anti_affinity_spreads_replicas_over_hosts(cluster: Cluster, ns: str) -> None:
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "db"}}}]}}
    pods = [{**pod(f"db-{i}", affinity=anti), "metadata": {"name": f"db-{i}", "labels": {"app": "db"}}}
            for i in range(4)]
    apply(cluster, ns, *pods[:3])
    assert sorted(placed(cluster, ns, "db-0", "db-1", "db-2")) == list(NODES)
    apply(cluster, ns, pods[3])
    assert pending_message(cluster, ns, "db-3") == (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: "
        "0/3 nodes are available: 3 No preemption victims found for incoming pod.")


def test_affinity_puts_a_pod_next_to_its_peer(cluster: Cluster, ns: str) -> None:
    apply(cluster, ns, {**pod("cache"), "metadata": {"name": "cache", "labels": {"app": "cache"}}})
    [host] = placed(cluster, ns, "cache")
    near = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "cache"}}}]}}
    apply(cluster, ns, *(pod(f"web-{i}", affinity=near) for i in range(3)))
    assert placed(cluster, ns, "web-0", "web-1", "web-2") == [host] * 3


def test_topology_spread_balances_zones(cluster: Cluster, ns: str) -> None:
    spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
               "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "s"}}}]
    apply(cluster, ns, *({**pod(f"s-{i}", topologySpreadConstraints=spread),
                          "metadata": {"name": f"s-{i}", "labels": {"app": "s"}}} for i in range(6)))
    nodes = placed(cluster, ns, *(f"s-{i}" for i in range(6)))
    assert sorted(nodes) == sorted(NODES * 2)


def test_a_high_priority_pod_preempts_a_low_priority_one(cluster: Cluster, ns: str) -> None:
    classes = [{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": f"{ns[:20]}-{level}"}, "value": value}
               for level, value in (("low", 10), ("high", 1000))]
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": classes}))
    try:
        apply(cluster, ns, *(pod(f"low-{i}", cpu="3500m", priorityClassName=f"{ns[:20]}-low")
                             for i in range(3)))
        placed(cluster, ns, "low-0", "low-1", "low-2")
        apply(cluster, ns, pod("vip", cpu="3500m", priorityClassName=f"{ns[:20]}-high"))
        [node] = placed(cluster, ns, "vip")
        events = cluster.kubectl("get", "events", "-n", ns, "--field-selector", "reason=Preempted",
                                 "-o", "jsonpath={.items[*].message}").stdout
        assert "Preempted by pod" in events and f"on node {node}" in events, events
    finally:
        cluster.kubectl("delete", "priorityclass", *(c["metadata"]["name"] for c in classes), check=False)
