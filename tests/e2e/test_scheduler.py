"""The scheduler inside `kubelite server`, seen by real kubectl: `kubectl run` gets a
pod onto a simulated node, and `kubectl describe` tells why a pod cannot go anywhere."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import Cluster, ROOT, ready_nodes, wait_for


@pytest.fixture
def sim_cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "cluster", extra_args=("--simulated-nodes", "3", "--node-cpu", "4"))
    c.start()
    yield c
    c.stop()


def phase(cluster: Cluster, name: str) -> str:
    return cluster.kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}",
                           check=False).stdout


def test_kubectl_run_gets_a_running_pod(sim_cluster: Cluster) -> None:
    sim_cluster.kubectl("run", "web", "--image=nginx")
    sim_cluster.kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=30s")
    node = sim_cluster.kubectl("get", "pod", "web", "-o", "jsonpath={.spec.nodeName}").stdout
    assert node in {"sim-0", "sim-1", "sim-2"}
    assert phase(sim_cluster, "web") == "Running"


def test_describe_shows_why_a_pod_is_pending(sim_cluster: Cluster) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge"},
           "spec": {"containers": [{"name": "app", "image": "nginx",
                                    "resources": {"requests": {"cpu": "64"}}}]}}
    sim_cluster.kubectl("create", "-f", "-", input=json.dumps(pod))
    # as kube-scheduler words it, preemption's verdict included
    message = ("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are "
               "available: 3 No preemption victims found for incoming pod.")

    def described() -> str:
        out = sim_cluster.kubectl("describe", "pod", "huge").stdout
        return out if "FailedScheduling" in out else ""

    out = wait_for(described)
    assert "FailedScheduling" in out, out
    assert message in out
    assert "default-scheduler" in out
    assert phase(sim_cluster, "huge") == "Pending"


def test_a_standalone_scheduler_schedules_for_a_server_without_one(tmp_path: Path) -> None:
    c = Cluster(tmp_path / "cluster",
                extra_args=("--disable", "scheduler", "--simulated-nodes", "1"))
    c.start()
    scheduler = None
    try:
        assert wait_for(lambda: ready_nodes(c) == {"sim-0": "Ready"}), ready_nodes(c)
        c.kubectl("run", "web", "--image=nginx")
        assert phase(c, "web") == "Pending"
        lease = c.kubectl("get", "lease", "-n", "kube-system", "kube-scheduler", check=False)
        assert lease.returncode != 0 and "NotFound" in lease.stderr
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "kubelite.cli.main", "scheduler", "--kubeconfig",
             c.kubeconfig], cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        c.kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=30s")
        assert c.kubectl("get", "pod", "web", "-o", "jsonpath={.spec.nodeName}").stdout == "sim-0"
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=15) == 0
        # it let go of the Lease on its way out, and nobody else holds it
        holder = c.kubectl("get", "lease", "-n", "kube-system", "kube-scheduler",
                           "-o", "jsonpath={.spec.holderIdentity}").stdout
        assert holder == ""
    finally:
        if scheduler is not None and scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()
        c.stop()
