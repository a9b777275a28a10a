"""Priority preemption through the whole loop: a real in-process API server on SQLite
(the Priority admission sets spec.priority from the PriorityClass), the scheduler, and a
simulated node that runs what is bound to it and finishes graceful deletions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.scheduler.scheduler import KubeScheduler
from tests.test_scheduler import TIMEOUT, eventually, get_pod, running, running_on

Obj = dict[str, Any]


@pytest.fixture
async def node(client: Client) -> AsyncIterator[SimulatedNodes]:
    sim = SimulatedNodes(client, NodeConfig(count=1, cpu="2", memory="8Gi"))
    async with running(sim.run()):
        async with asyncio.timeout(TIMEOUT):
            await sim.registered.wait()
        yield sim


@pytest.fixture
async def scheduler(client: Client, node: SimulatedNodes) -> AsyncIterator[KubeScheduler]:
    for name, value, policy in (("low", 10, "PreemptLowerPriority"),
                                 ("high", 1000, "PreemptLowerPriority"),
                                 ("high-never", 1000, "Never")):
        await client.create("priorityclasses.scheduling.k8s.io", {
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": value, "preemptionPolicy": policy})
    sched = KubeScheduler(client, seed=1)
    async with running(sched.run()):
        async with asyncio.timeout(TIMEOUT):
            await sched.leading.wait()
        yield sched


def pod(name: str, priority_class: str, *, cpu: str = "1") -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"priorityClassName": priority_class,
                     "containers": [{"name": "app", "image": "nginx",
                                     "resources": {"requests": {"cpu": cpu}}}]}}


async def events_for(client: Client, name: str, reason: str) -> list[Obj]:
    events = (await client.list("events", namespace="default"))["items"]
    return [e for e in events if e["involvedObject"]["name"] == name and e["reason"] == reason]


async def fill_the_node(client: Client) -> None:
    for name in ("low-0", "low-1"):  # 2 cpu, all taken
        await client.create("pods", pod(name, "low"), namespace="default")
    for name in ("low-0", "low-1"):
        await eventually(lambda: running_on(client, name))


async def test_a_high_priority_pod_preempts_a_low_priority_one_and_runs(
        client: Client, scheduler: KubeScheduler) -> None:
    await fill_the_node(client)
    created = await client.create("pods", pod("urgent", "high"), namespace="default")

    assert await eventually(lambda: running_on(client, "urgent")) == "sim-0"
    left = [p["metadata"]["name"] for p in (await client.list("pods", namespace="default"))["items"]]
    assert sorted(left) in (["low-0", "urgent"], ["low-1", "urgent"])  # one victim, not two
    [victim] = {"low-0", "low-1"} - set(left)

    [preempted] = await eventually(lambda: events_for(client, victim, "Preempted"))
    assert (preempted["type"], preempted["message"]) == (
        "Normal", f"Preempted by pod {created['metadata']['uid']} on node sim-0")
    assert preempted["related"]["name"] == "urgent"
    # preemption succeeded, so the failure it answered carries no "preemption:" sentence
    [failed] = await eventually(lambda: events_for(client, "urgent", "FailedScheduling"))
    assert failed["message"] == "0/1 nodes are available: 1 Insufficient cpu."
    urgent = await get_pod(client, "urgent")
    assert urgent["status"].get("nominatedNodeName") in (None, "sim-0")
    assert scheduler.queue.nominator.node_of(urgent) is None  # bound: the nomination is over


async def test_the_nomination_is_written_while_the_victim_terminates(
        client: Client, scheduler: KubeScheduler) -> None:
    await fill_the_node(client)
    await client.create("pods", pod("urgent", "high"), namespace="default")

    async def nominated() -> str:
        urgent = await get_pod(client, "urgent")
        return str(urgent["status"].get("nominatedNodeName") or "")

    assert await eventually(nominated) == "sim-0"
    await eventually(lambda: running_on(client, "urgent"))


@pytest.mark.parametrize("name, priority_class, postfix", [
    ("never", "high-never", "preemption: not eligible due to preemptionPolicy=Never."),
    ("peer", "low", "preemption: 0/1 nodes are available: "
                    "1 No preemption victims found for incoming pod."),
], ids=["preemption-policy-never", "no-lower-priority-victims"])
async def test_a_pod_that_cannot_preempt_says_why(
        client: Client, scheduler: KubeScheduler, name: str, priority_class: str,
        postfix: str) -> None:
    await fill_the_node(client)
    await client.create("pods", pod(name, priority_class), namespace="default")
    message = f"0/1 nodes are available: 1 Insufficient cpu. {postfix}"

    async def condition() -> Obj | None:
        for c in (await get_pod(client, name))["status"].get("conditions") or []:
            if c["type"] == "PodScheduled" and c["status"] == "False":
                return c
        return None

    found = await eventually(condition)
    assert (found["reason"], found["message"]) == ("Unschedulable", message)
    [event] = await eventually(lambda: events_for(client, name, "FailedScheduling"))
    assert event["message"] == message
    await scheduler.wait_idle()
    assert {p["metadata"]["name"] for p in (await client.list("pods", namespace="default"))["items"]} == {
        "low-0", "low-1", name}


async def test_a_nomination_preemption_cannot_serve_is_cleared(
        client: Client, scheduler: KubeScheduler) -> None:
    # nominated earlier, but now no node matches it at all: preemption cannot help there
    created = pod("stranded", "high")
    created["spec"]["nodeSelector"] = {"disk": "none-has-it"}
    await client.create("pods", created, namespace="default")
    await client.patch("pods", "stranded", {"status": {"nominatedNodeName": "sim-0"}},
                       subresource="status", namespace="default")
    # a status write does not retry a pod; a node label change does (NodeAffinity)
    await client.patch("nodes", "sim-0", {"metadata": {"labels": {"tier": "gold"}}})

    async def cleared() -> bool:
        status = (await get_pod(client, "stranded"))["status"]
        return bool(status.get("conditions")) and not status.get("nominatedNodeName")

    assert await eventually(cleared)
    [event] = await eventually(lambda: events_for(client, "stranded", "FailedScheduling"))
    assert event["message"] == (
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
