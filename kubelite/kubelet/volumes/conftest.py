"""A real API server that issues ServiceAccount tokens (TokenRequest) and reviews them,
its signing key in the test's temporary directory, and kubelite's Client reaching it
in process as an administrator: what projected token volumes need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

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
    """One signing key for the run (an RSA key takes a while to make); the server
    makes it on first use."""
    return tmp_path_factory.mktemp("sa") / "service.key"


@pytest.fixture
async def server(tmp_path: Path, service_key_file: Path) -> AsyncIterator[APIServer]:
    chain = AuthenticatorChain([BearerTokenAuthenticator([StaticTokens({
        ADMIN_TOKEN: UserInfo("admin", uid="1", groups=(SYSTEM_PRIVILEGED_GROUP,))})])])
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0, authenticator=chain, loopback_token=ADMIN_TOKEN)
    join_chain(srv.authenticator, install(srv, ServiceAccountOptions(key_file=service_key_file)))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def client(server: APIServer) -> AsyncIterator[Client]:
    c = Client(InProcessTransport(server.handle, token=ADMIN_TOKEN), field_manager="kubelet")
    try:
        yield c
    finally:
        await c.close()
