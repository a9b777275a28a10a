"""The authentication chain against a real server: tokens, 401s and anonymous paths."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    StaticTokens,
)
from kubelite.storage.factory import open_backend

TOKENS = '''admin-token,admin,1,"system:masters"
jane-token,jane,2
,ignored,3
'''


def test_token_file_reads_upstreams_csv() -> None:
    tokens = StaticTokens.from_rows(csv.reader(io.StringIO(TOKENS)))
    assert set(tokens.users) == {"admin-token", "jane-token"}
    assert tokens.users["admin-token"].groups == ("system:masters",)
    assert tokens.users["jane-token"].uid == "2"


def test_token_file_with_too_few_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 3 columns"):
        StaticTokens.from_rows(csv.reader(io.StringIO("t,user\n")))


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    path = tmp_path / "tokens.csv"
    path.write_text(TOKENS)
    chain = AuthenticatorChain([BearerTokenAuthenticator([StaticTokens.from_file(path)])])
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0, authenticator=chain, loopback_token="admin-token")
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.mark.parametrize("path,token,status", [
    ("/api/v1/namespaces", "jane-token", 200),
    ("/api/v1/namespaces", "wrong-token", 401),
    ("/api/v1/namespaces", None, 401),
    ("/version", None, 200),
    ("/readyz", None, 200),
    ("/version", "wrong-token", 401),
], ids=["known-token", "unknown-token", "no-credentials", "anonymous-version",
        "anonymous-readyz", "bad-token-is-never-anonymous"])
async def test_requests_are_authenticated(server: APIServer, path: str, token: str | None,
                                          status: int) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.get(server.url + path, headers=headers) as resp:
            assert resp.status == status
            if status == 401:
                body = await resp.json()
                assert (body["kind"], body["reason"], body["code"]) == (
                    "Status", "Unauthorized", 401)
