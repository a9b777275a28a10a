"""The Node authorizer and NodeRestriction with the real kubectl against `kubelite
server`: a kubelet's client certificate (system:node:n1 in system:nodes, issued by the
cluster's client CA) reads the Secret its pod uses and is refused another with
upstream's 403, lists only its own pods, updates its own Node's status and not
another's, and cannot give itself a node-role label; and what the flags change."""

from __future__ import annotations

import base64
import datetime
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kubelite.pki.certs import CLIENT_AUTH, Subject
from kubelite.pki.cluster import CLIENT_CA, ClusterTLS
from tests.cluster import Cluster, tool, wait_for

NODE = "n1"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("nodeauthz") / "data", extra_args=(
        "--disable", "scheduler", "--disable", "metrics-server"))
    c.start()
    yield c
    c.stop()


def node_kubeconfig(cluster: Cluster, node: str) -> str:
    """The admin kubeconfig with a kubelet's client certificate in place of the admin's,
    issued by the cluster's client CA as the kubelet signer would."""
    key = ec.generate_private_key(ec.SECP256R1())
    authority = ClusterTLS(cluster.data_dir / "tls").authority(CLIENT_CA)
    certificate = authority.issue(key.public_key(),
                                  Subject(f"system:node:{node}", ("system:nodes",)),
                                  usages=[CLIENT_AUTH], now=datetime.datetime.now(datetime.UTC))
    doc = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    doc["users"][0]["user"] = {
        "client-certificate-data": base64.b64encode(
            certificate.public_bytes(serialization.Encoding.PEM)).decode(),
        "client-key-data": base64.b64encode(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption())).decode()}
    path = cluster.data_dir / f"kubeconfig-{node}"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def kubectl_as(cluster: Cluster, config: str, *args: str, input: str | None = None
               ) -> subprocess.CompletedProcess[str]:
    """kubectl through another kubeconfig (not checked)."""
    return subprocess.run([tool("kubectl-1.35"), *args], input=input, capture_output=True,
                          text=True, timeout=60,
                          env={"KUBECONFIG": config, "HOME": str(cluster.data_dir)})


@pytest.fixture(scope="module")
def kubelet(cluster: Cluster) -> Iterator[Any]:
    """`kubelet("get", ...)`: kubectl as node n1 (CompletedProcess, not checked)."""
    config = node_kubeconfig(cluster, NODE)

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return kubectl_as(cluster, config, *args, input=input)
    yield run


@pytest.fixture(scope="module")
def workload(cluster: Cluster, kubelet: Any) -> None:
    """Namespace web with Secrets mine and theirs, node n1 (registered by itself) and
    n2, and pod p on n1 mounting mine."""
    registered = kubelet("create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}}}))
    assert registered.returncode == 0, registered.stderr
    cluster.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                           "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}]}))
    for name in ("mine", "theirs"):
        cluster.kubectl("create", "secret", "generic", name, "-n", "web",
                        "--from-literal=k=v")
    cluster.kubectl("create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "web"},
        "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "busybox"}],
                 "volumes": [{"name": "s", "secret": {"secretName": "mine"}}]}}))


