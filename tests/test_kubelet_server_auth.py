"""Who may use the kubelet's server: client certificates of the cluster's client CA and
bearer tokens the API server reviews, authorized by SubjectAccessReviews on
nodes/<subresource>; and the API server's own way in, its kubelet client certificate,
which the default policy lets use every kubelet API."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    StaticTokens,
)
from kubelite.apiserver.auth.rbac.conftest import USERS
from kubelite.apiserver.authorization import configure_authorization
from kubelite.apiserver.kubelet_proxy import KubeletTransport
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.kubelet.server.auth import Gate
from kubelite.pki.certs import AltNames
from kubelite.pki.cluster import CLIENT_CA, KUBELET_CLIENT, LEAVES, ClusterTLS, Leaf
from kubelite.storage.factory import open_backend
from tests.host_pods import NODE, Node, host_node

NOW = datetime.datetime.now(datetime.UTC)


@dataclass
class Secured:
    server: APIServer
    admin: Client
    node: Node
    tls: ClusterTLS
    url: str  # the kubelet's


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[Secured]:
    tls = ClusterTLS(tmp_path / "tls")
    tls.ensure(AltNames.parse(["127.0.0.1"]), now=NOW)
    server = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                       compaction_interval=0, loopback_token="admin-token",
                       authenticator=AuthenticatorChain([
                           BearerTokenAuthenticator([StaticTokens(USERS)])]),
                       kubelet_transport=KubeletTransport(tls.kubelet_client_context()))
    await configure_authorization(server)
    await server.start()
    admin = Client(InProcessTransport(server.handle, token="admin-token"))
    try:
        async with host_node(admin, tmp_path / "node", gate=Gate(admin, NODE)) as node:
            context = node.kubelet.ssl_context
            assert context is not None
            context.load_verify_locations(cadata=tls.ca_pem(CLIENT_CA).decode())
            context.verify_mode = ssl.CERT_OPTIONAL
            yield Secured(server, admin, node, tls, f"https://127.0.0.1:{node.kubelet.port}")
    finally:
        await admin.close()
        await server.stop()


def _client_context(tls: ClusterTLS, leaf: Leaf | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if leaf is not None:
        context.load_cert_chain(tls.cert_path(leaf.name), tls.key_path(leaf.name))
    return context


async def _get(url: str, context: ssl.SSLContext, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.get(
            url, ssl=context, headers=headers) as answer:
        return answer.status


SCHEDULER = next(leaf for leaf in LEAVES if leaf.name == "client-scheduler")


@pytest.mark.parametrize(("leaf", "token", "path", "status"), [
    (None, None, "/pods", 401),
    (None, "nobody-token", "/pods", 401),
    (None, "jane-token", "/pods", 403),  # no nodes/proxy
    (None, "admin-token", "/pods", 200),
    (None, "admin-token", "/stats/summary", 200),
    (None, "jane-token", "/metrics/resource", 403),
    (SCHEDULER, None, "/healthz", 403),
    (KUBELET_CLIENT, None, "/pods", 200),
    (KUBELET_CLIENT, None, "/healthz", 200),
], ids=["anonymous", "unknown-token", "token-without-rights", "token-of-admin",
        "stats", "metrics-without-rights", "certificate-without-rights", "api-server-certificate",
        "healthz"])
async def test_callers_are_authenticated_and_authorized(
        secured: Secured, leaf: Leaf | None, token: str | None, path: str,
        status: int) -> None:
    assert await _get(secured.url + path, _client_context(secured.tls, leaf), token) == status


async def test_the_api_server_reaches_an_authenticating_kubelet_with_its_certificate(
        secured: Secured) -> None:
    await secured.node.pods.run(secured.admin, "web", {"app": ["/bin/sh", "-c", "echo hi"]})
    await secured.node.pods.exited("default", "web", "app")
    answer = await secured.admin.transport.request(
        "GET", "/api/v1/namespaces/default/pods/web/log", headers={})
    assert (answer.status, answer.body) == (200, b"hi\n")
    # nodes/proxy: any kubelet path, here the pods it runs
    answer = await secured.admin.transport.request("GET", f"/api/v1/nodes/{NODE}/proxy/pods",
                                                   headers={})
    assert answer.status == 200 and b'"name":"web"' in answer.body
    answer = await secured.admin.transport.request(
        "GET", f"/api/v1/nodes/{NODE}/proxy/metrics/resource", headers={})
    assert answer.status == 200 and b"node_memory_working_set_bytes" in answer.body
