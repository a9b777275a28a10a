"""`kubelite server` over TLS, as real clients see it: the admin kubeconfig works with
kubectl 1.32 and 1.35 and the official Python client; a wrong CA, a stranger's client
certificate or a bad Authorization header is refused and never a 5xx; the token file's
users and standalone components with a token get in; the CA survives restarts and
`kubelite certificate rotate`."""

from __future__ import annotations

import base64
import datetime
import json
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml
from kubernetes import client, config

from kubelite.pki.certs import (
    CLIENT_AUTH,
    CertificateAuthority,
    Subject,
    certificate_pem,
    key_pem,
    load_certificate,
    new_key,
)
from tests.cluster import ROOT, Cluster, ready_nodes, tool, wait_for

TOKENS = 'jane-token,jane,1001,"system:masters"\n'


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A server on every address, with a token file, running no control loop."""
    data = tmp_path_factory.mktemp("tls")
    (data / "tokens.csv").write_text(TOKENS)
    c = Cluster(data / "data", extra_args=(
        "--bind-address", "0.0.0.0", "--tls-san", "api.kubelite.test,192.0.2.1",
        "--token-auth-file", str(data / "tokens.csv"),
        "--disable", "controller-manager", "--disable", "scheduler",
        "--disable", "metrics-server"))
    c.start()
    yield c
    c.stop()


def kubeconfig(cluster: Cluster, path: Path, *, server: dict[str, str] | None = None,
               user: dict[str, str] | None = None) -> str:
    """The admin kubeconfig with fields of its cluster changed, or another user."""
    doc = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    doc["clusters"][0]["cluster"].update(server or {})
    if user is not None:
        doc["users"][0]["user"] = user
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def kubectl(cluster: Cluster, config_path: str, *args: str, version: str = "1.35"
            ) -> subprocess.CompletedProcess[str]:
    env = {"KUBECONFIG": config_path, "HOME": str(cluster.data_dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run([tool(f"kubectl-{version}"), *args], capture_output=True,
                          text=True, env=env, timeout=60)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def stranger_credentials() -> tuple[bytes, bytes, bytes]:
    """(CA, certificate, key) of system:admin in system:masters, by another CA."""
    ca = CertificateAuthority.create("stranger", now=datetime.datetime.now(datetime.UTC))
    key = new_key()
    cert = ca.issue(key.public_key(), Subject("system:admin", ("system:masters",)),
                    usages=[CLIENT_AUTH], now=datetime.datetime.now(datetime.UTC))
    return certificate_pem(ca.certificate), certificate_pem(cert), key_pem(key)


def raw_get(cluster: Cluster, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    """A GET that trusts the cluster CA and presents no certificate."""
    context = ssl.create_default_context(
        cadata=(cluster.data_dir / "tls" / "server-ca.crt").read_text())
    request = urllib.request.Request(cluster.url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_the_admin_kubeconfig_is_https_with_embedded_credentials(cluster: Cluster) -> None:
    doc = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    assert Path(cluster.kubeconfig).stat().st_mode & 0o777 == 0o600
    server = doc["clusters"][0]["cluster"]
    # bound to every address, the kubeconfig still says loopback, which the certificate names
    assert server["server"] == f"https://127.0.0.1:{cluster.port}"
    assert base64.b64decode(server["certificate-authority-data"]) == \
        (cluster.data_dir / "tls" / "server-ca.crt").read_bytes()
    user = doc["users"][0]["user"]
    admin = load_certificate(base64.b64decode(user["client-certificate-data"]))
    assert Subject.of(admin) == Subject("system:admin", ("system:masters",))


@pytest.mark.parametrize("version", ["1.32", "1.35"])
def test_kubectl_works_with_the_admin_kubeconfig(cluster: Cluster, version: str) -> None:
    done = kubectl(cluster, cluster.kubeconfig, "get", "ns", "default", "-o", "name",
                   version=version)
    assert (done.returncode, done.stdout.strip()) == (0, "namespace/default"), done.stderr


def test_the_python_client_works_with_the_admin_kubeconfig(cluster: Cluster) -> None:
    api = client.CoreV1Api(config.new_client_from_config(config_file=cluster.kubeconfig))
    names = {ns.metadata.name for ns in api.list_namespace().items}
    assert {"default", "kube-system"} <= names


def test_the_serving_certificate_names_tls_sans(cluster: Cluster) -> None:
    pem = ssl.get_server_certificate(("127.0.0.1", cluster.port))
    from kubelite.pki.certs import AltNames

    names = AltNames.of(load_certificate(pem.encode()))
    assert names.covers(AltNames.parse(["api.kubelite.test", "192.0.2.1", "127.0.0.1",
                                        "kubernetes.default.svc", "10.43.0.1"]))


def test_kubectl_refuses_a_server_signed_by_another_ca(cluster: Cluster,
                                                       tmp_path: Path) -> None:
    ca, _, _ = stranger_credentials()
    path = kubeconfig(cluster, tmp_path / "wrong-ca",
                      server={"certificate-authority-data": b64(ca)})
    done = kubectl(cluster, path, "get", "ns")
    assert done.returncode != 0
    assert "certificate signed by unknown authority" in done.stderr


def test_the_python_client_refuses_a_server_signed_by_another_ca(cluster: Cluster,
                                                                 tmp_path: Path) -> None:
    ca, _, _ = stranger_credentials()
    path = kubeconfig(cluster, tmp_path / "wrong-ca",
                      server={"certificate-authority-data": b64(ca)})
    api = client.CoreV1Api(config.new_client_from_config(config_file=path))
    api.api_client.configuration.retries = 0
    with pytest.raises(urllib3.exceptions.MaxRetryError) as refused:
        api.list_namespace()
    assert isinstance(refused.value.reason, urllib3.exceptions.SSLError)


def test_a_client_certificate_of_another_ca_is_refused(cluster: Cluster,
                                                       tmp_path: Path) -> None:
    """Refused in the TLS handshake, where upstream answers 401 (docs/decisions.md):
    the connection closes unanswered, so it is never served and never a 5xx."""
    _, cert, key = stranger_credentials()
    path = kubeconfig(cluster, tmp_path / "stranger", user={
        "client-certificate-data": b64(cert), "client-key-data": b64(key)})
    done = kubectl(cluster, path, "get", "ns")
    assert done.returncode != 0
    # a transport error, never an HTTP answer: EOF, or a reset when the handshake's end
    # races kubectl's first request
    assert "Error from server" not in done.stderr, done.stderr
    assert "EOF" in done.stderr or "connection reset" in done.stderr, done.stderr
    api = client.CoreV1Api(config.new_client_from_config(config_file=path))
    api.api_client.configuration.retries = 0
    with pytest.raises(urllib3.exceptions.HTTPError) as refused:  # no status: no answer
        api.list_namespace()
    assert isinstance(refused.value, urllib3.exceptions.MaxRetryError)


@pytest.mark.parametrize("authorization,status", [
    (None, 401),
    ("Bearer", 401),
    ("Bearer ", 401),
    ("Bearer wrong-token", 401),
    ("Basic amFuZTpwdw==", 401),
    ("jane-token", 401),
    ("Bearer jane-token", 200),
], ids=["none", "bearer-alone", "bearer-empty", "unknown-token", "basic", "no-scheme",
        "token-file-user"])
def test_authorization_headers(cluster: Cluster, authorization: str | None,
                               status: int) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    got, body = raw_get(cluster, "/api/v1/namespaces", headers)
    assert got == status, body
    if status == 401:
        assert (body["kind"], body["reason"]) == ("Status", "Unauthorized")


def test_anonymous_requests_reach_only_health_and_version(cluster: Cluster) -> None:
    assert raw_get(cluster, "/version", {})[0] == 200
    assert raw_get(cluster, "/api", {})[0] == 401


def test_kubectl_with_a_token_from_the_token_file(cluster: Cluster, tmp_path: Path) -> None:
    path = kubeconfig(cluster, tmp_path / "jane", user={"token": "jane-token"})
    done = kubectl(cluster, path, "get", "ns", "default", "-o", "name")
    assert (done.returncode, done.stdout.strip()) == (0, "namespace/default"), done.stderr
    wrong = kubeconfig(cluster, tmp_path / "wrong", user={"token": "nope"})
    done = kubectl(cluster, wrong, "get", "ns")
    assert done.returncode != 0 and "Unauthorized" in done.stderr


def test_a_standalone_agent_joins_with_a_token(cluster: Cluster, tmp_path: Path) -> None:
    path = kubeconfig(cluster, tmp_path / "agent", user={"token": "jane-token"})
    agent = subprocess.Popen(
        [sys.executable, "-m", "kubelite.cli.main", "agent", "--simulate", "1",
         "--kubeconfig", path, "--name-prefix", "token-"],
        cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: "token-0" in ready_nodes(cluster)), ready_nodes(cluster)
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(timeout=15)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()


def test_restart_and_rotate_keep_the_ca(tmp_path: Path) -> None:
    c = Cluster(tmp_path / "data", extra_args=("--disable", "controller-manager",
                                               "--disable", "scheduler"))
    tls = c.data_dir / "tls"
    c.start()
    try:
        ca = (tls / "server-ca.crt").read_bytes()
        admin = (tls / "client-admin.crt").read_bytes()
        c.stop()
        c.start()
        assert (tls / "server-ca.crt").read_bytes() == ca
        assert (tls / "client-admin.crt").read_bytes() == admin  # far from expiry: kept
        c.stop()
        rotated = subprocess.run(
            [sys.executable, "-m", "kubelite.cli.main", "certificate", "rotate",
             "--data-dir", str(c.data_dir)], cwd=str(ROOT), capture_output=True, text=True,
            timeout=60)
        assert rotated.returncode == 0, rotated.stderr
        assert "serving-kube-apiserver" in rotated.stdout
        assert (tls / "client-admin.crt").read_bytes() != admin
        c.start()
        assert (tls / "server-ca.crt").read_bytes() == ca
        doc = yaml.safe_load(Path(c.kubeconfig).read_text())
        assert base64.b64decode(doc["users"][0]["user"]["client-certificate-data"]) == \
            (tls / "client-admin.crt").read_bytes()
        assert c.kubectl("get", "ns", "default", "-o", "name").stdout.strip() == \
            "namespace/default"
    finally:
        c.stop()


def test_rotate_without_a_cluster_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "certificate", "rotate", "--data-dir",
         str(tmp_path)], cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "start the server once" in done.stderr
