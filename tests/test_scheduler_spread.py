"""PodTopologySpread through the whole loop: a real in-process API server on SQLite,
simulated nodes in three zones, and the scheduler binding what it places."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.scheduler.scheduler import KubeScheduler
from tests.test_scheduler import TIMEOUT, eventually, get_pod, running, unschedulable_condition

Obj = dict[str, Any]
ZONE = "topology.kubernetes.io/zone"


@pytest.fixture
async def zones(client: Client) -> AsyncIterator[dict[str, str]]:
    """Two simulated nodes in each of zone-a, zone-b and zone-c: node name → zone. zone-a's
    are much bigger, so without spreading the resource scores would put every pod there."""
    groups = [SimulatedNodes(client, NodeConfig(
        count=2, name_prefix=f"{zone}-", cpu="64" if zone == "zone-a" else "4",
        memory="128Gi" if zone == "zone-a" else "8Gi", extra_labels=((ZONE, zone),),
        cluster_cidr=f"10.{42 + i}.0.0/16")) for i, zone in enumerate(("zone-a", "zone-b", "zone-c"))]
    async with contextlib.AsyncExitStack() as stack:
        for group in groups:
            await stack.enter_async_context(running(group.run()))
        async with asyncio.timeout(TIMEOUT):
            for group in groups:
                await group.registered.wait()
        yield {f"{zone}-{i}": zone for zone in ("zone-a", "zone-b", "zone-c") for i in range(2)}


@pytest.fixture
async def scheduler(client: Client, zones: dict[str, str]) -> AsyncIterator[KubeScheduler]:
    sched = KubeScheduler(client, seed=1)
    async with running(sched.run()):
        async with asyncio.timeout(TIMEOUT):
            await sched.leading.wait()
        yield sched


def spread_pod(name: str, topology_key: str = ZONE) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "spread"}},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                                     "resources": {"requests": {"cpu": "100m"}}}],
                     "topologySpreadConstraints": [{
                         "maxSkew": 1, "topologyKey": topology_key, "whenUnsatisfiable": "DoNotSchedule",
                         "labelSelector": {"matchLabels": {"app": "spread"}}}]}}


async def test_six_pods_spread_two_per_zone(client: Client, zones: dict[str, str],
                                            scheduler: KubeScheduler) -> None:
    names = [f"web-{i}" for i in range(6)]
    for name in names:
        await client.create("pods", spread_pod(name), namespace="default")

    async def placed() -> list[str] | None:
        nodes = [(await get_pod(client, name))["spec"].get("nodeName") for name in names]
        return nodes if all(nodes) else None

    nodes = await eventually(placed)
    assert Counter(zones[n] for n in nodes) == {"zone-a": 2, "zone-b": 2, "zone-c": 2}


async def test_a_missing_topology_label_is_reported_with_upstreams_reason(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("pods", spread_pod("racked", topology_key="rack"), namespace="default")
    condition = await eventually(lambda: unschedulable_condition(client, "racked"))
    assert condition["message"] == ("0/6 nodes are available: 6 node(s) didn't match pod topology "
                                    "spread constraints (missing required label). preemption: "
                                    "0/6 nodes are available: 6 Preemption is not helpful for "
                                    "scheduling.")


async def test_pods_a_service_selects_spread_by_the_system_defaults(
        client: Client, zones: dict[str, str]) -> None:
    # no constraints of their own: the Service selecting them (read through the listers the
    # loop hands the plugin) brings upstream's soft hostname and zone spreading
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    await client.create("services", service, namespace="default")
    sched = KubeScheduler(client, seed=1)
    async with running(sched.run()):
        names = [f"web-{i}" for i in range(6)]
        for name in names:
            pod = spread_pod(name)
            pod["metadata"]["labels"] = {"app": "web"}
            del pod["spec"]["topologySpreadConstraints"]
            await client.create("pods", pod, namespace="default")

        async def placed() -> list[str] | None:
            nodes = [(await get_pod(client, name))["spec"].get("nodeName") for name in names]
            return nodes if all(nodes) else None

        nodes = await eventually(placed)
    assert Counter(zones[n] for n in nodes) == {"zone-a": 2, "zone-b": 2, "zone-c": 2}
