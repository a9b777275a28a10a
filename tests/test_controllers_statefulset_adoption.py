"""StatefulSet adoption and release against the real in-process API server (told that a
garbage collector runs), scheduler, simulated nodes and garbage collector: a set deleted with Orphan propagation leaves its
pods, revisions and claims; a set recreated under the same name takes them back."""

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
from tests.test_controllers_replicaset import NS, events_of
from tests.test_controllers_statefulset import STS, live_pods, settled, statefulset
from tests.test_scheduler import eventually

Obj = dict[str, Any]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    """The shared fixture's server, told that a garbage collector runs (so Orphan
    propagation holds the set with the orphan finalizer while its dependents are freed)."""
    async with started_server(tmp_path, garbage_collector=True) as srv:
        yield srv


@pytest.fixture
async def cluster(client: Client) -> AsyncIterator[ControllerManager]:
    async with nodes_scheduler_and_manager(
            client, controllers=["garbagecollector", "statefulset"]) as manager:
        yield manager

CLAIM_TEMPLATE = {"metadata": {"name": "data"},
                  "spec": {"accessModes": ["ReadWriteOnce"],
                           "resources": {"requests": {"storage": "1Gi"}}}}


def owner_uids(obj: Obj) -> list[str]:
    return [r["uid"] for r in obj["metadata"].get("ownerReferences") or ()]


async def orphaned(client: Client, app: str, count: int) -> dict[str, Obj]:
    """The app's pods once the set is gone and none names an owner."""
    pods = await live_pods(client, app)
    sets = (await client.list(STS, namespace=NS))["items"]
    if len(pods) == count and not sets and not any(owner_uids(p) for p in pods.values()):
        return pods
    return {}


def uids(pods: dict[str, Obj]) -> dict[str, str]:
    return {name: p["metadata"]["uid"] for name, p in pods.items()}


async def adopted(client: Client, app: str, uid: str) -> dict[str, Obj]:
    pods = await live_pods(client, app)
    return pods if pods and all(owner_uids(p) == [uid] for p in pods.values()) else {}


async def claims_of(client: Client, app: str) -> dict[str, Obj]:
    items = (await client.list("persistentvolumeclaims", namespace=NS,
                               label_selector=f"app={app}"))["items"]
    return {c["metadata"]["name"]: c for c in items}


async def test_a_recreated_set_adopts_its_orphaned_pods_and_revision(
        client: Client, cluster: ControllerManager) -> None:
    spec = statefulset("db", 3)
    await client.create(STS, spec, namespace=NS)
    before = await eventually(lambda: settled(client, "db", 3))
    revision = before["status"]["updateRevision"]
    pods = await live_pods(client, "db")

    await client.delete(STS, "db", namespace=NS, propagation_policy="Orphan")
    left = await eventually(lambda: orphaned(client, "db", 3))
    assert uids(left) == uids(pods)
    assert not owner_uids(await client.get("controllerrevisions.apps", revision, namespace=NS))

    second = await client.create(STS, spec, namespace=NS)
    uid = second["metadata"]["uid"]
    now = await eventually(lambda: adopted(client, "db", uid))
    after = await eventually(lambda: settled(client, "db", 3))
    # the same pods, owned again: none made anew, none rolled
    assert uids(now) == uids(pods)
    assert uids(await live_pods(client, "db")) == uids(pods)
    assert after["status"]["updateRevision"] == after["status"]["currentRevision"] == revision
    assert now["db-0"]["metadata"]["ownerReferences"] == [{
        "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": uid,
        "controller": True, "blockOwnerDeletion": True}]
    history = await client.get("controllerrevisions.apps", revision, namespace=NS)
    assert owner_uids(history) == [uid]
    assert not [e for e in await events_of(client, "db", "SuccessfulCreate")
                if e["involvedObject"].get("uid") == uid]


