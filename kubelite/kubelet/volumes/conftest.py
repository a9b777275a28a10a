"""A real API server that issues ServiceAccount tokens (TokenRequest) and reviews them,
and kubelite's Client reaching it in process as an administrator: what projected
token volumes need.

Starting a server takes most of a second, so one serves a whole test module (in the
module's event loop: `pytestmark = pytest.mark.asyncio(loop_scope="module")`), with
the ServiceAccount admission plugin on, as `kubelite server` runs it; each test works
in a namespace of its own (`namespace`), which holds its `default` ServiceAccount and
`kube-root-ca.crt` ConfigMap as a cluster's would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    StaticTokens,
    join_chain,
)
from kubelite.apiserver.auth.serviceaccount.options import ServiceAccountOptions, install
from kubelite.apiserver.auth.user import SYSTEM_PRIVILEGED_GROUP, UserInfo
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.storage.factory import open_backend

ADMIN_TOKEN = "admin-token"


@pytest.fixture(scope="session")
def service_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One signing key for the run (an RSA key takes a while to make); the first
    server makes it."""
    return tmp_path_factory.mktemp("sa") / "service.key"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory,
                 service_key_file: Path) -> AsyncIterator[APIServer]:
    tmp_path = tmp_path_factory.mktemp("server")
    chain = AuthenticatorChain([BearerTokenAuthenticator([StaticTokens({
        ADMIN_TOKEN: UserInfo("admin", uid="1", groups=(SYSTEM_PRIVILEGED_GROUP,))})])])
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0, authenticator=chain, loopback_token=ADMIN_TOKEN,
                    service_account_admission=True)
    join_chain(srv.authenticator, install(srv, ServiceAccountOptions(key_file=service_key_file)))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def admin(server: APIServer) -> AsyncIterator[Client]:
    c = Client(InProcessTransport(server.handle, token=ADMIN_TOKEN), field_manager="kubelet")
    try:
        yield c
    finally:
        await c.close()


@pytest_asyncio.fixture(loop_scope="module")
async def client(admin: Client, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    """The administrator's client with a fresh namespace of its own as the default,
    holding the `default` ServiceAccount and the cluster's `kube-root-ca.crt`."""
    namespace = "t-" + str(abs(hash(request.node.nodeid)) % 10**10)
    await admin.create("namespaces", {"metadata": {"name": namespace}})
    await admin.create("serviceaccounts", {"metadata": {"name": "default"}}, namespace=namespace)
    await admin.create("configmaps", {"metadata": {"name": "kube-root-ca.crt"},
                                      "data": {"ca.crt": "PEM"}}, namespace=namespace)
    c = Client(admin.transport, namespace=namespace, field_manager="kubelet")
    yield c
