"""The disruption loop against a real in-process API server on SQLite: budgets over
Deployments, ReplicaSets, ReplicationControllers, StatefulSets and a custom resource's
scale, with the scheduler and simulated nodes running the pods; the eviction
subresource reading the numbers; and the time-based rules under an injected clock."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.controllers.disruption import DisruptionLoop
from kubelite.controllers.manager import ControllerManager
from kubelite.machinery import errors
from kubelite.machinery.timestamps import format_time
from tests.loops import nodes_scheduler_and_manager, run_loops
from tests.test_scheduler import eventually

Obj = dict[str, Any]
NS = "default"
PDB = "poddisruptionbudgets.policy"
LOOPS = ["deployment", "replicaset", "replicationcontroller", "statefulset", "disruption"]


@pytest.fixture
async def cluster(client: Client) -> AsyncIterator[ControllerManager]:
    async with nodes_scheduler_and_manager(client, controllers=LOOPS) as manager:
        yield manager


def template(labels: Obj) -> Obj:
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}}


def workload(kind: str, name: str, replicas: int, labels: Obj, **spec: Any) -> Obj:
    selector: Obj = labels if kind == "ReplicationController" else {"matchLabels": labels}
    return {"apiVersion": "v1" if kind == "ReplicationController" else "apps/v1", "kind": kind,
            "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": selector, "template": template(labels),
                     **spec}}


def budget(name: str, labels: Obj, **spec: Any) -> Obj:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": labels}, **spec}}


def numbers(pdb: Obj) -> tuple[int, int, int, int]:
    s = pdb.get("status") or {}
    return (s.get("expectedPods", 0), s.get("desiredHealthy", 0), s.get("currentHealthy", 0),
            s.get("disruptionsAllowed", 0))


async def status_is(client: Client, name: str, wanted: tuple[int, int, int, int]
                    ) -> Obj | None:
    pdb = await client.get(PDB, name, namespace=NS)
    status = pdb.get("status") or {}
    if numbers(pdb) == wanted and status.get("observedGeneration") == \
            pdb["metadata"]["generation"]:
        return pdb
    return None


async def evict(client: Client, name: str) -> int:
    try:
        await client.request("POST", f"/api/v1/namespaces/{NS}/pods/{name}/eviction",
                             body={"apiVersion": "policy/v1", "kind": "Eviction",
                                   "metadata": {"name": name, "namespace": NS}})
    except errors.StatusError as err:
        return err.code
    return 201


async def live_pods(client: Client, app: str) -> list[Obj]:
    items: list[Obj] = (await client.list("pods", namespace=NS,
                                          label_selector=f"app={app}"))["items"]
    return sorted((p for p in items if not p["metadata"].get("deletionTimestamp")),
                  key=lambda p: p["metadata"]["name"])


def condition(pdb: Obj) -> tuple[str, str]:
    [cond] = [c for c in pdb["status"]["conditions"] if c["type"] == "DisruptionAllowed"]
    return cond["status"], cond["reason"]


async def test_a_budget_over_a_deployment_allows_one_eviction_at_a_time(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("deployments.apps", workload("Deployment", "web", 3, {"app": "web"}),
                        namespace=NS)
    await client.create(PDB, budget("web", {"app": "web"}, minAvailable=2), namespace=NS)
    pdb = await eventually(lambda: status_is(client, "web", (3, 2, 3, 1)))
    assert condition(pdb) == ("True", "SufficientPods")
    first, second, _ = await live_pods(client, "web")
    assert await evict(client, first["metadata"]["name"]) == 201
    # the eviction used the one disruption: the next is refused until a replacement is ready
    assert await evict(client, second["metadata"]["name"]) == 429
    pdb = await client.get(PDB, "web", namespace=NS)
    assert first["metadata"]["name"] in (pdb["status"].get("disruptedPods") or {}) \
        or numbers(pdb)[2] == 2
    pdb = await eventually(lambda: status_is(client, "web", (3, 2, 3, 1)))
    assert not pdb["status"].get("disruptedPods")  # the deletion was seen
    assert await evict(client, second["metadata"]["name"]) == 201


async def test_max_unavailable_percent_counts_every_controllers_replicas(
        client: Client, cluster: ControllerManager) -> None:
    tier = {"tier": "web"}
    await client.create("replicasets.apps",
                        workload("ReplicaSet", "rs", 4, {**tier, "app": "rs"}), namespace=NS)
    await client.create("replicationcontrollers",
                        workload("ReplicationController", "rc", 2, {**tier, "app": "rc"}),
                        namespace=NS)
    await client.create("statefulsets.apps",
                        workload("StatefulSet", "ss", 2, {**tier, "app": "ss"},
                                 podManagementPolicy="Parallel", serviceName="ss"),
                        namespace=NS)
    await client.create(PDB, budget("tier", tier, maxUnavailable="30%"), namespace=NS)
    # 8 replicas wanted, 30% of 8 rounds up to 3 unavailable: 5 must stay healthy
    pdb = await eventually(lambda: status_is(client, "tier", (8, 5, 8, 3)))
    assert condition(pdb) == ("True", "SufficientPods")
    await client.patch("replicasets.apps", "rs", {"spec": {"replicas": 2}}, namespace=NS)
    await eventually(lambda: status_is(client, "tier", (6, 4, 6, 2)))


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "gizmos.example.com"},
       "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "subresources": {"scale": {
                                  "specReplicasPath": ".spec.replicas",
                                  "statusReplicasPath": ".status.replicas"}},
                              "schema": {"openAPIV3Schema": {
                                  "type": "object",
                                  "x-kubernetes-preserve-unknown-fields": True}}}]}}
GIZMOS = Resource("example.com", "v1", "gizmos", True, "Gizmo")


def owned_pod(name: str, owner: Obj, labels: Obj) -> Obj:
    m = owner["metadata"]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels, "ownerReferences": [
                {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": m["name"],
                 "uid": m["uid"], "controller": True}]},
            "spec": template(labels)["spec"]}


async def test_a_custom_resource_is_counted_through_its_scale_subresource(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("customresourcedefinitions", CRD)

    async def served() -> bool:
        try:
            await client.list(GIZMOS, namespace=NS)
        except errors.NotFound:
            return False
        return True

    assert await eventually(served)
    gizmo = await client.create(GIZMOS, {"apiVersion": "example.com/v1", "kind": "Gizmo",
                                         "metadata": {"name": "g"}, "spec": {"replicas": 5}},
                                namespace=NS)
    for i in range(2):
        await client.create("pods", owned_pod(f"g-{i}", gizmo, {"app": "g"}), namespace=NS)
    await client.create(PDB, budget("g", {"app": "g"}, minAvailable="60%"), namespace=NS)
    pdb = await eventually(lambda: status_is(client, "g", (5, 3, 2, 0)))
    assert condition(pdb) == ("False", "InsufficientPods")


async def events_about(client: Client, name: str, reason: str) -> list[Obj]:
    items = (await client.list("events", namespace=NS))["items"]
    return [e for e in items if e["involvedObject"]["name"] == name and e["reason"] == reason]


async def test_a_pod_whose_controller_is_missing_fails_safe(
        client: Client, cluster: ControllerManager) -> None:
    ghost = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
             "metadata": {"name": "ghost", "uid": "0000-ghost"}}
    await client.create("pods", owned_pod("lost", ghost, {"app": "lost"}), namespace=NS)
    await client.create(PDB, budget("lost", {"app": "lost"}, maxUnavailable=1), namespace=NS)

    async def failed() -> Obj | None:
        pdb = await client.get(PDB, "lost", namespace=NS)
        conds = (pdb.get("status") or {}).get("conditions") or []
        return pdb if [(c["status"], c["reason"]) for c in conds] == [
            ("False", "SyncFailed")] else None

    pdb = await eventually(failed)
    assert pdb["status"]["disruptionsAllowed"] == 0
    assert pdb["status"]["conditions"][0]["message"] == 'found no controllers for pod \'lost\''
    assert await eventually(lambda: events_about(client, "lost",
                                                 "CalculateExpectedPodCountFailed"))
    # the same budget with an integer minAvailable needs no controller: it recovers
    await client.patch(PDB, "lost", {"spec": {"maxUnavailable": None, "minAvailable": 0}},
                       namespace=NS)
    pdb = await eventually(lambda: status_is(client, "lost", (1, 0, 1, 1)))
    assert condition(pdb) == ("True", "SufficientPods")


async def test_unmanaged_pods_under_a_percentage_are_reported(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("pods", {"apiVersion": "v1", "kind": "Pod",
                                 "metadata": {"name": "solo", "labels": {"app": "solo"}},
                                 "spec": template({})["spec"]}, namespace=NS)
    await client.create(PDB, budget("solo", {"app": "solo"}, minAvailable="50%"),
                        namespace=NS)
    await eventually(lambda: status_is(client, "solo", (0, 0, 1, 0)))
    assert await eventually(lambda: events_about(client, "solo", "UnmanagedPods"))


class Clock:
    def __init__(self) -> None:
        self.now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now

    def ago(self, seconds: float) -> str:
        return format_time(self.now - datetime.timedelta(seconds=seconds))


async def ready_pod(client: Client, name: str, **status: Any) -> Obj:
    pod = await client.create("pods", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "timed"}},
        "spec": {"nodeName": "node-x", **template({})["spec"]}}, namespace=NS)
    pod["status"] = {"phase": "Running", **status, "conditions": [
        {"type": "Ready", "status": "True"}, *status.get("conditions", [])]}
    written: Obj = await client.update_status("pods", pod, namespace=NS)
    return written


async def test_an_eviction_never_followed_by_a_deletion_expires_after_two_minutes(
        client: Client) -> None:
    clock = Clock()
    for name in ("a", "b"):
        await ready_pod(client, name)
    await client.create(PDB, budget("timed", {"app": "timed"}, minAvailable=1), namespace=NS)
    async with run_loops(client, lambda ctx: DisruptionLoop(ctx, clock=clock)) as [loop]:
        pdb = await eventually(lambda: status_is(client, "timed", (2, 1, 2, 1)))
        # what the eviction subresource writes before its delete, which never comes here
        pdb["status"] = {**pdb["status"], "disruptionsAllowed": 0,
                         "disruptedPods": {"a": clock.ago(30)}}
        await client.update_status(PDB, pdb, namespace=NS)
        pdb = await eventually(lambda: status_is(client, "timed", (2, 1, 1, 0)))
        assert list(pdb["status"]["disruptedPods"]) == ["a"]
        clock.now += datetime.timedelta(seconds=91)
        loop.controller.enqueue(f"{NS}/timed")  # the recheck upstream times for then
        pdb = await eventually(lambda: status_is(client, "timed", (2, 1, 2, 1)))
        assert not pdb["status"].get("disruptedPods")
        assert await eventually(lambda: events_about(client, "a", "NotDeleted"))


def disruption_target(pod: Obj) -> Obj:
    [cond] = [c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    return cond


async def test_a_stale_disruption_target_condition_is_set_false(client: Client) -> None:
    clock = Clock()

    def target(seconds: float, reason: str = "EvictionByEvictionAPI") -> Obj:
        return {"type": "DisruptionTarget", "status": "True", "reason": reason,
                "lastTransitionTime": clock.ago(seconds)}

    await ready_pod(client, "old", conditions=[target(150)])
    await ready_pod(client, "young", conditions=[target(30)])
    await ready_pod(client, "kubelet", conditions=[target(600, "TerminationByKubelet")])
    async with run_loops(client, lambda ctx: DisruptionLoop(ctx, clock=clock)):
        async def reset(name: str) -> Obj | None:
            cond = disruption_target(await client.get("pods", name, namespace=NS))
            return cond if cond["status"] == "False" else None

        cond = await eventually(lambda: reset("old"))
        assert "reason" not in cond
        assert disruption_target(await client.get("pods", "young", namespace=NS))["status"] == "True"
        clock.now += datetime.timedelta(seconds=91)
        # any change of the pod looks at its condition again
        await client.patch("pods", "young", {"metadata": {"labels": {"touched": "yes"}}},
                           namespace=NS)
        await eventually(lambda: reset("young"))
        assert disruption_target(await client.get("pods", "kubelet", namespace=NS))["status"] == "True"
