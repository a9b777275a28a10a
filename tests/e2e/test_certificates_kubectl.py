"""CertificateSigningRequests with the real kubectl against `kubelite server`: a user's
request approved with `kubectl certificate approve` is signed by the cluster's client
CA, and a kubeconfig holding that key and certificate is the request's subject
(`kubectl auth whoami`); a denied request stays unsigned; a kubelet client request
whose subject is not a node's fails with upstream's reason; a kubelet's TLS bootstrap
with a bootstrap token gets its node certificate approved and signed on its own."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster import ROOT, Cluster, tool, wait_for
from tests.csr import csr_object, key_pem, new_key, request_pem

CLIENT = "kubernetes.io/kube-apiserver-client"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("csr") / "data", extra_args=(
        "--disable", "scheduler", "--disable", "metrics-server"))
    c.start()
    yield c
    c.stop()


def create(cluster: Cluster, obj: dict[str, Any]) -> None:
    cluster.kubectl("create", "-f", "-", input=json.dumps(obj))


def csr(cluster: Cluster, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        cluster.kubectl("get", "csr", name, "-o", "json").stdout)
    return loaded


def condition_column(cluster: Cluster, name: str) -> str:
    return cluster.kubectl("get", "csr", name, "--no-headers",
                           "-o", "custom-columns=C:.status.conditions[*].type").stdout.strip()


def certificate_of(cluster: Cluster, name: str) -> bytes:
    def signed() -> str:
        return str(csr(cluster, name).get("status", {}).get("certificate") or "")
    return base64.b64decode(wait_for(signed))


def user_kubeconfig(cluster: Cluster, path: Path, certificate: bytes, key: bytes) -> str:
    doc = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    doc["users"][0]["user"] = {"client-certificate-data": base64.b64encode(certificate).decode(),
                               "client-key-data": base64.b64encode(key).decode()}
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def whoami(config: str, home: Path) -> dict[str, Any]:
    """`kubectl auth whoami` through a kubeconfig: the userInfo the server saw."""
    done = subprocess.run([tool("kubectl-1.35"), "auth", "whoami", "-o", "json"],
                          capture_output=True, text=True, timeout=60,
                          env={"KUBECONFIG": config, "HOME": str(home)})
    assert done.returncode == 0, done.stderr
    user: dict[str, Any] = json.loads(done.stdout)["status"]["userInfo"]
    return user


def test_an_approved_request_gives_a_working_client_certificate(
        cluster: Cluster, tmp_path: Path) -> None:
    key = new_key()
    create(cluster, csr_object("alice", request_pem(key, "alice", ("devs",)), CLIENT,
                               ["client auth"], expirationSeconds=3600))
    create(cluster, csr_object("mallory", request_pem(new_key(), "mallory"), CLIENT,
                               ["client auth"]))
    listed = cluster.kubectl("get", "csr", "alice").stdout
    assert "Pending" in listed and "system:admin" in listed  # the requestor column
    denied = cluster.kubectl("certificate", "deny", "mallory").stdout
    assert "certificatesigningrequest.certificates.k8s.io/mallory denied" in denied
    approved = cluster.kubectl("certificate", "approve", "alice").stdout
    assert "certificatesigningrequest.certificates.k8s.io/alice approved" in approved
    certificate = certificate_of(cluster, "alice")
    assert condition_column(cluster, "alice") == "Approved"
    assert "Approved,Issued" in cluster.kubectl("get", "csr", "alice").stdout
    # signed alice, so the signer has had mallory's denial too: never signed
    assert "certificate" not in csr(cluster, "mallory").get("status", {})
    assert "Denied" in cluster.kubectl("get", "csr", "mallory").stdout
    config = user_kubeconfig(cluster, tmp_path / "alice", certificate, key_pem(key))
    user = whoami(config, tmp_path)
    assert user["username"] == "alice"
    assert set(user["groups"]) == {"devs", "system:authenticated"}


def test_a_denied_request_stays_denied(cluster: Cluster) -> None:
    create(cluster, csr_object("eve", request_pem(new_key(), "eve"), CLIENT, ["client auth"]))
    cluster.kubectl("certificate", "deny", "eve")
    # kubectl reads the Denied condition back and refuses on its own
    again = cluster.kubectl("certificate", "approve", "eve", "--force", check=False)
    assert 'certificate signing request "eve" is already Denied' in again.stderr
    assert condition_column(cluster, "eve") == "Denied"


def test_a_kubelet_client_request_for_a_non_node_fails_with_upstreams_reason(
        cluster: Cluster) -> None:
    create(cluster, csr_object("node-csr-bad", request_pem(new_key(), "system:node:n1"),
                               KUBELET_CLIENT,
                               ["digital signature", "key encipherment", "client auth"]))
    cluster.kubectl("certificate", "approve", "node-csr-bad")

    def failed() -> dict[str, Any] | None:
        conditions = csr(cluster, "node-csr-bad")["status"].get("conditions") or []
        return next((c for c in conditions if c["type"] == "Failed"), None)
    condition = wait_for(failed)
    assert (condition["reason"], condition["message"]) == (
        "SignerValidationFailure", "subject organization is not system:nodes")
    assert "Approved,Failed" in cluster.kubectl("get", "csr", "node-csr-bad").stdout
    assert "certificate" not in csr(cluster, "node-csr-bad")["status"]


def test_a_request_that_is_no_csr_is_refused(cluster: Cluster) -> None:
    bad = csr_object("junk", b"hello", CLIENT, ["client auth"])
    done = cluster.kubectl("create", "-f", "-", input=json.dumps(bad), check=False)
    assert done.returncode != 0
    assert "PEM block type must be CERTIFICATE REQUEST" in done.stderr


def test_a_kubelet_bootstraps_its_client_certificate_with_a_bootstrap_token(
        cluster: Cluster, tmp_path: Path) -> None:
    """The kubelet's TLS bootstrap: a bootstrap token (`kubelite token create`) whose
    group may request node client certificates creates a CSR for
    system:node:<name>; csrapproving approves it after a SubjectAccessReview, csrsigning
    signs it, and the certificate authenticates as the node."""
    group = "system:bootstrappers:kubelite:default-node-token"
    for name, role in (("bootstrap-csr", "system:node-bootstrapper"),
                       ("bootstrap-approve", "system:certificates.k8s.io:"
                                             "certificatesigningrequests:nodeclient")):
        cluster.kubectl("create", "clusterrolebinding", name, f"--clusterrole={role}",
                        f"--group={group}")
    made = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "token", "create",
         "--kubeconfig", cluster.kubeconfig], capture_output=True, text=True, timeout=60,
        cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert made.returncode == 0, made.stderr
    doc = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    doc["users"][0]["user"] = {"token": made.stdout.strip()}
    bootstrap = tmp_path / "bootstrap.kubeconfig"
    bootstrap.write_text(yaml.safe_dump(doc))
    key = new_key()
    request = csr_object("node-client-1", request_pem(key, "system:node:node-1",
                                                      ("system:nodes",)),
                         KUBELET_CLIENT, ["digital signature", "client auth"])
    created = subprocess.run([tool("kubectl"), "create", "-f", "-"], input=json.dumps(request),
                             capture_output=True, text=True, timeout=60,
                             env={"KUBECONFIG": str(bootstrap), "HOME": str(tmp_path)})
    assert created.returncode == 0, created.stderr
    certificate = certificate_of(cluster, "node-client-1")
    approved = [c for c in csr(cluster, "node-client-1")["status"]["conditions"]
                if c["type"] == "Approved"]
    assert approved and approved[0]["reason"] == "AutoApproved"
    assert csr(cluster, "node-client-1")["spec"]["username"].startswith("system:bootstrap:")
    config = user_kubeconfig(cluster, tmp_path / "node", certificate, key_pem(key))
    user = whoami(config, tmp_path)
    assert user["username"] == "system:node:node-1"
    assert set(user["groups"]) == {"system:nodes", "system:authenticated"}
