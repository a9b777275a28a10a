"""A silent node as a user meets it: real kubectl against `kubelite server` with two
simulated nodes, and a third node run by a separate `kubelite agent --simulate 1`
process that the test kills by its pid. Short periods come from the flags: nodes renew
their Leases every 0.5 s, the node lifecycle loop calls a node silent after 4 s, and
pods tolerate an unreachable node for 2 s (DefaultTolerationSeconds)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.cli.main import main
from tests.cluster import ROOT, Cluster, ready_nodes, simulated_cluster, wait_for

LEASE = ("--node-lease-duration-seconds", "2")
UNREACHABLE = "node.kubernetes.io/unreachable"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path / "cluster", 2, *LEASE, "--node-monitor-period", "0.5",
                           "--node-monitor-grace-period", "4",
                           "--default-unreachable-toleration-seconds", "2") as c:
        yield c


@pytest.fixture
def lone_node(cluster: Cluster) -> Iterator[subprocess.Popen[bytes]]:
    """Node lone-0, run by its own agent process (its pod CIDR from another /17)."""
    agent = subprocess.Popen(
        [sys.executable, "-m", "kubelite.cli.main", "agent", "--simulate", "1",
         "--name-prefix", "lone-", "--kubeconfig", cluster.kubeconfig,
         "--cluster-cidr", "10.42.128.0/17", *LEASE], cwd=str(ROOT),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: ready_nodes(cluster).get("lone-0") == "Ready"), \
            ready_nodes(cluster)
        yield agent
    finally:
        if agent.poll() is None:
            agent.kill()
        agent.wait()


def pods(cluster: Cluster) -> list[dict[str, Any]]:
    out = cluster.kubectl("get", "pods", "-l", "app=web", "-o", "json").stdout
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return items


def placement(cluster: Cluster) -> dict[str, list[str]]:
    """node -> the names of the live (not terminating) Running web pods on it."""
    by_node: dict[str, list[str]] = {}
    for pod in pods(cluster):
        if not pod["metadata"].get("deletionTimestamp") and \
                pod["status"].get("phase") == "Running":
            by_node.setdefault(pod["spec"]["nodeName"], []).append(pod["metadata"]["name"])
    return by_node


def taints(cluster: Cluster, node: str) -> list[str]:
    out = cluster.kubectl("get", "node", node, "-o", "jsonpath={.spec.taints}").stdout
    return sorted(f"{t['key']}:{t['effect']}" for t in json.loads(out or "[]"))


def events(cluster: Cluster, reason: str) -> list[str]:
    out = cluster.kubectl("get", "events", "-A", "--field-selector", f"reason={reason}",
                          "-o", "json").stdout
    return [e["involvedObject"]["name"] for e in json.loads(out)["items"]]


def test_a_silent_node_has_its_pods_evicted_and_replaced_elsewhere(
        cluster: Cluster, lone_node: subprocess.Popen[bytes]) -> None:
    cluster.kubectl("cordon", "sim-0", "sim-1")  # so the pods all start on lone-0
    cluster.kubectl("create", "deployment", "web", "--image=nginx", "--replicas=2")
    cluster.kubectl("rollout", "status", "deployment/web", "--timeout=60s", timeout=90)
    assert list(placement(cluster)) == ["lone-0"]
    first = set(placement(cluster)["lone-0"])
    tolerations = pods(cluster)[0]["spec"]["tolerations"]
    assert {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": 2} in tolerations
    cluster.kubectl("uncordon", "sim-0", "sim-1")

    lone_node.send_signal(signal.SIGKILL)  # its kubelet dies: no more Lease renewals
    lone_node.wait()

    assert wait_for(lambda: ready_nodes(cluster).get("lone-0") == "NotReady"), \
        ready_nodes(cluster)
    ready = json.loads(cluster.kubectl(
        "get", "node", "lone-0", "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")]}').stdout)
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
    assert wait_for(lambda: taints(cluster, "lone-0") == [
        f"{UNREACHABLE}:NoExecute", f"{UNREACHABLE}:NoSchedule"]), taints(cluster, "lone-0")

    # the pods go after their 2 s and the Deployment's ReplicaSet replaces them elsewhere
    def replaced() -> bool:
        live = placement(cluster)
        return "lone-0" not in live and sum(map(len, live.values())) == 2
    assert wait_for(replaced), placement(cluster)
    assert not first & {n for names in placement(cluster).values() for n in names}
    evicted = [p for p in pods(cluster) if p["metadata"]["name"] in first]
    for pod in evicted:  # no kubelet confirms the deletion: they stay Terminating
        assert pod["metadata"].get("deletionTimestamp")
        conditions = {c["type"]: c for c in pod["status"]["conditions"]}
        assert conditions["DisruptionTarget"]["reason"] == "DeletionByTaintManager"
        assert conditions["Ready"]["status"] == "False"
    assert wait_for(lambda: first <= set(events(cluster, "TaintManagerEviction"))), \
        events(cluster, "TaintManagerEviction")
    assert wait_for(lambda: "lone-0" in events(cluster, "NodeNotReady"))
    def deploy() -> list[str]:
        return cluster.kubectl("get", "deploy", "web", "--no-headers").stdout.split()[:4]
    assert wait_for(lambda: deploy() == ["web", "2/2", "2", "2"]), deploy()
    described = cluster.kubectl("describe", "node", "lone-0").stdout
    assert f"{UNREACHABLE}:NoExecute" in described, described


@pytest.mark.parametrize(("args", "message"), [
    (["server", "--node-monitor-grace-period", "0"],
     "--node-monitor-grace-period must be positive"),
    (["server", "--default-unreachable-toleration-seconds", "-1"],
     "--default-unreachable-toleration-seconds must be >= 0"),
    (["controller-manager", "--kubeconfig", "/nonexistent", "--cluster-cidr", "10.0.0.0/8",
      "--node-cidr-mask-size", "30"], "into more than 65536 node CIDRs"),
    (["controller-manager", "--kubeconfig", "/nonexistent", "--cluster-cidr", "10.0.0.1/16"],
     "--cluster-cidr: 10.0.0.1/16 has host bits set"),
], ids=["grace", "toleration", "too-many-node-cidrs", "host-bits"])
def test_bad_node_flags_are_refused_before_anything_starts(
        tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    if args[0] == "server":
        args = [*args, "--data-dir", str(tmp_path)]
    assert main(args) == 2
    assert message in capsys.readouterr().err
