"""The garbage collector with the ReplicaSet loop against a real in-process API server on
SQLite that knows a collector runs (so it adds the orphan and foregroundDeletion
finalizers), the scheduler and simulated nodes running the pods."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from conftest import started_server
from kubelite.apiserver.app import APIServer
from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.controllers.garbagecollector import GarbageCollectorLoop
from kubelite.controllers.manager import ControllerManager
from kubelite.machinery import errors
from tests.test_controllers_replicaset import NS, RS, owner_refs, replicaset, settled
from tests.loops import nodes_scheduler_and_manager
from tests.test_scheduler import eventually

Obj = dict[str, Any]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    """The shared fixture's server, told that a garbage collector runs."""
    async with started_server(tmp_path, garbage_collector=True) as srv:
        yield srv


@pytest.fixture
async def cluster(client: Client) -> AsyncIterator[ControllerManager]:
    async with nodes_scheduler_and_manager(
            client, nodes=2, controllers=["garbagecollector", "replicaset"]) as manager:
        yield manager


async def running_replicaset(client: Client, name: str, replicas: int) -> Obj:
    await client.create(RS, replicaset(name, replicas, app=name), namespace=NS)
    rs: Obj = await eventually(lambda: settled(client, name, replicas))
    return rs


async def pods_named_for(client: Client, app: str) -> list[Obj]:
    items: list[Obj] = (await client.list("pods", namespace=NS,
                                          label_selector=f"app={app}"))["items"]
    return items


async def no_pods(client: Client, app: str) -> bool:
    return not await pods_named_for(client, app)


async def gone(client: Client, resource: str | Resource, name: str) -> bool:
    try:
        await client.get(resource, name, namespace=NS)
    except errors.NotFound:
        return True
    return False


def configmap(name: str, *owners: Obj, block: bool = False) -> Obj:
    refs = [{"apiVersion": o["apiVersion"], "kind": o["kind"], "name": o["metadata"]["name"],
             "uid": o["metadata"]["uid"], **({"blockOwnerDeletion": True} if block else {})}
            for o in owners]
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "ownerReferences": refs}}


async def test_deleting_a_replicaset_removes_its_pods(
        client: Client, cluster: ControllerManager) -> None:
    await running_replicaset(client, "bg", 3)
    await client.delete(RS, "bg", namespace=NS)  # background, the default
    assert await eventually(lambda: gone(client, RS, "bg"))
    assert await eventually(lambda: no_pods(client, "bg"))


async def test_foreground_deletion_waits_for_the_pods_then_removes_the_replicaset(
        client: Client, cluster: ControllerManager) -> None:
    await running_replicaset(client, "fg", 2)
    deleting = await client.delete(RS, "fg", namespace=NS, propagation_policy="Foreground")
    # the server holds the owner with the finalizer the collector will drop
    assert deleting["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert deleting["metadata"]["deletionTimestamp"]

    async def pods_gone_while_rs_waits() -> bool:
        pods = await pods_named_for(client, "fg")
        if not pods:
            return True
        # while any pod (which blocks its owner) is left, the ReplicaSet stays
        rs = await client.get(RS, "fg", namespace=NS)
        assert "foregroundDeletion" in rs["metadata"]["finalizers"]
        return False

    assert await eventually(pods_gone_while_rs_waits)
    assert await eventually(lambda: gone(client, RS, "fg"))


async def test_orphan_deletion_leaves_the_pods_without_the_reference(
        client: Client, cluster: ControllerManager) -> None:
    rs = await running_replicaset(client, "or", 2)
    await client.delete(RS, "or", namespace=NS, propagation_policy="Orphan")
    assert await eventually(lambda: gone(client, RS, "or"))
    pods = await pods_named_for(client, "or")
    assert len(pods) == 2
    assert all(rs["metadata"]["uid"] not in {r["uid"] for r in owner_refs(p)} for p in pods)
    assert not any(p["metadata"].get("deletionTimestamp") for p in pods)


async def test_a_configmap_owned_by_a_deleted_configmap_goes(
        client: Client, cluster: ControllerManager) -> None:
    owner = await client.create("configmaps", configmap("owner"), namespace=NS)
    await client.create("configmaps", configmap("dependent", owner), namespace=NS)
    await client.delete("configmaps", "owner", namespace=NS)
    assert await eventually(lambda: gone(client, "configmaps", "dependent"))


async def test_a_surviving_owner_keeps_the_dependent_and_loses_the_dangling_reference(
        client: Client, cluster: ControllerManager) -> None:
    first = await client.create("configmaps", configmap("first"), namespace=NS)
    second = await client.create("configmaps", configmap("second"), namespace=NS)
    await client.create("configmaps", configmap("shared", first, second), namespace=NS)
    await client.delete("configmaps", "first", namespace=NS)

    async def only_second_left() -> bool:
        refs = owner_refs(await client.get("configmaps", "shared", namespace=NS))
        return [r["uid"] for r in refs] == [second["metadata"]["uid"]]

    assert await eventually(only_second_left)


async def test_an_owner_whose_uid_differs_counts_as_gone(
        client: Client, cluster: ControllerManager) -> None:
    owner = await client.create("configmaps", configmap("reborn"), namespace=NS)
    await client.delete("configmaps", "reborn", namespace=NS)
    await client.create("configmaps", configmap("reborn"), namespace=NS)  # a new uid
    # the reference names the old uid: the owner of that name now is someone else
    await client.create("configmaps", configmap("stale", owner), namespace=NS)
    assert await eventually(lambda: gone(client, "configmaps", "stale"))
    assert not await gone(client, "configmaps", "reborn")


async def test_a_dependent_of_an_owner_that_never_existed_goes(
        client: Client, cluster: ControllerManager) -> None:
    ghost = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "ghost", "uid": "6f1d0c1e-0000-4000-8000-000000000000"}}
    await client.create("configmaps", configmap("haunted", ghost), namespace=NS)
    assert await eventually(lambda: gone(client, "configmaps", "haunted"))


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "widgets.example.com"},
       "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "schema": {"openAPIV3Schema": {
                                  "type": "object",
                                  "x-kubernetes-preserve-unknown-fields": True}}}]}}
