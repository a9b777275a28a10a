"""Bootstrap tokens authenticate against their Secrets on a real server, as upstream's
bootstrap authenticator decides: right secret, live, unexpired, marked for
authentication; anything else is not theirs (401 from the chain)."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    StaticTokens,
    join_chain,
)
from kubelite.apiserver.auth.bootstrap_token import BootstrapTokenAuthenticator
from kubelite.apiserver.auth.serviceaccount.authenticator import CachedObjects
from kubelite.apiserver.auth.user import UserInfo
from kubelite.api.bootstrap_token import token_secret
from kubelite.storage.factory import open_backend

ADMIN = "admin-token"
TOKEN = "abcdef.0123456789abcdef"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    admin = StaticTokens({ADMIN: UserInfo("admin", groups=("system:masters",))})
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0, loopback_token=ADMIN,
                    authenticator=AuthenticatorChain([BearerTokenAuthenticator([admin])]))
    join_chain(srv.authenticator, BootstrapTokenAuthenticator(CachedObjects(srv.registry)))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def call(server: APIServer, method: str, path: str, token: str,
               body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, server.url + path, json=body,
                                   headers={"Authorization": f"Bearer {token}"}) as resp:
            return resp.status, await resp.json()


async def whoami(server: APIServer, token: str) -> tuple[int, Any]:
    return await call(server, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                      token, {"apiVersion": "authentication.k8s.io/v1",
                              "kind": "SelfSubjectReview"})


def secret(*, ttl: datetime.timedelta = datetime.timedelta(hours=1),
           usages: tuple[str, ...] = ("signing", "authentication"),
           groups: tuple[str, ...] = ("system:bootstrappers:kubelite:default-node-token",),
           token: str = TOKEN) -> dict[str, Any]:
    return token_secret(token, ttl=ttl, description="", usages=list(usages),
                        groups=list(groups), now=datetime.datetime.now(datetime.UTC))


async def test_a_live_token_is_its_bootstrap_user(server: APIServer) -> None:
    status, _ = await call(server, "POST", "/api/v1/namespaces/kube-system/secrets", ADMIN,
                           secret())
    assert status == 201
    status, review = await whoami(server, TOKEN)
    assert status == 201
    assert review["status"]["userInfo"] == {
        "username": "system:bootstrap:abcdef",
        "groups": ["system:bootstrappers", "system:bootstrappers:kubelite:default-node-token",
                   "system:authenticated"]}


@pytest.mark.parametrize("stored,presented", [
    (secret(ttl=-datetime.timedelta(seconds=1)), TOKEN),
    (secret(usages=("signing",)), TOKEN),
    (secret(), "abcdef.ffffffffffffffff"),
    (None, TOKEN),
    (secret(), "not-a-bootstrap-token"),
], ids=["expired", "not-for-authentication", "wrong-secret", "no-secret", "other-form"])
async def test_tokens_that_do_not_hold_are_refused(server: APIServer,
                                                   stored: dict[str, Any] | None,
                                                   presented: str) -> None:
    if stored is not None:
        status, _ = await call(server, "POST", "/api/v1/namespaces/kube-system/secrets",
                               ADMIN, stored)
        assert status == 201
    status, body = await whoami(server, presented)
    assert (status, body["reason"]) == (401, "Unauthorized")


async def test_a_deleted_token_stops_working(server: APIServer) -> None:
    await call(server, "POST", "/api/v1/namespaces/kube-system/secrets", ADMIN, secret())
    assert (await whoami(server, TOKEN))[0] == 201
    status, _ = await call(server, "DELETE",
                           "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef", ADMIN)
    assert status == 200
    assert (await whoami(server, TOKEN))[0] == 401
