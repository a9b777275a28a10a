"""The Deployment loop with the ReplicaSet loop, the scheduler and simulated nodes, all
against a real in-process API server on SQLite: what a user of Deployments sees."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.controllers.deployment_util import HASH_LABEL, REVISION
from kubelite.controllers.manager import ControllerManager
from tests.loops import nodes_scheduler_and_manager
from tests.test_scheduler import eventually, running

Obj = dict[str, Any]
DEPLOY = "deployments.apps"
RS = "replicasets.apps"
NS = "default"


@pytest.fixture
async def cluster(client: Client) -> AsyncIterator[ControllerManager]:
    async with nodes_scheduler_and_manager(client, cpu="8", memory="16Gi") as manager:
        yield manager


def deployment(name: str, replicas: int, *, image: str = "nginx", **spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}},
                     **spec}}


def condition(obj: Obj, type_: str) -> Obj:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c["type"] == type_:
            return dict(c)
    return {}


async def rolled_out(client: Client, name: str) -> Obj | None:
    """The deployment once `kubectl rollout status` would call it rolled out."""
    d = await client.get(DEPLOY, name, namespace=NS)
    status = d.get("status") or {}
    want = d["spec"]["replicas"]
    if status.get("observedGeneration", 0) >= d["metadata"]["generation"] and \
            (status.get("updatedReplicas"), status.get("replicas"),
             status.get("availableReplicas")) == (want, want, want):
        return d
    return None


async def replica_sets(client: Client, name: str) -> list[Obj]:
    items: list[Obj] = (await client.list(RS, namespace=NS, label_selector=f"app={name}"))["items"]
    return sorted(items, key=lambda rs: int(rs["metadata"]["annotations"][REVISION]))


async def set_image(client: Client, name: str, image: str) -> None:
    await client.patch(DEPLOY, name, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": image}]}}}}, namespace=NS)


async def test_a_deployment_of_ten_becomes_available_through_one_replica_set(
        client: Client, cluster: ControllerManager) -> None:
    created = await client.create(DEPLOY, deployment("web", 10), namespace=NS)
    d = await eventually(lambda: rolled_out(client, "web"))
    assert (condition(d, "Available")["status"], condition(d, "Available")["reason"]) == (
        "True", "MinimumReplicasAvailable")
    progressing = condition(d, "Progressing")
    [rs] = await replica_sets(client, "web")
    pod_hash = rs["metadata"]["labels"][HASH_LABEL]
    assert rs["metadata"]["name"] == f"web-{pod_hash}" and len(pod_hash) == 10
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True", "NewReplicaSetAvailable",
        f'ReplicaSet "web-{pod_hash}" has successfully progressed.')
    assert rs["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", HASH_LABEL: pod_hash}
    annotations = rs["metadata"]["annotations"]
    assert (annotations[REVISION], annotations["deployment.kubernetes.io/desired-replicas"],
            annotations["deployment.kubernetes.io/max-replicas"]) == ("1", "10", "13")
    assert d["metadata"]["annotations"][REVISION] == "1"
    assert d["status"]["unavailableReplicas"] == 0
    await cluster.wait_idle()
    events = (await client.list("events", namespace=NS,
                                field_selector="involvedObject.name=web"))["items"]
    assert [(e["reason"], e["message"], e["source"]["component"]) for e in events] == [
        ("ScalingReplicaSet", f"Scaled up replica set web-{pod_hash} from 0 to 10",
         "deployment-controller")]


async def test_an_image_change_rolls_within_surge_and_unavailability_limits(
        client: Client, cluster: ControllerManager) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 1}}
    await client.create(DEPLOY, deployment("web", 6, strategy=strategy), namespace=NS)
    await eventually(lambda: rolled_out(client, "web"))
    observed: list[tuple[int, int]] = []
    done = asyncio.Event()

    async def watch_steps() -> None:
        while not done.is_set():
            items = (await client.list(RS, namespace=NS, label_selector="app=web"))["items"]
            observed.append((sum(rs["spec"]["replicas"] for rs in items),
                             sum(rs["status"].get("availableReplicas", 0) for rs in items)))
            await asyncio.sleep(0.005)

    async with running(watch_steps()):
        await set_image(client, "web", "nginx:2")
        d = await eventually(lambda: rolled_out(client, "web"))
        done.set()
    wanted = [w for w, _ in observed]
    assert max(wanted) <= 6 + 2 and max(wanted) > 6  # surged, never past maxSurge
    assert min(a for _, a in observed) >= 6 - 1  # never below replicas - maxUnavailable
    old, new = await replica_sets(client, "web")
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 6)
    assert new["metadata"]["annotations"][REVISION] == "2"
    assert d["metadata"]["annotations"][REVISION] == "2"
    pods = (await client.list("pods", namespace=NS, label_selector="app=web"))["items"]
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"nginx:2"}


async def test_recreate_scales_the_old_replica_set_to_zero_first(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DEPLOY, deployment("db", 3, strategy={"type": "Recreate"}),
                        namespace=NS)
    await eventually(lambda: rolled_out(client, "db"))
    images_seen: list[set[str]] = []
    done = asyncio.Event()

    async def watch_pods() -> None:
        while not done.is_set():
            pods = (await client.list("pods", namespace=NS, label_selector="app=db"))["items"]
            images_seen.append({p["spec"]["containers"][0]["image"] for p in pods})
            await asyncio.sleep(0.005)

    async with running(watch_pods()):
        await set_image(client, "db", "postgres:2")
        await eventually(lambda: rolled_out(client, "db"))
        done.set()
    assert {"postgres:2"} in images_seen and {"nginx", "postgres:2"} not in images_seen
    old, new = await replica_sets(client, "db")
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 3)
    await cluster.wait_idle()
    events = (await client.list("events", namespace=NS,
                                field_selector="involvedObject.name=db"))["items"]
    assert {e["message"] for e in events if e["reason"] == "ScalingReplicaSet"} == {
        f"Scaled up replica set {old['metadata']['name']} from 0 to 3",
        f"Scaled down replica set {old['metadata']['name']} from 3 to 0",
        f"Scaled up replica set {new['metadata']['name']} from 0 to 3"}


async def test_undo_rolls_back_to_the_previous_template_as_a_new_revision(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DEPLOY, deployment("web", 2), namespace=NS)
    await eventually(lambda: rolled_out(client, "web"))
    await set_image(client, "web", "nginx:broken")
    await eventually(lambda: rolled_out(client, "web"))
    first, _ = await replica_sets(client, "web")
    # what `kubectl rollout undo` does: the old ReplicaSet's template, minus its hash
    template = copy.deepcopy(first["spec"]["template"])
    del template["metadata"]["labels"][HASH_LABEL]
    await client.patch(DEPLOY, "web", [{"op": "replace", "path": "/spec/template",
                                        "value": template}], type="json", namespace=NS)
    d = await eventually(lambda: rolled_out(client, "web"))
    second, first_again = await replica_sets(client, "web")
    assert first_again["metadata"]["name"] == first["metadata"]["name"]
    assert first_again["metadata"]["annotations"][REVISION] == "3"
    assert first_again["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] \
        == "1"
    assert (first_again["spec"]["replicas"], second["spec"]["replicas"]) == (2, 0)
    assert d["metadata"]["annotations"][REVISION] == "3"


async def test_a_paused_deployment_scales_but_does_not_roll(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DEPLOY, deployment("web", 2), namespace=NS)
    await eventually(lambda: rolled_out(client, "web"))
    await client.patch(DEPLOY, "web", {"spec": {"paused": True}}, namespace=NS)

    async def paused() -> Obj | None:
        d = await client.get(DEPLOY, "web", namespace=NS)
        return d if condition(d, "Progressing").get("reason") == "DeploymentPaused" else None

    d = await eventually(paused)
    assert condition(d, "Progressing")["status"] == "Unknown"
    await set_image(client, "web", "nginx:2")
    await client.patch(DEPLOY, "web", {"spec": {"replicas": 4}}, namespace=NS)

    async def scaled() -> list[Obj]:
        rss = await replica_sets(client, "web")
        return rss if [rs["status"].get("readyReplicas") for rs in rss] == [4] else []

    [rs] = await eventually(scaled)
    assert rs["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    await client.patch(DEPLOY, "web", {"spec": {"paused": False}}, namespace=NS)
    await eventually(lambda: rolled_out(client, "web"))
    assert [rs["spec"]["replicas"] for rs in await replica_sets(client, "web")] == [0, 4]


async def test_an_orphan_replica_set_matching_the_selector_is_adopted(
        client: Client, cluster: ControllerManager) -> None:
    d = deployment("web", 2)
    orphan = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": "web-by-hand", "labels": {"app": "web"}},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                       "template": d["spec"]["template"]}}
    await client.create(RS, orphan, namespace=NS)
    created = await client.create(DEPLOY, d, namespace=NS)
    await eventually(lambda: rolled_out(client, "web"))
    adopted = await client.get(RS, "web-by-hand", namespace=NS)
    assert adopted["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
    assert len(await replica_sets(client, "web")) == 1  # it is the new one: no second


async def test_an_unmet_deadline_reports_progress_deadline_exceeded(
        client: Client, cluster: ControllerManager) -> None:
    d = deployment("stuck", 1, progressDeadlineSeconds=1)
    d["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "none"}
    await client.create(DEPLOY, d, namespace=NS)

    async def timed_out() -> Obj | None:
        got = await client.get(DEPLOY, "stuck", namespace=NS)
        return got if condition(got, "Progressing").get("reason") == \
            "ProgressDeadlineExceeded" else None

    got = await eventually(timed_out, timeout=10)
    [rs] = await replica_sets(client, "stuck")
    assert condition(got, "Progressing") | {"lastUpdateTime": "", "lastTransitionTime": ""} == {
        "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
        "message": f'ReplicaSet "{rs["metadata"]["name"]}" has timed out progressing.',
        "lastUpdateTime": "", "lastTransitionTime": ""}
    assert condition(got, "Available")["reason"] == "MinimumReplicasUnavailable"


async def test_a_resize_mid_rollout_is_shared_out_in_proportion(
        client: Client, cluster: ControllerManager) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}}
    await client.create(DEPLOY, deployment("web", 4, strategy=strategy), namespace=NS)
    await eventually(lambda: rolled_out(client, "web"))
    # a template whose pods no node takes: the rollout stops at the surge
    await client.patch(DEPLOY, "web", {"spec": {"template": {"spec": {
        "nodeSelector": {"disk": "none"}}}}}, namespace=NS)

    async def stuck() -> list[Obj]:
        rss = await replica_sets(client, "web")
        return rss if [rs["spec"]["replicas"] for rs in rss] == [4, 2] else []

    await eventually(stuck)
    await client.patch(DEPLOY, "web", {"spec": {"replicas": 8}}, namespace=NS)

    async def shared_out() -> list[Obj]:
        rss = await replica_sets(client, "web")
        return rss if sum(rs["spec"]["replicas"] for rs in rss) == 10 else []

    old, new = await eventually(shared_out)
    # 4 and 2 of at most 6, now of at most 10: 4*10/6 -> 7 and 2*10/6 -> 3
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (7, 3)
    for rs in (old, new):
        annotations = rs["metadata"]["annotations"]
        assert (annotations["deployment.kubernetes.io/desired-replicas"],
                annotations["deployment.kubernetes.io/max-replicas"]) == ("8", "10")


async def test_old_replica_sets_past_the_history_limit_are_deleted(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DEPLOY, deployment("web", 1, revisionHistoryLimit=1), namespace=NS)
    await eventually(lambda: rolled_out(client, "web"))
    for image in ("nginx:2", "nginx:3"):
        await set_image(client, "web", image)
        await eventually(lambda: rolled_out(client, "web"))

    async def pruned() -> list[Obj]:
        rss = await replica_sets(client, "web")
        return rss if len(rss) == 2 else []

    old, new = await eventually(pruned)
    assert [rs["metadata"]["annotations"][REVISION] for rs in (old, new)] == ["2", "3"]


async def test_min_ready_seconds_reaches_the_replica_set(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DEPLOY, deployment("slow", 2, minReadySeconds=1), namespace=NS)
    d = await eventually(lambda: rolled_out(client, "slow"))
    [rs] = await replica_sets(client, "slow")
    assert rs["spec"]["minReadySeconds"] == 1
    assert d["status"]["availableReplicas"] == 2
