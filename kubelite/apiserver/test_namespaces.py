"""The namespace lifecycle controller, through an in-process API server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.client.controller import TemporaryError
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.storage.factory import open_backend

WAIT = 10.0


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.005)
    await asyncio.wait_for(poll(), WAIT)


async def gone(client: Client, resource: str, name: str, namespace: str | None = None
               ) -> bool:
    try:
        await client.get(resource, name, namespace=namespace)
    except errors.NotFound:
        return True
    return False


def cm(name: str, **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, **meta}, "data": {"k": "v"}}


async def make_namespace(client: Client, name: str, **spec: Any) -> None:
    await client.create("namespaces", {"metadata": {"name": name}, "spec": spec})


async def test_deleted_namespace_is_emptied_then_removed(client: Client) -> None:
    await make_namespace(client, "team")
    for i in range(3):
        await client.create("configmaps", cm(f"c{i}"), namespace="team")
    await client.create("secrets", {"metadata": {"name": "s"}}, namespace="team")
    await client.create("services", {"metadata": {"name": "web"}, "spec": {
        "ports": [{"port": 80}]}}, namespace="team")
    await client.create("configmaps", cm("elsewhere"), namespace="default")

    ns = await client.delete("namespaces", "team")
    assert ns["status"]["phase"] == "Terminating" and ns["metadata"]["deletionTimestamp"]
    await eventually(lambda: gone(client, "namespaces", "team"))
    for resource in ("configmaps", "secrets", "services"):
        assert (await client.list(resource, namespace="team"))["items"] == []
    assert await client.get("configmaps", "elsewhere", namespace="default")


async def test_object_held_by_a_finalizer_keeps_the_namespace_until_released(
        client: Client) -> None:
    await make_namespace(client, "held")
    await client.create("configmaps", cm("held", finalizers=["example.com/hold"]),
                        namespace="held")
    await client.create("configmaps", cm("free"), namespace="held")
    await client.delete("namespaces", "held")

    async def reported() -> bool:
        ns = await client.get("namespaces", "held")
        return "conditions" in ns["status"]

    await eventually(reported)  # written after the pass that deleted what it could
    assert await gone(client, "configmaps", "free", "held")
    held = await client.get("configmaps", "held", namespace="held")
    assert held["metadata"]["deletionTimestamp"]
    ns = await client.get("namespaces", "held")
    assert ns["status"]["phase"] == "Terminating"
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    # What upstream's controller reports of a namespace stuck Terminating.
    conditions = {c["type"]: (c["status"], c["reason"], c["message"])
                  for c in ns["status"]["conditions"]}
    assert conditions == {
        "NamespaceDeletionDiscoveryFailure": (
            "False", "ResourcesDiscovered", "All resources successfully discovered"),
        "NamespaceDeletionGroupVersionParsingFailure": (
            "False", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
        "NamespaceDeletionContentFailure": (
            "False", "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization"),
        "NamespaceContentRemaining": (
            "True", "SomeResourcesRemain",
            "Some resources are remaining: configmaps. has 1 resource instances"),
        "NamespaceFinalizersRemaining": (
            "True", "SomeFinalizerRemain",
            "Some finalizers are remaining: example.com/hold in 1 resource instances"),
    }

    # Releasing the last object is what finalizes the namespace: no wait for a resync.
    await client.patch("configmaps", "held", {"metadata": {"finalizers": None}},
                       namespace="held")
    await eventually(lambda: gone(client, "namespaces", "held"))


async def test_other_spec_finalizers_hold_the_emptied_namespace_until_finalized(
        client: Client) -> None:
    await make_namespace(client, "extra", finalizers=["example.com/cleanup"])
    await client.create("configmaps", cm("c"), namespace="extra")
    await client.delete("namespaces", "extra")

    async def only_extra_left() -> bool:
        ns = await client.get("namespaces", "extra")
        return bool(ns["spec"].get("finalizers") == ["example.com/cleanup"])

    await eventually(only_extra_left)
    assert (await client.list("configmaps", namespace="extra"))["items"] == []
    ns = await client.get("namespaces", "extra")
    ns["spec"]["finalizers"] = []
    await client.update("namespaces", ns, subresource="finalize")
    await eventually(lambda: gone(client, "namespaces", "extra"))


async def test_sync_leaves_live_and_missing_namespaces_alone(
        server: APIServer, client: Client) -> None:
    await make_namespace(client, "live")
    await client.create("configmaps", cm("c"), namespace="live")
    before = await client.get("namespaces", "live")
    await server.namespace_controller.sync("live")
    await server.namespace_controller.sync("never-existed")
    after = await client.get("namespaces", "live")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert await client.get("configmaps", "c", namespace="live")


async def test_sync_of_a_namespace_with_objects_left_asks_for_a_retry(
        server: APIServer, client: Client) -> None:
    await make_namespace(client, "busy")
    await client.create("configmaps", cm("held", finalizers=["example.com/hold"]),
                        namespace="busy")
    server.namespace_controller.controller.shutdown()  # drive sync by hand
    await client.delete("namespaces", "busy")
    await client.get("namespaces", "busy")  # the cache has the deletion
    with pytest.raises(TemporaryError) as err:
        await server.namespace_controller.sync("busy")
    assert err.value.delay is not None and "1 objects remain" in str(err.value)
    ns = await client.get("namespaces", "busy")
    with pytest.raises(TemporaryError):
        await server.namespace_controller.sync("busy")  # idempotent: same answer,
    again = await client.get("namespaces", "busy")  # and nothing written again
    assert again["metadata"]["resourceVersion"] == ns["metadata"]["resourceVersion"]


async def test_namespace_left_terminating_is_finalized_when_the_server_starts(
        tmp_path: Path) -> None:
    db = f"sqlite://{tmp_path}/db"
    first = APIServer(backend=open_backend(db), port=0, compaction_interval=0)
    await first.start()
    async with Client(InProcessTransport(first.handle)) as client:
        await make_namespace(client, "left")
        await client.create("configmaps", cm("c"), namespace="left")
        first.namespace_controller.controller.shutdown()  # as if the server died now
        await client.delete("namespaces", "left")
    await first.stop()

    second = APIServer(backend=open_backend(db), port=0, compaction_interval=0)
    await second.start()
    try:
        async with Client(InProcessTransport(second.handle)) as client:
            await eventually(lambda: gone(client, "namespaces", "left"))
            assert (await client.list("configmaps", namespace="left"))["items"] == []
    finally:
        await second.stop()
