"""The kubelet as a user meets it: `kubelite server` runs one for its own host (the
`host` runtime: containers are host processes) and kubectl drives pods onto it."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def agent_on_host(cluster: Cluster, node: str, data: Path, *join: str) -> Iterator[None]:
    """`kubelite agent` for node `node` (host runtime, its kubelet on loopback) joined
    by `join`'s flags, Ready before the body runs; it must stop cleanly on SIGTERM."""
    agent = subprocess.Popen(
        [sys.executable, "-m", "kubelite.cli.main", "agent", *join, "--node-name", node,
         "--runtime", "host", "--node-ip", "127.0.0.1", "--kubelet-port", str(free_port()),
         "--data-dir", str(data), "--log-level", "WARNING"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: cluster.kubectl(
            "get", "node", node, "--no-headers", check=False).stdout.split()[1:2] == ["Ready"])
        yield
    finally:
        agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=60)
    assert agent.returncode == 0, output


def run_on(cluster: Cluster, ns: str, node: str, name: str, script: str) -> None:
    """A pod bound to `node` running `script`, until it Succeeded."""
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"nodeName": node, "restartPolicy": "Never", "containers": [
            {"name": "c", "image": "busybox", "command": ["/bin/sh", "-c", script]}]}}))
    assert wait_for(lambda: get_json(cluster, "pod", name, "-n", ns)["status"].get(
        "phase") == "Succeeded")


def test_an_agent_joins_with_a_kubeconfig_and_runs_its_pods(cluster: Cluster, ns: str,
                                                            tmp_path: Path) -> None:
    with agent_on_host(cluster, "remote-1", tmp_path / "agent", "--kubeconfig",
                       cluster.kubeconfig, "--server", cluster.url):
        run_on(cluster, ns, "remote-1", "there", "exit 0")
    cluster.kubectl("delete", "node", "remote-1")


def test_an_agent_joins_with_a_bootstrap_token(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    """`kubelite agent --server URL --token T`: no kubeconfig; the node discovers the CA
    through the token, gets its own certificate, and runs as system:node:<name>."""
    made = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "token", "create", "--kubeconfig",
         cluster.kubeconfig], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    data = tmp_path / "agent"
    with agent_on_host(cluster, "joined-1", data, "--server", cluster.url,
                       "--token", made.stdout.strip()):
        run_on(cluster, ns, "joined-1", "joined", "echo hi")
        # the API server reaches the joined node's kubelet for the pod's log
        assert cluster.kubectl("logs", "joined", "-n", ns).stdout.strip() == "hi"
    assert (data / "agent" / "kubelet.kubeconfig").stat().st_mode & 0o777 == 0o600
    csrs = get_json(cluster, "csr")["items"]
    assert any(c["spec"]["username"].startswith("system:bootstrap:") and
               c["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"
               for c in csrs)
    cluster.kubectl("delete", "node", "joined-1")
