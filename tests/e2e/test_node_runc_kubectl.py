"""The server's own node on the runc runtime, as a new user meets it: an image
imported offline, a Deployment of it rolled out as real containers on the node's
bridge, and the pod verbs (logs, exec, port-forward, top) through the API server."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import ROOT, Cluster, free_port, tool, wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runc") is None or not Path("/bin/busybox").exists(),
    reason="the runc node needs root, runc and busybox-static (scripts/install-test-tools)")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("runc-node") / "data", agent=True,
                extra_args=("--node-name", "runc-node", "--runtime", "runc",
                            "--metric-resolution", "2s"))
    c.start()
    try:
        yield c
    finally:
        c.kubectl("delete", "deployment", "--all", "--wait=true", "--timeout=90s", check=False)
        c.stop()


def kubelite(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "kubelite.cli.main", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_deployment_of_an_imported_image_runs_as_containers(cluster: Cluster, tmp_path: Path) -> None:
    archive = tmp_path / "busybox.tar"
    subprocess.run([sys.executable, str(ROOT / "tests" / "busybox_image.py"), str(archive),
                    "e2e/busybox:1"], check=True, capture_output=True)
    assert "docker.io/e2e/busybox:1" in kubelite("image", "import", "--data-dir",
                                                 str(cluster.data_dir), str(archive))
    assert wait_for(lambda: cluster.kubectl("get", "node", "runc-node", "--no-headers",
                                            check=False).stdout.split()[1:2] == ["Ready"])
    port = 8080
    cluster.kubectl("create", "deployment", "web", "--image=e2e/busybox:1", "--replicas=2", "--",
                    "sh", "-c", f"echo started; exec httpd -f -p {port} -h /etc")
    cluster.kubectl("rollout", "status", "deployment/web", "--timeout=120s")
    pods = json.loads(cluster.kubectl("get", "pods", "-l", "app=web", "-o", "json").stdout)["items"]
    first, second = pods
    name = first["metadata"]["name"]
    status = first["status"]["containerStatuses"][0]
    assert status["containerID"].startswith("runc://") and status["ready"]
    # an address of the node's podCIDR, cut from the cluster's own --cluster-cidr
    assert cluster.network is not None
    assert ipaddress.ip_address(first["status"]["podIP"]) in ipaddress.ip_network(
        cluster.network.cluster_cidr)

    assert cluster.kubectl("logs", name).stdout.strip() == "started"
    assert cluster.kubectl("exec", name, "--", "hostname").stdout.strip() == name
    # pod to pod on the node's bridge, and the node to a pod
    peer = second["status"]["podIP"]
    fetched = cluster.kubectl("exec", name, "--", "wget", "-qO-", f"http://{peer}:{port}/passwd")
    assert "root:" in fetched.stdout
    with urllib.request.urlopen(f"http://{peer}:{port}/passwd", timeout=10) as answer:
        assert b"root:" in answer.read()

    local = free_port()
    forward = subprocess.Popen([tool("kubectl"), "port-forward", f"pod/{name}", f"{local}:{port}"],
                               env={**os.environ, "KUBECONFIG": cluster.kubeconfig},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def forwarded() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{local}/passwd", timeout=5) as a:
                    return b"root:" in a.read()
            except OSError:
                return False
        assert wait_for(forwarded)
    finally:
        forward.terminate()
        forward.wait(timeout=30)

    assert wait_for(lambda: name in cluster.kubectl("top", "pod", name, "--no-headers",
                                                    check=False).stdout, timeout=60)

    cluster.kubectl("delete", "deployment", "web", "--wait=true")
    assert wait_for(lambda: not cluster.kubectl("get", "pods", "-l", "app=web", "-o", "name").stdout,
                    timeout=90)


def test_a_pod_past_its_empty_dir_size_limit_is_evicted(cluster: Cluster, tmp_path: Path) -> None:
    """Local storage isolation, as upstream's eviction manager: an emptyDir written past
    its sizeLimit gets its pod evicted (Failed, reason Evicted) at the next pass."""
    archive = tmp_path / "busybox.tar"
    subprocess.run([sys.executable, str(ROOT / "tests" / "busybox_image.py"), str(archive),
                    "e2e/busybox:1"], check=True, capture_output=True)
    kubelite("image", "import", "--data-dir", str(cluster.data_dir), str(archive))
    assert wait_for(lambda: cluster.kubectl("get", "node", "runc-node", "--no-headers",
                                            check=False).stdout.split()[1:2] == ["Ready"])
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "filler"},
           "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 5,
                    "containers": [{"name": "fill", "image": "e2e/busybox:1",
                                    "imagePullPolicy": "Never",
                                    "command": ["sh", "-c", "dd if=/dev/zero of=/scratch/fill "
                                                "bs=1M count=4 && exec sleep 3600"],
                                    "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]}],
                    "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1Mi"}}]}}

    def row() -> list[str]:
        return cluster.kubectl("get", "pod", "filler", "--no-headers", "-o",
                               "custom-columns=PHASE:.status.phase,REASON:.status.reason",
                               check=False).stdout.split()

    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    try:
        # (kubectl's STATUS column shows the killed container's own reason, Error, as
        # upstream's kubectl does for an evicted pod whose containers were stopped)
        assert wait_for(lambda: row() == ["Failed", "Evicted"], timeout=90), row()
        status = json.loads(cluster.kubectl("get", "pod", "filler", "-o", "json").stdout)["status"]
        assert (status["phase"], status["reason"]) == ("Failed", "Evicted")
        assert status["message"] == 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". '
        events = cluster.kubectl("get", "events", "--field-selector",
                                 "involvedObject.name=filler,reason=Evicted", "--no-headers").stdout
        assert "exceeds the limit" in events
    finally:  # the pod's stopped containers keep their rootfs mounted until it goes
        cluster.kubectl("delete", "pod", "filler", "--wait=true", check=False)
