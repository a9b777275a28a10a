"""DaemonSet adoption against the real in-process API server (told that a garbage
collector runs), scheduler, simulated nodes and garbage collector: a DaemonSet deleted
with Orphan propagation leaves its pods and revision; recreated, it takes them back
without making or rolling a pod."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from conftest import started_server
from kubelite.apiserver.app import APIServer
from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from tests.loops import nodes_scheduler_and_manager
from tests.test_controllers_daemonset import DS, NS, daemonset, live_pods, status_is
from tests.test_controllers_replicaset import events_of
from tests.test_scheduler import eventually

Obj = dict[str, Any]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    async with started_server(tmp_path, garbage_collector=True) as srv:
        yield srv


@pytest.fixture
async def cluster(client: Client) -> AsyncIterator[ControllerManager]:
    async with nodes_scheduler_and_manager(
            client, controllers=["garbagecollector", "daemonset"]) as manager:
        yield manager


def owner_uids(obj: Obj) -> list[str]:
    return [r["uid"] for r in obj["metadata"].get("ownerReferences") or ()]


async def test_a_recreated_daemonset_adopts_its_orphaned_pods_and_revision(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DS, daemonset("agent"), namespace=NS)
    await eventually(lambda: status_is(client, "agent", numberReady=3, updatedNumberScheduled=3))
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in await live_pods(client, "agent")}
    (revision,) = (await client.list("controllerrevisions.apps", namespace=NS))["items"]

    await client.delete(DS, "agent", namespace=NS, propagation_policy="Orphan")

    async def orphaned() -> bool:
        pods = await live_pods(client, "agent")
        gone = not (await client.list(DS, namespace=NS))["items"]
        return gone and len(pods) == 3 and not any(owner_uids(p) for p in pods)
    await eventually(orphaned)

    uid = (await client.create(DS, daemonset("agent"), namespace=NS))["metadata"]["uid"]

    async def adopted() -> bool:
        pods = await live_pods(client, "agent")
        return len(pods) == 3 and all(owner_uids(p) == [uid] for p in pods)
    await eventually(adopted)
    await eventually(lambda: status_is(client, "agent", numberReady=3, updatedNumberScheduled=3,
                                       desiredNumberScheduled=3))
    assert {p["metadata"]["name"]: p["metadata"]["uid"]
            for p in await live_pods(client, "agent")} == before
    (again,) = (await client.list("controllerrevisions.apps", namespace=NS))["items"]
    assert again["metadata"]["name"] == revision["metadata"]["name"]
    assert owner_uids(again) == [uid]
    assert not [e for e in await events_of(client, "agent", "SuccessfulCreate")
                if e["involvedObject"].get("uid") == uid]
