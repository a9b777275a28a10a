"""A cluster of three nodes on one machine, as a user builds one: a control-plane-only
server (`--disable-agent`) and three `kubelite agent`s joined with a bootstrap token,
each in a network namespace of its own on one bridge (tests/multinode.py), running
runc pods. kubectl sees three Ready nodes, pods on different nodes reach each other
over the nodes' host-gw routes, a DaemonSet puts one pod on each, and a node whose
agent stops goes NotReady while its pods move to the others.

The server runs no node of its own so that every node is alike (a namespace, an
agent, routes to the others) and the host's own routing table gets nothing of the
pod network but the test's blackholes. One cluster serves the module; the test that
stops an agent runs last.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import ROOT, Cluster, namespace_for_test, wait_for
from tests.multinode import HostGwNodes, in_subnet, ip

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or any(shutil.which(t) is None for t in ("runc", "ip", "nsenter"))
    or not Path("/bin/busybox").exists(),
    reason="nodes in network namespaces need root, runc, iproute2, nsenter and "
           "busybox-static (scripts/install-test-tools)")

NODES = ("n1", "n2", "n3")
IMAGE = "e2e/busybox:1"
PORT = 8080
# a silent node goes NotReady this long after its last heartbeat; the kubelet renews
# its Lease every 10 s, so it must be longer than that
GRACE = "15"
SLOW = 90.0  # joining, first pods, a node going NotReady: seconds, on a busy machine
# each pod serves its own name: a fetch from another pod says which pod answered
SERVE_NAME = f"mkdir -p /www && hostname > /www/name && exec httpd -f -p {PORT} -h /www"


def kubelite(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "kubelite.cli.main", *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def get_json(cluster: Cluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def node_ready(node: dict[str, Any]) -> str:
    return next((c["status"] for c in node.get("status", {}).get("conditions", [])
                 if c["type"] == "Ready"), "")


def all_ready(cluster: Cluster) -> bool:
    nodes = get_json(cluster, "nodes")["items"]
    return sorted(n["metadata"]["name"] for n in nodes if node_ready(n) == "True") == list(NODES)


@pytest.fixture(scope="module")
def multinode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, HostGwNodes]]:
    work = tmp_path_factory.mktemp("multinode")
    cluster = Cluster(work / "server", pod_network=True, extra_args=(
        "--node-monitor-period", "1", "--node-monitor-grace-period", GRACE,
        "--disable", "metrics-server"))
    assert cluster.network is not None
    nodes = HostGwNodes(cluster.network, work)
    cluster.bind_address = nodes.host_address
    try:
        nodes.make_host_side()
        archive = work / "busybox.tar"
        subprocess.run([sys.executable, str(ROOT / "tests" / "busybox_image.py"), str(archive),
                        IMAGE], check=True, capture_output=True, timeout=120)
        cluster.start()
        token = kubelite("token", "create", "--kubeconfig", cluster.kubeconfig).strip()
        for name in NODES:
            kubelite("image", "import", "--data-dir", str(work / name / "data"), str(archive))
            nodes.start_agent(cluster, name, token)
        # an agent that exits (a failed join) ends the wait at once
        wait_for(lambda: all_ready(cluster) or nodes.exited(), timeout=SLOW)
        assert all_ready(cluster), (
            cluster.kubectl("get", "nodes", "-o", "wide").stdout + nodes.report())
        yield cluster, nodes
    finally:
        nodes.close()
        cluster.stop()
        cluster.network.release()


@pytest.fixture
def ns(multinode: tuple[Cluster, HostGwNodes], request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(multinode[0], request.node.name)


def test_every_agent_registers_a_ready_node_at_its_own_address(
        multinode: tuple[Cluster, HostGwNodes]) -> None:
    cluster, nodes = multinode
    assert cluster.network is not None
    registered = {n["metadata"]["name"]: n for n in get_json(cluster, "nodes")["items"]}
    cidrs = set()
    for agent in nodes.agents:
        node = registered[agent.name]
        internal = [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"]
        assert internal == [agent.address]
        assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("runc://")
        assert in_subnet(node["spec"]["podCIDR"].split("/")[0], cluster.network.cluster_cidr)
        cidrs.add(node["spec"]["podCIDR"])
    assert len(cidrs) == len(NODES)


def pod_on(name: str, node: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [
                {"name": "web", "image": IMAGE, "command": ["sh", "-c", SERVE_NAME]}]}}


def test_pods_on_different_nodes_reach_each_other(multinode: tuple[Cluster, HostGwNodes],
                                                  ns: str) -> None:
    """Each node routes the others' podCIDRs via their InternalIPs: a pod on n1 fetches
    from pods on n2 and n3, and back, with no tunnel and no NAT on the way."""
    cluster, _ = multinode
    for name, node in (("a", "n1"), ("b", "n2"), ("c", "n3")):
        cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(pod_on(name, node)))
    cluster.kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/a", "pod/b", "pod/c",
                    f"--timeout={int(SLOW)}s")
    ips = {name: get_json(cluster, "pod", name, "-n", ns)["status"]["podIP"]
           for name in ("a", "b", "c")}
    assert len(set(ips.values())) == 3
    for source, target in (("a", "b"), ("a", "c"), ("b", "a"), ("c", "b")):
        fetched = cluster.kubectl("exec", "-n", ns, source, "--", "wget", "-qO-",
                                  f"http://{ips[target]}:{PORT}/name")
        assert fetched.stdout.strip() == target


def test_a_daemonset_lands_one_pod_on_each_node(multinode: tuple[Cluster, HostGwNodes],
                                                ns: str) -> None:
    cluster, _ = multinode
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "every"},
        "spec": {"selector": {"matchLabels": {"app": "every"}}, "template": {
            "metadata": {"labels": {"app": "every"}},
            "spec": {"containers": [{"name": "web", "image": IMAGE,
                                     "command": ["sh", "-c", SERVE_NAME]}]}}}}))
    cluster.kubectl("rollout", "status", "-n", ns, "daemonset/every", f"--timeout={int(SLOW)}s")
    pods = get_json(cluster, "pods", "-n", ns, "-l", "app=every")["items"]
    assert sorted(p["spec"]["nodeName"] for p in pods) == list(NODES)
    assert all(p["status"]["phase"] == "Running" for p in pods)


def test_a_stopped_agents_node_goes_not_ready_and_its_pod_moves(
        multinode: tuple[Cluster, HostGwNodes], ns: str) -> None:
    """The node lifecycle controller marks a silent node NotReady and taints it
    unreachable; the pod tolerates that for 2 s (as a user would shorten the default
    5 min), then taint eviction deletes it and its ReplicaSet makes one elsewhere."""
    cluster, nodes = multinode
    victim = nodes.agents[-1]
    quick = [{"key": f"node.kubernetes.io/{taint}", "operator": "Exists",
              "effect": "NoExecute", "tolerationSeconds": 2}
             for taint in ("unreachable", "not-ready")]
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "mover"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "mover"}}, "template": {
            "metadata": {"labels": {"app": "mover"}},
            "spec": {"tolerations": quick,
                     # on the node about to stop, while it is up
                     "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                         {"weight": 100, "preference": {"matchExpressions": [
                             {"key": "kubernetes.io/hostname", "operator": "In",
                              "values": [victim.name]}]}}]}},
                     "containers": [{"name": "web", "image": IMAGE,
                                     "command": ["sh", "-c", SERVE_NAME]}]}}}}))
    cluster.kubectl("rollout", "status", "-n", ns, "deployment/mover", f"--timeout={int(SLOW)}s")
    [first] = get_json(cluster, "pods", "-n", ns, "-l", "app=mover")["items"]
    assert first["spec"]["nodeName"] == victim.name
    # the node routes each other node's podCIDR via its InternalIP
    others = {n["spec"]["podCIDR"] for n in get_json(cluster, "nodes")["items"]
              if n["metadata"]["name"] != victim.name}
    routed = ip("-n", victim.netns, "route", "show", "proto", "76").stdout
    assert {line.split()[0] for line in routed.splitlines() if " via " in line} == others

    assert victim.stop() == 0  # SIGTERM by pid: the agent stops its pods and exits
    # and takes its pod network with it: bridge, blackhole, routes to the other nodes
    assert ip("-n", victim.netns, "route", "show", "proto", "76").stdout.strip() == ""
    assert ip("-n", victim.netns, "-br", "link", "show", "type", "bridge").stdout.strip() == ""

    def not_ready() -> bool:
        return node_ready(get_json(cluster, "node", victim.name)) not in ("True", "")

    assert wait_for(not_ready, timeout=SLOW)
    assert wait_for(lambda: "NotReady" in cluster.kubectl(
        "get", "node", victim.name, "--no-headers").stdout)

    def moved() -> dict[str, Any] | None:
        for pod in get_json(cluster, "pods", "-n", ns, "-l", "app=mover")["items"]:
            ready = any(c["type"] == "Ready" and c["status"] == "True"
                        for c in pod["status"].get("conditions", []))
            if pod["spec"].get("nodeName") not in ("", None, victim.name) and ready \
                    and not pod["metadata"].get("deletionTimestamp"):
                return pod  # type: ignore[no-any-return]
        return None

    replacement = wait_for(moved, timeout=SLOW)
    assert replacement, cluster.kubectl("get", "pods", "-n", ns, "-o", "wide").stdout
    assert replacement["metadata"]["name"] != first["metadata"]["name"]
    taints = {t["key"] for t in get_json(cluster, "node", victim.name)["spec"].get("taints", [])}
    assert "node.kubernetes.io/unreachable" in taints
