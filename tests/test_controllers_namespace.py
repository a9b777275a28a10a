"""The namespace loop against a real in-process API server on SQLite: what a deleted
namespace goes through, and that without the loop it stays Terminating."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.controller import TemporaryError
from kubelite.client.rest import Client
from kubelite.controllers.namespace import NamespaceLoop
from kubelite.machinery import errors
from tests.loops import run_loops
from tests.test_scheduler import eventually

Obj = dict[str, Any]
CRD = "customresourcedefinitions.apiextensions.k8s.io"


@pytest.fixture
async def loop(client: Client) -> AsyncIterator[NamespaceLoop]:
    async with run_loops(client, NamespaceLoop) as (loop,):
        yield loop


async def gone(client: Client, resource: Any, name: str, namespace: str | None = None
               ) -> bool:
    try:
        await client.get(resource, name, namespace=namespace)
    except errors.NotFound:
        return True
    return False


def cm(name: str, **meta: Any) -> Obj:
    return {"metadata": {"name": name, **meta}, "data": {"k": "v"}}


async def make_namespace(client: Client, name: str, **spec: Any) -> None:
    await client.create("namespaces", {"metadata": {"name": name}, "spec": spec})


def widget_crd() -> Obj:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                         "openAPIV3Schema": {"type": "object",
                                             "x-kubernetes-preserve-unknown-fields": True}}}]}}


async def established(client: Client, name: str) -> bool:
    crd = await client.get(CRD, name)
    return any(c["type"] == "Established" and c["status"] == "True"
               for c in (crd.get("status") or {}).get("conditions") or ())


async def test_deleted_namespace_is_emptied_then_removed(client: Client, loop: NamespaceLoop
                                                         ) -> None:
    await client.create(CRD, widget_crd())
    await eventually(lambda: established(client, "widgets.example.com"))
    await make_namespace(client, "team")
    for i in range(3):
        await client.create("configmaps", cm(f"c{i}"), namespace="team")
    await client.create("secrets", {"metadata": {"name": "s"}}, namespace="team")
    await client.create("services", {"metadata": {"name": "web"}, "spec": {
        "ports": [{"port": 80}]}}, namespace="team")
    widget = ("example.com", "v1", "widgets")
    await client.request("POST", "/apis/example.com/v1/namespaces/team/widgets", body={
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    await client.create("configmaps", cm("elsewhere"), namespace="default")

    ns = await client.delete("namespaces", "team")
    assert ns["status"]["phase"] == "Terminating" and ns["metadata"]["deletionTimestamp"]
    await eventually(lambda: gone(client, "namespaces", "team"))
    for resource in ("configmaps", "secrets", "services"):
        assert (await client.list(resource, namespace="team"))["items"] == []
    listing = await client.request("GET", "/apis/{}/{}/namespaces/team/{}".format(*widget))
    assert listing["items"] == []
    assert await client.get("configmaps", "elsewhere", namespace="default")


async def test_object_held_by_a_finalizer_keeps_the_namespace_until_released(
        client: Client, loop: NamespaceLoop) -> None:
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

    await client.patch("configmaps", "held", {"metadata": {"finalizers": None}},
                       namespace="held")
    await eventually(lambda: gone(client, "namespaces", "held"))


async def test_other_spec_finalizers_hold_the_emptied_namespace_until_finalized(
        client: Client, loop: NamespaceLoop) -> None:
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
        client: Client, loop: NamespaceLoop) -> None:
    await make_namespace(client, "live")
    await client.create("configmaps", cm("c"), namespace="live")
    before = await client.get("namespaces", "live")
    await loop.sync("live")
    await loop.sync("never-existed")
    after = await client.get("namespaces", "live")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert await client.get("configmaps", "c", namespace="live")


async def test_sync_of_a_namespace_with_objects_left_asks_for_a_retry_and_writes_once(
        client: Client) -> None:
    await make_namespace(client, "busy")
    await client.create("configmaps", cm("held", finalizers=["example.com/hold"]),
                        namespace="busy")
    async with run_loops(client, NamespaceLoop) as (loop,):
        loop.controller.shutdown()  # drive sync by hand
        await client.delete("namespaces", "busy")
        with pytest.raises(TemporaryError, match="1 objects remain"):
            await loop.sync("busy")
        ns = await client.get("namespaces", "busy")
        with pytest.raises(TemporaryError):
            await loop.sync("busy")  # idempotent: the same answer,
        again = await client.get("namespaces", "busy")  # and nothing written again
        assert again["metadata"]["resourceVersion"] == ns["metadata"]["resourceVersion"]


async def test_without_the_loop_a_deleted_namespace_stays_terminating_until_it_runs(
        client: Client) -> None:
    await make_namespace(client, "left")
    await client.create("configmaps", cm("c"), namespace="left")
    await client.delete("namespaces", "left")
    # Nothing empties it: a write confirms the server has settled, and it is still there.
    await client.create("configmaps", cm("marker"), namespace="default")
    ns = await client.get("namespaces", "left")
    assert ns["status"]["phase"] == "Terminating"
    assert await client.get("configmaps", "c", namespace="left")

    async with run_loops(client, NamespaceLoop):  # a controller manager starting later
        await eventually(lambda: gone(client, "namespaces", "left"))
    assert (await client.list("configmaps", namespace="left"))["items"] == []


async def test_a_pod_finishing_its_graceful_deletion_wakes_the_namespace(
        client: Client, loop: NamespaceLoop) -> None:
    await make_namespace(client, "pods")
    await client.create("nodes", {"metadata": {"name": "n1"}})
    await client.create("pods", {"metadata": {"name": "p"}, "spec": {
        "nodeName": "n1", "containers": [{"name": "c", "image": "pause"}]}},
        namespace="pods")
    await client.delete("namespaces", "pods")

    async def pod_terminating() -> bool:
        pod = await client.get("pods", "p", namespace="pods")
        return bool(pod["metadata"].get("deletionTimestamp"))

    await eventually(pod_terminating)  # a bound pod waits for its kubelet
    assert not await gone(client, "namespaces", "pods")
    # its kubelet confirms the pod stopped: a delete with no grace left
    await client.delete("pods", "p", namespace="pods", grace_period_seconds=0)
    async with asyncio.timeout(10):
        await eventually(lambda: gone(client, "namespaces", "pods"))
