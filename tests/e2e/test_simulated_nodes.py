"""Simulated nodes seen by real kubectl: in the server process (--simulated-nodes) and
in an agent process (`kubelite agent --simulate`) that reaches the server over HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import ROOT, Cluster, ready_nodes, wait_for


@pytest.fixture
def sim_cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "cluster", extra_args=("--simulated-nodes", "3"))
    c.start()
    yield c
    c.stop()


def test_kubectl_shows_simulated_nodes_ready(sim_cluster: Cluster) -> None:
    expected = {"sim-0": "Ready", "sim-1": "Ready", "sim-2": "Ready"}
    assert wait_for(lambda: ready_nodes(sim_cluster) == expected), ready_nodes(sim_cluster)
    wide = sim_cluster.kubectl("get", "node", "sim-1", "-o", "wide").stdout
    assert "v1.35.0+kubelite" in wide and "simulated://1" in wide
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
           "spec": {"nodeName": "sim-2", "containers": [{"name": "app", "image": "nginx"}]}}
    sim_cluster.kubectl("create", "-f", "-", input=json.dumps(pod))
    sim_cluster.kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=30s")
    ip = sim_cluster.kubectl("get", "pod", "web", "-o", "jsonpath={.status.podIP}").stdout
    assert ip.startswith("10.42.2.")


def test_agent_process_joins_its_nodes(sim_cluster: Cluster) -> None:
    agent = subprocess.Popen(
        [sys.executable, "-m", "kubelite.cli.main", "agent", "--simulate", "2",
         "--kubeconfig", sim_cluster.kubeconfig, "--name-prefix", "hollow-",
         "--cluster-cidr", "10.44.0.0/16"],
        cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        names = wait_for(lambda: {"hollow-0", "hollow-1"} <= set(ready_nodes(sim_cluster)))
        assert names, ready_nodes(sim_cluster)
        assert ready_nodes(sim_cluster)["hollow-1"] == "Ready"
        assert wait_for(lambda: sim_cluster.kubectl(
            "get", "lease", "-n", "kube-node-lease", "hollow-0",
            "-o", "jsonpath={.spec.holderIdentity}", check=False).stdout == "hollow-0")
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            assert agent.wait(timeout=15) == 0
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
            raise
