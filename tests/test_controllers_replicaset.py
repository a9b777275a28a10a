"""The ReplicaSet, ReplicationController and ServiceAccount loops against a real in-process
API server on SQLite, with the scheduler placing their pods on simulated nodes that run
them. (Here, not in kubelite/controllers/, because it wires four components together,
which only the CLI and the tests may do.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from tests.loops import nodes_scheduler_and_manager
from tests.test_scheduler import eventually

Obj = dict[str, Any]
RS = "replicasets.apps"
NS = "default"


@pytest.fixture
async def cluster(client: Client) -> AsyncIterator[ControllerManager]:
    """Three simulated nodes, the scheduler and the controller manager, all leading."""
    async with nodes_scheduler_and_manager(client) as manager:
        yield manager


def replicaset(name: str, replicas: int, *, app: str = "web", **spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": {"app": app}},
                                  "spec": {"containers": [{"name": "app", "image": "nginx"}]}},
                     **spec}}


def pod(name: str, *, app: str = "web", **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}], **spec}}


async def pods_of(client: Client, app: str = "web") -> list[Obj]:
    items: list[Obj] = (await client.list("pods", namespace=NS,
                                          label_selector=f"app={app}"))["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


async def settled(client: Client, name: str, ready: int, resource: str = RS) -> Obj | None:
    """The owner once its status says `ready` ready replicas of `ready` wanted, for its
    current generation."""
    owner = await client.get(resource, name, namespace=NS)
    status = owner.get("status") or {}
    if (owner["spec"]["replicas"], status.get("replicas"), status.get("readyReplicas"),
            status.get("observedGeneration")) == (ready, ready, ready,
                                                  owner["metadata"]["generation"]):
        return owner
    return None


def owner_refs(p: Obj) -> list[Obj]:
    return list(p["metadata"].get("ownerReferences") or [])


async def events_of(client: Client, name: str, reason: str) -> list[Obj]:
    items = (await client.list("events", namespace=NS))["items"]
    return [e for e in items if e["involvedObject"]["name"] == name and e["reason"] == reason]


async def test_a_replicaset_of_five_runs_five_pods_it_owns(
        client: Client, cluster: ControllerManager) -> None:
    created = await client.create(RS, replicaset("web", 5), namespace=NS)
    rs = await eventually(lambda: settled(client, "web", 5))
    status = rs["status"]
    assert (status["fullyLabeledReplicas"], status["availableReplicas"],
            status["terminatingReplicas"]) == (5, 5, 0)
    assert "conditions" not in status
    pods = await pods_of(client)
    assert len(pods) == 5
    for p in pods:
        assert p["status"]["phase"] == "Running"
        assert p["metadata"]["generateName"] == "web-"
        assert owner_refs(p) == [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                                  "uid": created["metadata"]["uid"], "controller": True,
                                  "blockOwnerDeletion": True}]
    await cluster.wait_idle()
    created_events = await events_of(client, "web", "SuccessfulCreate")
    assert sorted(e["message"] for e in created_events) == sorted(
        f"Created pod: {p['metadata']['name']}" for p in pods)
    assert {(e["type"], e["source"]["component"]) for e in created_events} == {
        ("Normal", "replicaset-controller")}
    lease = await client.get("leases.coordination.k8s.io", "kube-controller-manager",
                             namespace="kube-system")
    assert lease["spec"]["holderIdentity"] == cluster.identity


async def test_scaling_down_deletes_unassigned_pods_then_the_cheapest(
        client: Client, cluster: ControllerManager) -> None:
    # two orphans no node takes, adopted; three more made by the ReplicaSet
    for name in ("stuck-0", "stuck-1"):
        await client.create("pods", pod(name, nodeSelector={"disk": "none"}), namespace=NS)
    await client.create(RS, replicaset("web", 5), namespace=NS)

    async def three_running() -> list[Obj]:
        pods = await pods_of(client)
        running_pods = [p for p in pods if p["status"]["phase"] == "Running"]
        return running_pods if len(pods) == 5 and len(running_pods) == 3 else []

    running_pods = await eventually(three_running)
    cheap = running_pods[1]["metadata"]["name"]
    await client.patch("pods", cheap, {"metadata": {"annotations": {
        "controller.kubernetes.io/pod-deletion-cost": "-100"}}}, namespace=NS)
    await client.update_scale(RS, "web", 2, namespace=NS)
    await eventually(lambda: settled(client, "web", 2))
    kept = {p["metadata"]["name"] for p in await pods_of(client)}
    assert kept == {p["metadata"]["name"] for p in running_pods} - {cheap}
    await cluster.wait_idle()
    deleted = {e["message"] for e in await events_of(client, "web", "SuccessfulDelete")}
    assert deleted == {f"Deleted pod: {n}" for n in ("stuck-0", "stuck-1", cheap)}

    async def none_terminating() -> Obj | None:
        rs = await client.get(RS, "web", namespace=NS)
        return rs if rs["status"].get("terminatingReplicas") == 0 else None

    await eventually(none_terminating)


async def test_an_orphan_matching_the_selector_is_adopted(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("pods", pod("orphan"), namespace=NS)
    rs = await client.create(RS, replicaset("web", 2), namespace=NS)
    await eventually(lambda: settled(client, "web", 2))
    pods = await pods_of(client)
    assert len(pods) == 2 and "orphan" in {p["metadata"]["name"] for p in pods}
    orphan = await client.get("pods", "orphan", namespace=NS)
    assert [r["uid"] for r in owner_refs(orphan)] == [rs["metadata"]["uid"]]


async def test_a_pod_whose_labels_change_is_released_and_replaced(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(RS, replicaset("web", 2), namespace=NS)
    await eventually(lambda: settled(client, "web", 2))
    leaving = (await pods_of(client))[0]["metadata"]["name"]
    await client.patch("pods", leaving, {"metadata": {"labels": {"app": "debug"}}},
                       namespace=NS)

    async def released() -> Obj | None:
        p = await client.get("pods", leaving, namespace=NS)
        return p if not owner_refs(p) else None

    await eventually(released)

    async def replaced() -> list[Obj]:
        pods = await pods_of(client)
        ready = [p for p in pods if p["status"]["phase"] == "Running"]
        return pods if len(ready) == 2 and leaving not in {
            p["metadata"]["name"] for p in pods} else []

    assert len(await eventually(replaced)) == 2
    assert (await client.get("pods", leaving, namespace=NS))["status"]["phase"] == "Running"


async def test_a_replication_controller_runs_its_pods_through_the_same_loop(
        client: Client, cluster: ControllerManager) -> None:
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "old"},
          "spec": {"replicas": 2, "selector": {"app": "old"},
                   "template": {"metadata": {"labels": {"app": "old"}},
                                "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}}
    created = await client.create("replicationcontrollers", rc, namespace=NS)
    await eventually(lambda: settled(client, "old", 2, "replicationcontrollers"))
    refs = [owner_refs(p) for p in await pods_of(client, "old")]
    assert refs == [[{"apiVersion": "v1", "kind": "ReplicationController", "name": "old",
                      "uid": created["metadata"]["uid"], "controller": True,
                      "blockOwnerDeletion": True}]] * 2
    status = (await client.get("replicationcontrollers", "old", namespace=NS))["status"]
    assert "terminatingReplicas" not in status  # not a field of ReplicationControllerStatus


async def test_refused_creations_set_replica_failure_until_they_succeed(
        client: Client, cluster: ControllerManager) -> None:
    spec = replicaset("gold", 2, app="gold")
    spec["spec"]["template"]["spec"]["priorityClassName"] = "gold"
    await client.create(RS, spec, namespace=NS)

    async def failure() -> Obj | None:
        rs = await client.get(RS, "gold", namespace=NS)
        conditions = rs.get("status", {}).get("conditions") or []
        return conditions[0] if conditions else None

    condition = await eventually(failure)
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "ReplicaFailure", "True", "FailedCreate")
    assert "no PriorityClass with name gold was found" in condition["message"]
    await cluster.wait_idle()
    events = await events_of(client, "gold", "FailedCreate")
    assert events and all(e["type"] == "Warning" and e["message"].startswith(
        "Error creating: ") and "no PriorityClass" in e["message"] for e in events)
    await client.create("priorityclasses.scheduling.k8s.io",
                        {"metadata": {"name": "gold"}, "value": 1000})
    rs = await eventually(lambda: settled(client, "gold", 2))
    assert "conditions" not in rs["status"]


async def test_min_ready_seconds_holds_availability_back(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(RS, replicaset("slow", 2, app="slow", minReadySeconds=1), namespace=NS)

    async def available() -> Obj | None:
        rs = await client.get(RS, "slow", namespace=NS)
        return rs if rs.get("status", {}).get("availableReplicas") == 2 else None

    rs = await eventually(available)
    assert rs["status"]["readyReplicas"] == 2


async def test_every_namespace_gets_a_default_service_account_back(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("namespaces", {"metadata": {"name": "team"}})

    async def default_account() -> Obj | None:
        try:
            return await client.get("serviceaccounts", "default", namespace="team")
        except Exception:
            return None

    first = await eventually(default_account)
    await client.delete("serviceaccounts", "default", namespace="team")

    async def recreated() -> Obj | None:
        account = await default_account()
        return account if account and account["metadata"]["uid"] != first["metadata"]["uid"] \
            else None

    await eventually(recreated)
