"""Store compaction as a controller, through an in-process API server."""

from __future__ import annotations

import asyncio

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.compaction import COMPACT_KEY, Compactor
from kubelite.client.rest import Client
from kubelite.machinery import errors

WAIT = 10.0


async def write(client: Client, name: str) -> str:
    made = await client.create("configmaps", {"metadata": {"name": name}},
                               namespace="default")
    return str(made["metadata"]["resourceVersion"])


async def test_each_sync_compacts_to_the_revision_the_previous_sync_saw(
        server: APIServer, client: Client) -> None:
    compactor = Compactor(server.backend)
    first = await write(client, "a")
    await compactor.sync(COMPACT_KEY)  # notes the revision, compacts nothing
    assert await server.backend.compact_revision() < int(first)

    second = await write(client, "b")
    await compactor.sync(COMPACT_KEY)
    assert await server.backend.compact_revision() == int(first)
    await compactor.sync(COMPACT_KEY)
    assert await server.backend.compact_revision() == int(second)
    await compactor.sync(COMPACT_KEY)  # nothing written since: nothing to do
    assert await server.backend.compact_revision() == int(second)


async def test_compacted_revisions_answer_410_and_newer_ones_still_list(
        server: APIServer, client: Client) -> None:
    compactor = Compactor(server.backend)
    old = await write(client, "a")
    await compactor.sync(COMPACT_KEY)
    await write(client, "b")
    kept = str(await server.backend.current_revision())
    await compactor.sync(COMPACT_KEY)
    await compactor.sync(COMPACT_KEY)  # compacts to `kept`
    # The revision compacted to still reads; anything older is gone.
    page = await client.list("configmaps", namespace="default", resource_version=kept,
                             resource_version_match="Exact")
    assert {i["metadata"]["name"] for i in page["items"]} == {"a", "b"}
    with pytest.raises(errors.Gone):
        await client.list("configmaps", namespace="default", resource_version=old,
                          resource_version_match="Exact")


async def test_compactor_runs_on_its_timer(server: APIServer, client: Client) -> None:
    written = int(await write(client, "a"))
    compactor = Compactor(server.backend, interval=0.01)
    task = asyncio.create_task(compactor.run())

    async def compacted() -> None:
        while await server.backend.compact_revision() < written:
            await asyncio.sleep(0.005)
    try:
        await asyncio.wait_for(compacted(), WAIT)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
