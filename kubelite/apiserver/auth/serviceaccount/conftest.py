"""A real server that authenticates: an administrator's static token and the
ServiceAccount tokens it issues, its signing key in a temporary data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from cryptography.hazmat.primitives import serialization

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    StaticTokens,
)
from kubelite.apiserver.auth.serviceaccount import keys
from kubelite.apiserver.auth.authn import join_chain
from kubelite.apiserver.auth.serviceaccount.options import (
    ServiceAccountOptions,
    install,
)
from kubelite.apiserver.auth.user import SYSTEM_PRIVILEGED_GROUP, UserInfo
from kubelite.storage.factory import open_backend

ADMIN_TOKEN = "admin-token"
ISSUER = "https://kubernetes.default.svc.cluster.local"

Call = Callable[..., Awaitable[tuple[int, Any]]]


@pytest.fixture(scope="session")
def service_key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One signing key for every server of the run: making an RSA key takes a while."""
    return keys.load_or_create(tmp_path_factory.mktemp("key") / "service.key").private_key \
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                       serialization.NoEncryption())


@pytest.fixture
async def server(tmp_path: Path, service_key: bytes) -> AsyncIterator[APIServer]:
    key_file = tmp_path / "tls" / "service.key"
    key_file.parent.mkdir()
    key_file.write_bytes(service_key)
    chain = AuthenticatorChain([BearerTokenAuthenticator([StaticTokens({
        ADMIN_TOKEN: UserInfo("admin", uid="1", groups=(SYSTEM_PRIVILEGED_GROUP,))})])])
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0, authenticator=chain, loopback_token=ADMIN_TOKEN)
    options = ServiceAccountOptions(key_file=key_file)
    join_chain(srv.authenticator, install(srv, options))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def call(server: APIServer) -> AsyncIterator[Call]:
    """`await call(method, path, body=..., token=...)`: (status, decoded body), as the
    administrator unless another token is given (None: no credentials)."""
    async with aiohttp.ClientSession(base_url=server.url) as session:
        async def do(method: str, path: str, *, body: Any = None,
                     token: str | None = ADMIN_TOKEN,
                     headers: dict[str, str] | None = None) -> tuple[int, Any]:
            sent = {"Content-Type": "application/json", **(headers or {})}
            if token is not None:
                sent["Authorization"] = f"Bearer {token}"
            data = None if body is None else orjson.dumps(body)
            async with session.request(method, path, data=data, headers=sent) as resp:
                raw = await resp.read()
                try:
                    return resp.status, orjson.loads(raw)
                except orjson.JSONDecodeError:
                    return resp.status, raw
        yield do
