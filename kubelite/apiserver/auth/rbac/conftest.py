"""A real API server that authenticates (static bearer tokens) and authorizes with RBAC,
and a way to call it as one of its users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    StaticTokens,
)
from kubelite.apiserver.auth.user import (
    UserInfo,
    service_account_groups,
    service_account_username,
)
from kubelite.apiserver.authorization import configure_authorization
from kubelite.storage.factory import open_backend

USERS = {
    "admin-token": UserInfo("admin", uid="0", groups=("system:masters",)),
    "jane-token": UserInfo("jane", uid="1", groups=("developers",)),
    "bob-token": UserInfo("bob", uid="2"),
    "node-token": UserInfo("system:node:n7", uid="4", groups=("system:nodes",)),
    "robot-token": UserInfo(service_account_username("web", "robot"), uid="3",
                            groups=service_account_groups("web")),
}

As = Callable[..., Awaitable[tuple[int, Any]]]


def rbac_server(tmp_path: Path) -> APIServer:
    return APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                     compaction_interval=0, loopback_token="admin-token",
                     authenticator=AuthenticatorChain([
                         BearerTokenAuthenticator([StaticTokens(USERS)])]))


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[APIServer]:
    server = rbac_server(tmp_path)
    await configure_authorization(server)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def as_user(secured: APIServer) -> AsyncIterator[As]:
    """`await as_user("jane", "GET", path, body=..., headers=...)` -> (status, JSON);
    user None: no credentials."""
    async with aiohttp.ClientSession(base_url=secured.url) as session:
        async def do(user: str | None, method: str, path: str, *, body: Any = None,
                     headers: dict[str, str] | None = None) -> tuple[int, Any]:
            hdrs = {"Accept": "application/json", "Content-Type": "application/json"}
            if user is not None:
                hdrs["Authorization"] = f"Bearer {user}-token"
            hdrs.update(headers or {})
            data = orjson.dumps(body) if body is not None else None
            async with session.request(method, path, data=data, headers=hdrs) as resp:
                raw = await resp.read()
                try:
                    return resp.status, orjson.loads(raw) if raw else None
                except orjson.JSONDecodeError:
                    return resp.status, raw.decode()
        yield do
