"""The kubelet as a user meets it: `kubelite server` runs one for its own host (the
`host` runtime: containers are host processes) and kubectl drives pods onto it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import ROOT, Cluster, free_port, namespace_for_test, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("kubelet") / "cluster", agent=True,
                extra_args=("--node-name", "kubelite-node", "--runtime", "host"))
    c.start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def get_json(cluster: Cluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def test_the_server_registers_its_own_node_ready(cluster: Cluster) -> None:
    assert wait_for(lambda: cluster.kubectl(
        "get", "node", "kubelite-node", "--no-headers", check=False).stdout.split()[1:2]
        == ["Ready"])
    node = get_json(cluster, "node", "kubelite-node")
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("host://")


def test_a_job_runs_to_completion_on_the_node(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "job", "once", "-n", ns, "--image=busybox", "--",
                    "/bin/sh", "-c", "echo done")
    cluster.kubectl("wait", "-n", ns, "--for=condition=complete", "job/once", "--timeout=60s")
    pod = get_json(cluster, "pods", "-n", ns, "-l", "job-name=once")["items"][0]
    assert pod["spec"]["nodeName"] == "kubelite-node"
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    described = cluster.kubectl("describe", "pod", "-n", ns, pod["metadata"]["name"]).stdout
    assert "Started container" in described


def test_deleting_a_running_pod_ends_it(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("run", "loop", "-n", ns, "--image=busybox", "--command", "--",
                    "/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done")
    cluster.kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/loop", "--timeout=60s")
    cluster.kubectl("delete", "pod", "loop", "-n", ns, "--timeout=60s")
    assert cluster.kubectl("get", "pod", "loop", "-n", ns, check=False).returncode != 0


def test_an_agent_joins_with_a_kubeconfig_and_runs_its_pods(cluster: Cluster, ns: str,
                                                            tmp_path: Path) -> None:
    agent = subprocess.Popen(
        [sys.executable, "-m", "kubelite.cli.main", "agent", "--kubeconfig", cluster.kubeconfig,
         "--server", cluster.url, "--node-name", "remote-1", "--runtime", "host",
         "--node-ip", "127.0.0.1", "--kubelet-port", str(free_port()),
         "--data-dir", str(tmp_path / "agent"), "--log-level", "WARNING"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: cluster.kubectl(
            "get", "node", "remote-1", "--no-headers", check=False).stdout.split()[1:2]
            == ["Ready"])
        cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "there"},
            "spec": {"nodeName": "remote-1", "restartPolicy": "Never", "containers": [
                {"name": "c", "image": "busybox", "command": ["/bin/sh", "-c", "exit 0"]}]}}))
        assert wait_for(lambda: get_json(cluster, "pod", "there", "-n", ns)["status"].get(
            "phase") == "Succeeded")
    finally:
        agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=60)
    assert agent.returncode == 0, output
    cluster.kubectl("delete", "node", "remote-1")


def test_an_agent_joins_with_a_bootstrap_token(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    """`kubelite agent --server URL --token T`: no kubeconfig; the node discovers the CA
    through the token, gets its own certificate, and runs as system:node:<name>."""
    made = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "token", "create", "--kubeconfig",
         cluster.kubeconfig], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    data = tmp_path / "agent"
    agent = subprocess.Popen(
        [sys.executable, "-m", "kubelite.cli.main", "agent", "--server", cluster.url,
         "--token", made.stdout.strip(), "--node-name", "joined-1", "--runtime", "host",
         "--node-ip", "127.0.0.1", "--kubelet-port", str(free_port()),
         "--data-dir", str(data), "--log-level", "WARNING"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: cluster.kubectl(
            "get", "node", "joined-1", "--no-headers", check=False).stdout.split()[1:2]
            == ["Ready"])
        cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "joined"},
            "spec": {"nodeName": "joined-1", "restartPolicy": "Never", "containers": [
                {"name": "c", "image": "busybox", "command": ["/bin/sh", "-c", "echo hi"]}]}}))
        assert wait_for(lambda: get_json(cluster, "pod", "joined", "-n", ns)["status"].get(
            "phase") == "Succeeded")
        # the API server reaches the joined node's kubelet for the pod's log
        assert cluster.kubectl("logs", "joined", "-n", ns).stdout.strip() == "hi"
    finally:
        agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=60)
    assert agent.returncode == 0, output
    assert (data / "agent" / "kubelet.kubeconfig").stat().st_mode & 0o777 == 0o600
    csrs = get_json(cluster, "csr")["items"]
    assert any(c["spec"]["username"].startswith("system:bootstrap:") and
               c["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"
               for c in csrs)
    cluster.kubectl("delete", "node", "joined-1")
