"""The DaemonSet loop against a real in-process API server on SQLite, with the scheduler
placing its pods on simulated nodes that run them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from tests.loops import nodes_scheduler_and_manager
from tests.test_scheduler import eventually, running

Obj = dict[str, Any]
DS = "daemonsets.apps"
NS = "default"
NODES = ["sim-0", "sim-1", "sim-2"]


@pytest.fixture
async def cluster(client: Client) -> AsyncIterator[ControllerManager]:
    async with nodes_scheduler_and_manager(client, controllers=["daemonset", "garbagecollector"]) as manager:
        yield manager


def daemonset(name: str, *, image: str = "agent:1", **pod_spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "agent", "image": image}],
                                           **pod_spec}}}}


async def live_pods(client: Client, app: str) -> list[Obj]:
    items: list[Obj] = (await client.list("pods", namespace=NS,
                                          label_selector=f"app={app}"))["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


async def running_on(client: Client, app: str, nodes: list[str]) -> list[Obj]:
    """The pods, once exactly one runs on each of `nodes` and none elsewhere."""
    pods = await live_pods(client, app)
    placed = sorted(p["spec"].get("nodeName", "") for p in pods
                    if p["status"].get("phase") == "Running")
    return pods if placed == sorted(nodes) and len(pods) == len(nodes) else []


async def status_is(client: Client, name: str, **want: int) -> Obj | None:
    ds = await client.get(DS, name, namespace=NS)
    status = ds.get("status") or {}
    got = {k: status.get(k, 0) for k in want}
    if got == want and status.get("observedGeneration") == ds["metadata"]["generation"]:
        return ds
    return None


async def test_a_daemonset_runs_one_pod_per_node_pinned_by_node_affinity(
        client: Client, cluster: ControllerManager) -> None:
    created = await client.create(DS, daemonset("agent"), namespace=NS)
    pods = await eventually(lambda: running_on(client, "agent", NODES))
    ds = await eventually(lambda: status_is(
        client, "agent", desiredNumberScheduled=3, currentNumberScheduled=3, numberReady=3,
        numberAvailable=3, numberUnavailable=0, updatedNumberScheduled=3,
        numberMisscheduled=0))
    assert ds["status"]["observedGeneration"] == 1
    revisions = (await client.list("controllerrevisions.apps", namespace=NS))["items"]
    assert len(revisions) == 1 and revisions[0]["revision"] == 1
    hash_ = revisions[0]["metadata"]["labels"]["controller-revision-hash"]
    assert revisions[0]["metadata"]["name"] == f"agent-{hash_}"
    for p in pods:
        node = p["spec"]["nodeName"]
        required = p["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"]
        assert required == {"nodeSelectorTerms": [{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": [node]}]}]}
        assert p["metadata"]["labels"]["controller-revision-hash"] == hash_
        assert p["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
        tolerated = {(t["key"], t["effect"]) for t in p["spec"]["tolerations"]}
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") in tolerated
        assert ("node.kubernetes.io/not-ready", "NoExecute") in tolerated


async def test_a_new_node_gets_a_pod_and_a_deleted_one_loses_it(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DS, daemonset("agent"), namespace=NS)
    await eventually(lambda: running_on(client, "agent", NODES))
    late = SimulatedNodes(client, NodeConfig(count=1, name_prefix="late-",
                                             cluster_cidr="10.43.0.0/16"))
    async with running(late.run()):
        await eventually(lambda: running_on(client, "agent", [*NODES, "late-0"]))
        await eventually(lambda: status_is(client, "agent", desiredNumberScheduled=4,
                                           numberAvailable=4))
    await client.delete("nodes", "sim-2")
    await eventually(lambda: running_on(client, "agent", ["sim-0", "sim-1", "late-0"]))


async def test_a_node_selector_limits_the_nodes(
        client: Client, cluster: ControllerManager) -> None:
    await client.patch("nodes", "sim-1", {"metadata": {"labels": {"disk": "ssd"}}})
    await client.create(DS, daemonset("ssd", nodeSelector={"disk": "ssd"}), namespace=NS)
    await eventually(lambda: running_on(client, "ssd", ["sim-1"]))
    await eventually(lambda: status_is(client, "ssd", desiredNumberScheduled=1,
                                       currentNumberScheduled=1, numberReady=1))
    # the label moves: the pod follows
    await client.patch("nodes", "sim-1", {"metadata": {"labels": {"disk": None}}})
    await client.patch("nodes", "sim-0", {"metadata": {"labels": {"disk": "ssd"}}})
    await eventually(lambda: running_on(client, "ssd", ["sim-0"]))


async def test_a_tainted_node_without_toleration_gets_none(
        client: Client, cluster: ControllerManager) -> None:
    taint = {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}}
    await client.patch("nodes", "sim-0", taint)
    await client.create(DS, daemonset("plain"), namespace=NS)
    await client.create(DS, daemonset("tolerant", tolerations=[
        {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}]),
        namespace=NS)
    await eventually(lambda: running_on(client, "plain", ["sim-1", "sim-2"]))
    await eventually(lambda: running_on(client, "tolerant", NODES))
    await eventually(lambda: status_is(client, "plain", desiredNumberScheduled=2,
                                       numberAvailable=2))


async def test_a_template_change_rolls_one_node_at_a_time(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DS, daemonset("agent"), namespace=NS)
    await eventually(lambda: status_is(client, "agent", updatedNumberScheduled=3,
                                       numberAvailable=3))
    await client.patch(DS, "agent", {"spec": {"template": {"spec": {"containers": [
        {"name": "agent", "image": "agent:2"}]}}}}, namespace=NS)
    await eventually(lambda: status_is(client, "agent", desiredNumberScheduled=3,
                                       updatedNumberScheduled=3, numberAvailable=3))
    pods = await eventually(lambda: running_on(client, "agent", NODES))
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"agent:2"}
    revisions = (await client.list("controllerrevisions.apps", namespace=NS))["items"]
    assert sorted(r["revision"] for r in revisions) == [1, 2]
    await cluster.wait_idle()
    events = [e for e in (await client.list("events", namespace=NS))["items"]
              if e["involvedObject"]["name"] == "agent"]
    assert sum(e["reason"] == "SuccessfulDelete" for e in events) == 3
    assert sum(e["reason"] == "SuccessfulCreate" for e in events) == 6


async def test_on_delete_replaces_only_deleted_pods(
        client: Client, cluster: ControllerManager) -> None:
    ds = daemonset("agent")
    ds["spec"]["updateStrategy"] = {"type": "OnDelete"}
    await client.create(DS, ds, namespace=NS)
    await eventually(lambda: status_is(client, "agent", updatedNumberScheduled=3,
                                       numberAvailable=3))
    await client.patch(DS, "agent", {"spec": {"template": {"spec": {"containers": [
        {"name": "agent", "image": "agent:2"}]}}}}, namespace=NS)
    await eventually(lambda: status_is(client, "agent", updatedNumberScheduled=0,
                                       numberAvailable=3))
    victim = next(p for p in await live_pods(client, "agent")
                  if p["spec"]["nodeName"] == "sim-0")
    await client.delete("pods", victim["metadata"]["name"], namespace=NS)
    await eventually(lambda: status_is(client, "agent", updatedNumberScheduled=1,
                                       numberAvailable=3))
    images = {p["spec"]["nodeName"]: p["spec"]["containers"][0]["image"]
              for p in await eventually(lambda: running_on(client, "agent", NODES))}
    assert images == {"sim-0": "agent:2", "sim-1": "agent:1", "sim-2": "agent:1"}


async def test_max_surge_rolls_with_new_pods_beside_old_ones(
        client: Client, cluster: ControllerManager) -> None:
    ds = daemonset("agent")
    ds["spec"]["updateStrategy"] = {"type": "RollingUpdate",
                                    "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    await client.create(DS, ds, namespace=NS)
    await eventually(lambda: status_is(client, "agent", updatedNumberScheduled=3,
                                       numberAvailable=3))
    await client.patch(DS, "agent", {"spec": {"template": {"spec": {"containers": [
        {"name": "agent", "image": "agent:2"}]}}}}, namespace=NS)
    await eventually(lambda: all_on_image(client, "agent", "agent:2"))
    await eventually(lambda: status_is(client, "agent", updatedNumberScheduled=3,
                                       numberAvailable=3, numberUnavailable=0))
    await cluster.wait_idle()
    events = [e["reason"] for e in (await client.list("events", namespace=NS))["items"]
              if e["involvedObject"]["name"] == "agent"]
    assert (events.count("SuccessfulCreate"), events.count("SuccessfulDelete")) == (6, 3)


async def all_on_image(client: Client, app: str, image: str) -> list[Obj]:
    pods = await running_on(client, app, NODES)
    return pods if pods and all(p["spec"]["containers"][0]["image"] == image
                                for p in pods) else []


async def test_a_no_execute_taint_evicts_the_daemon_pod(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DS, daemonset("agent"), namespace=NS)
    await eventually(lambda: running_on(client, "agent", NODES))
    await client.patch("nodes", "sim-2", {"spec": {"taints": [
        {"key": "maintenance", "effect": "NoExecute"}]}})
    await eventually(lambda: running_on(client, "agent", ["sim-0", "sim-1"]))
    await eventually(lambda: status_is(client, "agent", desiredNumberScheduled=2,
                                       currentNumberScheduled=2, numberMisscheduled=0))


async def test_a_failed_daemon_pod_is_replaced(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(DS, daemonset("agent"), namespace=NS)
    pods = await eventually(lambda: running_on(client, "agent", NODES))
    failed = next(p for p in pods if p["spec"]["nodeName"] == "sim-1")
    name = failed["metadata"]["name"]
    await client.patch("pods", name, {"status": {"phase": "Failed"}}, namespace=NS,
                       subresource="status")
    replaced = await eventually(lambda: _without(client, name))
    assert sorted(p["spec"]["nodeName"] for p in replaced) == NODES
    await cluster.wait_idle()
    warnings = [e for e in (await client.list("events", namespace=NS))["items"]
                if e["reason"] == "FailedDaemonPod"]
    assert [e["message"] for e in warnings] == [
        f"Found failed daemon pod {NS}/{name} on node sim-1, will try to kill it"]


async def _without(client: Client, name: str) -> list[Obj]:
    pods = await running_on(client, "agent", NODES)
    return pods if pods and name not in {p["metadata"]["name"] for p in pods} else []