def forbidden(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    assert done.stderr.startswith("Error from server (Forbidden): "), done.stderr
    return done.stderr.strip().removeprefix("Error from server (Forbidden): ")


@pytest.mark.usefixtures("workload")
def test_a_node_reads_the_secret_its_pod_uses_and_no_other(kubelet: Any) -> None:
    got = wait_for(lambda: kubelet("get", "secret", "mine", "-n", "web", "-o", "json"))
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["data"] == {"k": "dg=="}
    assert forbidden(kubelet("get", "secret", "theirs", "-n", "web")) == (
        'secrets "theirs" is forbidden: User "system:node:n1" cannot get resource "secrets" '
        'in API group "" in the namespace "web": no relationship found between node \'n1\' '
        'and this object')


@pytest.mark.usefixtures("workload")
def test_a_node_lists_only_its_own_pods(kubelet: Any) -> None:
    own = kubelet("get", "pods", "-A", "--field-selector", f"spec.nodeName={NODE}",
                  "-o", "name")
    assert (own.returncode, own.stdout.split()) == (0, ["pod/p"]), own.stderr
    assert forbidden(kubelet("get", "pods", "-A")) == (
        'pods is forbidden: User "system:node:n1" cannot list resource "pods" in API group '
        '"" at the cluster scope: can only list/watch pods with spec.nodeName field selector')


def put_status(cluster: Cluster, kubelet: Any, node: str, tmp_path: Path
               ) -> subprocess.CompletedProcess[str]:
    """PUT nodes/<node>/status as the kubelet does (no read of nodes/status first, which
    no node may do), the Node as the administrator reads it with capacity changed."""
    obj = json.loads(cluster.kubectl("get", "node", node, "-o", "json").stdout)
    obj.setdefault("status", {}).setdefault("capacity", {})["pods"] = "110"
    body = tmp_path / f"{node}.json"
    body.write_text(json.dumps(obj))
    result: subprocess.CompletedProcess[str] = kubelet(
        "replace", "--raw", f"/api/v1/nodes/{node}/status", "-f", str(body))
    return result


@pytest.mark.usefixtures("workload")
def test_a_node_updates_its_own_status_and_not_another_nodes(
        cluster: Cluster, kubelet: Any, tmp_path: Path) -> None:
    own = put_status(cluster, kubelet, NODE, tmp_path)
    assert own.returncode == 0, own.stderr
    capacity = cluster.kubectl("get", "node", NODE, "-o", "jsonpath={.status.capacity.pods}")
    assert capacity.stdout == "110"
    assert forbidden(put_status(cluster, kubelet, "n2", tmp_path)) == (
        'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"')


@pytest.mark.usefixtures("workload")
def test_a_node_cannot_label_itself_master(cluster: Cluster, kubelet: Any) -> None:
    assert forbidden(kubelet("label", "node", NODE, "node-role.kubernetes.io/master=")) == (
        'nodes "n1" is forbidden: is not allowed to modify labels: '
        'node-role.kubernetes.io/master')
    allowed = kubelet("label", "node", NODE, "example.com/rack=r1")
    assert allowed.returncode == 0, allowed.stderr
    labels = json.loads(cluster.kubectl("get", "node", NODE, "-o", "json").stdout)[
        "metadata"]["labels"]
    assert "node-role.kubernetes.io/master" not in labels
    assert labels["example.com/rack"] == "r1"


def test_the_flags_turn_node_restriction_off_and_choose_the_authorizers(
        tmp_path: Path) -> None:
    """`--disable-admission-plugins NodeRestriction` leaves nodes' writes to the
    authorizer, which cannot see labels; `--authorization-mode RBAC` alone gives a node
    nothing, since upstream's system:node role is bound to nobody."""
    c = Cluster(tmp_path / "data", extra_args=(
        "--disable", "scheduler", "--disable", "metrics-server",
        "--disable-admission-plugins", "NodeRestriction"))
    c.start()
    try:
        config = node_kubeconfig(c, NODE)
        c.kubectl("create", "-f", "-", input=json.dumps(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}}))
        labelled = kubectl_as(c, config, "label", "node", NODE,
                              "node-role.kubernetes.io/master=")
        assert labelled.returncode == 0, labelled.stderr
    finally:
        c.stop()
    rbac_only = Cluster(tmp_path / "rbac", extra_args=(
        "--disable", "scheduler", "--disable", "metrics-server", "--disable",
        "controller-manager", "--authorization-mode", "RBAC"))
    rbac_only.start()
    try:
        refused = kubectl_as(rbac_only, node_kubeconfig(rbac_only, NODE), "get", "node", NODE)
        assert forbidden(refused) == (
            'nodes "n1" is forbidden: User "system:node:n1" cannot get resource "nodes" in '
            'API group "" at the cluster scope')
    finally:
        rbac_only.stop()
