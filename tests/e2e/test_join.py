"""A node's way in with a bootstrap token, against `kubelite server`: discovery trusts
the CA only through the token's signature on cluster-info, and the TLS bootstrap
gets the node a client certificate that authenticates it as system:node:<name>."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.cli.kubeconfig import write_kubeconfig
from kubelite.kubelet.join import JoinError, NotSigned, ca_cert_hash, discover_ca, join
from tests.cluster import ROOT, Cluster, tool, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("join") / "data", extra_args=(
        "--disable", "scheduler", "--disable", "metrics-server"))
    c.start()
    yield c
    c.stop()


def new_token(cluster: Cluster, *extra: str) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "token", "create", *extra,
         "--kubeconfig", cluster.kubeconfig], capture_output=True, text=True, timeout=60,
        cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def server_ca(cluster: Cluster) -> bytes:
    return (Path(cluster.kubeconfig).parent / "tls" / "server-ca.crt").read_bytes()


def test_a_node_joins_and_is_its_node_identity(cluster: Cluster, tmp_path: Path) -> None:
    token = new_token(cluster)
    pin = ca_cert_hash(server_ca(cluster))
    credentials = asyncio.run(join(cluster.url, token, "edge-1", ca_cert_hashes=(pin,), timeout=60))
    assert credentials.ca_pem == server_ca(cluster)
    config = write_kubeconfig(tmp_path / "node.kubeconfig", cluster.url, ca_pem=credentials.ca_pem,
                              cert_pem=credentials.cert_pem, key_pem=credentials.key_pem)
    whoami = subprocess.run([tool("kubectl"), "auth", "whoami", "-o", "json"],
                            capture_output=True, text=True, timeout=60,
                            env={"KUBECONFIG": str(config), "HOME": str(tmp_path)})
    assert whoami.returncode == 0, whoami.stderr
    user = json.loads(whoami.stdout)["status"]["userInfo"]
    assert user["username"] == "system:node:edge-1"
    assert set(user["groups"]) == {"system:nodes", "system:authenticated"}


@pytest.mark.parametrize("tamper", ["secret", "pin"], ids=["wrong-secret", "wrong-pin"])
def test_discovery_trusts_nothing_the_token_did_not_sign(cluster: Cluster, tamper: str) -> None:
    token = new_token(cluster)
    asyncio.run(join(cluster.url, token, "probe", timeout=60))  # signed by now
    token_id, secret = token.split(".")
    if tamper == "secret":
        wrong, pins = f"{token_id}.{'0' * 16 if secret != '0' * 16 else '1' * 16}", ()
        message = "failed to verify JWS signature"
    else:
        wrong, pins = token, ("sha256:" + "0" * 64,)
        message = "none of the public keys"
    with pytest.raises(JoinError, match=message):
        asyncio.run(discover_ca(cluster.url, wrong, pins))


def test_a_token_that_cannot_sign_is_not_signed_for(cluster: Cluster) -> None:
    token = new_token(cluster, "--usages", "authentication")
    with pytest.raises(NotSigned, match="invalid for this cluster"):
        asyncio.run(join(cluster.url, token, "nope", timeout=3))


def test_a_node_started_before_its_server_answers_waits_for_it(cluster: Cluster) -> None:
    """An agent may start before the server listens (both started together, or the
    node's network still coming up): discovery retries, as kubeadm's does."""
    token = new_token(cluster)
    with socket.socket() as spare:  # a port nothing listens on, until the relay below
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    target = cluster.url.rsplit(":", 1)[1]

    async def relay_later() -> None:
        await asyncio.sleep(1.5)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", int(target))
            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

        server = await asyncio.start_server(relay, "127.0.0.1", port)
        await asyncio.sleep(30)
        server.close()

    async def join_early() -> bytes:
        relaying = asyncio.ensure_future(relay_later())
        try:
            return (await join(f"https://127.0.0.1:{port}", token, "early", timeout=20)).ca_pem
        finally:
            relaying.cancel()

    assert asyncio.run(join_early()) == server_ca(cluster)


def test_cluster_info_is_all_an_anonymous_client_may_read(cluster: Cluster) -> None:
    for path, status in (("/api/v1/namespaces/kube-public/configmaps/cluster-info", 200),
                         ("/api/v1/namespaces/kube-public/configmaps", 401),
                         ("/api/v1/namespaces/kube-system/secrets", 401)):
        curl = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", cluster.url + path],
                              capture_output=True, text=True, timeout=30)
        assert curl.stdout == str(status), path


def test_a_deleted_token_takes_its_signature_with_it(cluster: Cluster) -> None:
    token = new_token(cluster)
    asyncio.run(join(cluster.url, token, "short-lived", timeout=60))
    token_id = token.split(".")[0]
    deleted = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "token", "delete", token_id,
         "--kubeconfig", cluster.kubeconfig], capture_output=True, text=True, timeout=60,
        cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert deleted.returncode == 0, deleted.stderr

    def signed_for() -> bool:
        data = json.loads(cluster.kubectl("get", "configmap", "cluster-info", "-n", "kube-public",
                                          "-o", "json").stdout)["data"]
        return f"jws-kubeconfig-{token_id}" in data

    wait_for(lambda: not signed_for())
    with pytest.raises(NotSigned):
        asyncio.run(discover_ca(cluster.url, token))