WIDGETS = Resource("example.com", "v1", "widgets", True, "Widget")


async def test_a_custom_resource_owning_a_configmap(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("customresourcedefinitions", CRD)

    async def served() -> bool:
        try:
            await client.list(WIDGETS, namespace=NS)
        except errors.NotFound:
            return False
        return True

    assert await eventually(served)
    widget = await client.create(WIDGETS, {"apiVersion": "example.com/v1", "kind": "Widget",
                                           "metadata": {"name": "w"}}, namespace=NS)
    await client.create("configmaps", configmap("of-widget", widget), namespace=NS)
    # the collector learns the new kind through discovery, watches it, and keeps the
    # dependent while its owner lives
    collector = cluster.loops["garbagecollector"]
    assert isinstance(collector, GarbageCollectorLoop)

    async def widget_observed() -> bool:
        node = collector.graph.nodes.get(widget["metadata"]["uid"])
        return node is not None and node.observed and len(node.dependents) == 1

    assert await eventually(widget_observed)
    cm = await client.get("configmaps", "of-widget", namespace=NS)
    assert owner_refs(cm)[0]["uid"] == widget["metadata"]["uid"]
    await client.delete(WIDGETS, "w", namespace=NS)
    assert await eventually(lambda: gone(client, "configmaps", "of-widget"))


def deployment(name: str) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}}


async def test_foreground_deletion_goes_down_a_chain_of_owners(
        client: Client, cluster: ControllerManager) -> None:
    """Deployment ─► ReplicaSet ─► pods: the ReplicaSet, itself an owner, is deleted in
    the foreground too, so the Deployment goes last."""
    deploy = await client.create("deployments.apps", deployment("chain"), namespace=NS)
    rs = replicaset("chain", 2, app="chain")
    rs["metadata"]["ownerReferences"] = [{
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "chain",
        "uid": deploy["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    await client.create(RS, rs, namespace=NS)
    await eventually(lambda: settled(client, "chain", 2))
    await client.delete("deployments.apps", "chain", namespace=NS,
                        propagation_policy="Foreground")

    async def in_order() -> bool:
        left_pods = await pods_named_for(client, "chain")
        rs_gone = await gone(client, RS, "chain")
        deploy_gone = await gone(client, "deployments.apps", "chain")
        assert not rs_gone or not left_pods, "the ReplicaSet went before its pods"
        assert not deploy_gone or rs_gone, "the Deployment went before its ReplicaSet"
        return deploy_gone

    assert await eventually(in_order)
