"""Two scheduling profiles from one KubeSchedulerConfiguration, in one scheduler, against a
real in-process API server with simulated nodes: each pod is placed by the profile its
spec.schedulerName names, and that profile's name signs its FailedScheduling events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kubelite.client.rest import Client
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.scheduler import config
from kubelite.scheduler.scheduler import KubeScheduler
from tests.test_scheduler import (
    TIMEOUT, eventually, failed_scheduling_events, get_pod, pod, running, running_on)

CONFIGURATION = """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing
  plugins:
    score:
      disabled: [{name: NodeResourcesBalancedAllocation}]
      enabled: [{name: NodeResourcesFit, weight: 5}]
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
"""


@pytest.fixture
async def scheduler(client: Client) -> AsyncIterator[KubeScheduler]:
    nodes = SimulatedNodes(client, NodeConfig(count=3, cpu="4", memory="8Gi"))
    loaded = config.load(CONFIGURATION)
    sched = KubeScheduler(client, profiles=loaded.profiles, seed=1)
    async with running(nodes.run()), running(sched.run()):
        async with asyncio.timeout(TIMEOUT):
            await nodes.registered.wait()
            await sched.leading.wait()
        yield sched


async def test_each_profile_places_its_own_pods(client: Client, scheduler: KubeScheduler) -> None:
    spread = [f"spread-{i}" for i in range(3)]
    for name in spread:
        await client.create("pods", pod(name, cpu="1"), namespace="default")
    spread_nodes = [await eventually(lambda n=name: running_on(client, n)) for name in spread]
    assert sorted(spread_nodes) == ["sim-0", "sim-1", "sim-2"]  # LeastAllocated spreads

    packed = [f"packed-{i}" for i in range(3)]
    for name in packed:
        await client.create("pods", pod(name, cpu="1", schedulerName="bin-packing"),
                            namespace="default")
    packed_nodes = [await eventually(lambda n=name: running_on(client, n)) for name in packed]
    assert len(set(packed_nodes)) == 1  # MostAllocated fills one node: 3 + 1 cpu of 4


async def test_failures_are_reported_under_the_profiles_name(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("pods", pod("huge", cpu="6", schedulerName="bin-packing"),
                        namespace="default")
    [event] = await eventually(lambda: failed_scheduling_events(client, "huge"))
    assert event["message"] == ("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes "
                                "are available: 3 No preemption victims found for incoming pod.")
    assert event["source"]["component"] == "bin-packing"
    assert event["reportingComponent"] == "bin-packing"


async def test_a_pod_naming_no_profile_is_left_alone(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("pods", pod("theirs", schedulerName="someone-else"), namespace="default")
    await client.create("pods", pod("ours", schedulerName="bin-packing"), namespace="default")
    await eventually(lambda: running_on(client, "ours"))
    await scheduler.wait_idle()
    theirs = await get_pod(client, "theirs")
    assert "nodeName" not in theirs["spec"] and not theirs["status"].get("conditions")


async def test_without_leader_election_it_schedules_and_takes_no_lease(client: Client) -> None:
    nodes = SimulatedNodes(client, NodeConfig(count=1, cpu="4", memory="8Gi"))
    loaded = config.load(CONFIGURATION.replace("profiles:", "leaderElection: {leaderElect: false}\nprofiles:"))
    assert not loaded.leader_election.leader_elect
    sched = KubeScheduler(client, profiles=loaded.profiles, leader_elect=False, seed=1)
    async with running(nodes.run()), running(sched.run()):
        await client.create("pods", pod("solo", schedulerName="bin-packing"), namespace="default")
        assert await eventually(lambda: running_on(client, "solo")) == "sim-0"
    leases = await client.list("leases.coordination.k8s.io", namespace="kube-system")
    assert [lease["metadata"]["name"] for lease in leases["items"]] == []
