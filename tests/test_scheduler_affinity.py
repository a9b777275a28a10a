"""Inter-pod affinity through the whole loop: the in-process API server on SQLite, the
scheduler, and three simulated nodes (sim-0..2, each its own kubernetes.io/hostname)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.scheduler.scheduler import KubeScheduler
from tests.test_scheduler import (
    TIMEOUT, eventually, get_pod, running, running_on, unschedulable_condition)

Obj = dict[str, Any]
HOSTNAME = "kubernetes.io/hostname"


@pytest.fixture
async def scheduler(client: Client) -> AsyncIterator[KubeScheduler]:
    sim = SimulatedNodes(client, NodeConfig(count=3, cpu="4", memory="8Gi"))
    sched = KubeScheduler(client, seed=1)
    async with running(sim.run()), running(sched.run()):
        async with asyncio.timeout(TIMEOUT):
            await sim.registered.wait()
            await sched.leading.wait()
        yield sched


def pod(name: str, app: str, **affinity: Obj) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}],
                     **({"affinity": affinity} if affinity else {})}}


def on_same_host_as(app: str) -> Obj:
    return {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": HOSTNAME}]}


async def test_required_anti_affinity_spreads_replicas_and_keeps_the_fourth_pending(
        client: Client, scheduler: KubeScheduler) -> None:
    names = [f"web-{i}" for i in range(4)]
    for name in names:
        await client.create("pods", pod(name, "web", podAntiAffinity=on_same_host_as("web")),
                            namespace="default")

    async def settled() -> tuple[dict[str, str], list[Obj]] | None:
        placed = {n: node for n in names if (node := await running_on(client, n))}
        pending = [c for n in names if (c := await unschedulable_condition(client, n))]
        return (placed, pending) if len(placed) == 3 and len(pending) == 1 else None

    placed, [condition] = await eventually(settled)
    assert sorted(placed.values()) == ["sim-0", "sim-1", "sim-2"]
    # startswith: a preemption step, where there is one, appends its own sentence
    assert condition["reason"] == "Unschedulable"
    assert condition["message"].startswith(
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.")


async def test_required_affinity_waits_for_its_peer_and_joins_it(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("pods", pod("web", "web", podAffinity=on_same_host_as("db")),
                        namespace="default")
    condition = await eventually(lambda: unschedulable_condition(client, "web"))
    assert condition["message"].startswith(
        "0/3 nodes are available: 3 node(s) didn't match pod affinity rules.")
    assert (await get_pod(client, "web"))["status"]["phase"] == "Pending"

    await client.create("pods", pod("db", "db"), namespace="default")
    db_node = await eventually(lambda: running_on(client, "db"))
    # the db pod's binding wakes the waiting web pod (AssignedPodAdd), which joins it
    assert await eventually(lambda: running_on(client, "web")) == db_node
    for i in range(3):
        await client.create("pods", pod(f"web-{i}", "web", podAffinity=on_same_host_as("db")),
                            namespace="default")
        assert await eventually(lambda: running_on(client, f"web-{i}")) == db_node
