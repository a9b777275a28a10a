"""A GET or LIST without resourceVersion answers the store's latest state even when the
watch cache lags behind it: from the cache once it catches up, else from the store, as
upstream's delegator falls back to etcd. A busy server's cache may lag for seconds; a
client must not get 504 for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.storage.factory import open_backend


@pytest.fixture
async def lagging(tmp_path: Path) -> AsyncIterator[tuple[APIServer, Client]]:
    """A server whose watch cache stops following the store after the start."""
    server = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                       compaction_interval=0)
    await server.start()
    client = Client(InProcessTransport(server.handle))  # type: ignore[arg-type]
    await client.create("configmaps", {"metadata": {"name": "before"}, "data": {"v": "1"}},
                        namespace="default")
    server.cache.catch_up_seconds = 0.05
    assert server.cache._task is not None
    server.cache._task.cancel()  # the cache sees nothing from here on
    try:
        yield server, client
    finally:
        await client.close()
        await server.stop()


async def test_get_and_list_read_the_store_when_the_cache_lags(
        lagging: tuple[APIServer, Client]) -> None:
    server, client = lagging
    cm = await client.get("configmaps", "before", namespace="default")
    cm["data"] = {"v": "2"}
    await client.update("configmaps", cm, namespace="default")
    await client.create("configmaps", {"metadata": {"name": "after"}}, namespace="default")

    got = await client.get("configmaps", "before", namespace="default")
    assert got["data"] == {"v": "2"}
    listed = await client.list("configmaps", namespace="default")
    names = {item["metadata"]["name"]: item for item in listed["items"]}
    assert {"before", "after"} <= set(names)
    assert names["before"]["data"] == {"v": "2"}
    assert int(listed["metadata"]["resourceVersion"]) >= int(got["metadata"]["resourceVersion"])
    # resourceVersion=0 asks for whatever the cache holds: the old state
    stale = await client.get("configmaps", "before", namespace="default", resource_version="0")
    assert stale["data"] == {"v": "1"}
