"""The token cleaner deletes bootstrap tokens once they expire, and only those."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator

import pytest

from kubelite.api.bootstrap_token import token_secret
from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from kubelite.machinery import errors
from tests.test_scheduler import eventually, running


@pytest.fixture
async def manager(client: Client) -> AsyncIterator[ControllerManager]:
    manager = ControllerManager(client, controllers=["tokencleaner"])
    async with running(manager.run()):
        async with asyncio.timeout(15):
            await manager.leading.wait()
        yield manager


def secret(token: str, ttl: datetime.timedelta) -> dict[str, object]:
    return token_secret(token, ttl=ttl, description="", usages=["authentication"],
                        groups=[], now=datetime.datetime.now(datetime.UTC))


async def exists(client: Client, name: str) -> bool:
    try:
        await client.get("secrets", name, namespace="kube-system")
        return True
    except errors.NotFound:
        return False


async def test_an_expiring_token_goes_and_the_others_stay(client: Client,
                                                          manager: ControllerManager) -> None:
    await client.create("secrets", secret("aaaaaa.0123456789abcdef",
                                          datetime.timedelta(seconds=1)),
                        namespace="kube-system")
    await client.create("secrets", secret("bbbbbb.0123456789abcdef", datetime.timedelta(0)),
                        namespace="kube-system")
    await client.create("secrets", secret("cccccc.0123456789abcdef",
                                          datetime.timedelta(hours=1)),
                        namespace="kube-system")
    plain = secret("dddddd.0123456789abcdef", -datetime.timedelta(hours=1))
    plain["type"] = "Opaque"  # expired long ago, but no bootstrap token: left alone
    await client.create("secrets", plain, namespace="kube-system")

    async def expired_one_gone() -> bool:
        return not await exists(client, "bootstrap-token-aaaaaa")
    await eventually(expired_one_gone, timeout=10)
    for name in ("bootstrap-token-bbbbbb", "bootstrap-token-cccccc", "bootstrap-token-dddddd"):
        assert await exists(client, name), name