async def test_claims_of_a_recreated_set_are_owned_again_as_its_policy_says(
        client: Client, cluster: ControllerManager) -> None:
    spec = statefulset("vol", 2, podManagementPolicy="Parallel",
                       volumeClaimTemplates=[CLAIM_TEMPLATE],
                       persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete",
                                                             "whenScaled": "Retain"})
    first = await client.create(STS, spec, namespace=NS)

    async def two_claims_and_pods() -> dict[str, Obj]:
        claims = await claims_of(client, "vol")
        return claims if len(claims) == 2 and len(await live_pods(client, "vol")) == 2 else {}
    claims = await eventually(two_claims_and_pods)
    assert all(owner_uids(c) == [first["metadata"]["uid"]] for c in claims.values())
    pods = await live_pods(client, "vol")

    await client.delete(STS, "vol", namespace=NS, propagation_policy="Orphan")
    await eventually(lambda: orphaned(client, "vol", 2))

    async def claims_orphaned() -> bool:
        return not any(owner_uids(c) for c in (await claims_of(client, "vol")).values())
    await eventually(claims_orphaned)

    uid = (await client.create(STS, spec, namespace=NS))["metadata"]["uid"]
    await eventually(lambda: adopted(client, "vol", uid))

    async def claims_owned() -> dict[str, Obj]:
        found = await claims_of(client, "vol")
        return found if all(owner_uids(c) == [uid] for c in found.values()) else {}
    owned = await eventually(claims_owned)
    assert sorted(owned) == ["data-vol-0", "data-vol-1"]
    assert owned["data-vol-0"]["metadata"]["ownerReferences"][0]["controller"] is False
    assert uids(await live_pods(client, "vol")) == uids(pods)

    # whenDeleted turned to Retain on the live set: its references go
    await client.patch(STS, "vol", {"spec": {"persistentVolumeClaimRetentionPolicy": {
        "whenDeleted": "Retain"}}}, namespace=NS)

    async def claims_released() -> bool:
        found = await claims_of(client, "vol")
        return len(found) == 2 and not any(owner_uids(c) for c in found.values())
    await eventually(claims_released)


async def test_a_pod_relabelled_out_of_the_selector_is_released(
        client: Client, cluster: ControllerManager) -> None:
    created = await client.create(STS, statefulset("rel", 2, podManagementPolicy="Parallel"),
                                  namespace=NS)
    await eventually(lambda: settled(client, "rel", 2))
    await client.patch("pods", "rel-1", {"metadata": {"labels": {"app": "elsewhere"}}},
                       namespace=NS)

    async def released() -> Obj | None:
        pod = await client.get("pods", "rel-1", namespace=NS)
        return pod if not owner_uids(pod) else None

    pod = await eventually(released)
    assert pod["metadata"]["labels"]["app"] == "elsewhere"

    async def one_replica() -> Obj | None:
        s = await client.get(STS, "rel", namespace=NS)
        return s if (s.get("status") or {}).get("replicas") == 1 else None
    await eventually(one_replica)
    # its ordinal's name is taken, so no new rel-1 is made; matching again, it is adopted
    assert sorted(await live_pods(client, "rel")) == ["rel-0"]
    await client.patch("pods", "rel-1", {"metadata": {"labels": {"app": "rel"}}}, namespace=NS)

    async def readopted() -> Obj | None:
        p = await client.get("pods", "rel-1", namespace=NS)
        return p if owner_uids(p) == [created["metadata"]["uid"]] else None
    await eventually(readopted)


async def test_scaling_down_deletes_claims_when_both_policies_say_delete(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(STS, statefulset(
        "both", 2, podManagementPolicy="Parallel", volumeClaimTemplates=[CLAIM_TEMPLATE],
        persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete", "whenScaled": "Delete"}),
        namespace=NS)

    async def claim_names() -> list[str]:
        return sorted(name for name, c in (await claims_of(client, "both")).items()
                      if not c["metadata"].get("deletionTimestamp"))

    async def two() -> bool:
        return await claim_names() == ["data-both-0", "data-both-1"] and \
            len(await live_pods(client, "both")) == 2
    await eventually(two)
    await client.patch(STS, "both", {"spec": {"replicas": 1}}, namespace=NS)

    async def one() -> bool:
        return await claim_names() == ["data-both-0"] and \
            sorted(await live_pods(client, "both")) == ["both-0"]
    await eventually(one)
    kept = (await claims_of(client, "both"))["data-both-0"]
    assert [r["kind"] for r in kept["metadata"]["ownerReferences"]] == ["StatefulSet"]
