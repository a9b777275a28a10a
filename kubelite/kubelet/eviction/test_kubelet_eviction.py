"""Eviction through a whole kubelet: a real in-process API server, the host runtime,
and node signals fed in through a StatsSource, so the machine's own load never
matters."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.client.rest import Client
from kubelite.kubelet.eviction.signals import (
    ContainerUsage, FsStats, NodeStats, PodUsage, Summary)
from kubelite.kubelet.kubelet import Kubelet
from kubelite.kubelet.runtime.host import HostRuntime
from kubelite.kubelet.testing import (
    NODE, eventually, phase_of, pod, reasons, running_kubelet, short_config)

Mi, Gi = 1 << 20, 1 << 30


@dataclasses.dataclass
class FedStats:
    current: Summary

    async def summary(self) -> Summary:
        return self.current


def healthy() -> NodeStats:
    disk = FsStats(100 * Gi, 50 * Gi, 1000, 900)
    return NodeStats(8 * Gi, 2 * Gi, disk, disk, 4096, 100)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[HostRuntime]:
    host = HostRuntime(tmp_path / "host", "127.0.0.1")
    yield host
    for sandbox in await host.list_pod_sandboxes():
        await host.remove_pod_sandbox(sandbox.id)


async def _condition(client: Client, type_: str) -> str:
    node = await client.get("nodes", NODE)
    return next(c["status"] for c in node["status"]["conditions"] if c["type"] == type_)


async def test_memory_pressure_evicts_a_pod_and_refuses_best_effort_ones(
        client: Client, tmp_path: Path, runtime: HostRuntime) -> None:
    stats = FedStats(Summary(healthy()))
    config = dataclasses.replace(short_config(tmp_path / "kubelet"),
                                 eviction_hard="memory.available<1Gi")
    kubelet: Kubelet
    async with running_kubelet(client, tmp_path / "kubelet", runtime, config=config,
                               stats=stats) as kubelet:
        created = await client.create("pods", pod("hog", "sleep 60", restart="Always"),
                                      namespace="default")
        await eventually(lambda: phase_of(client, "hog", "Running"))
        assert await _condition(client, "MemoryPressure") == "False"

        uid = created["metadata"]["uid"]
        stats.current = Summary(
            dataclasses.replace(healthy(), memory_working_set_bytes=8 * Gi - 512 * Mi),
            {uid: PodUsage((ContainerUsage("app", memory_working_set_bytes=3 * Gi),))})
        evicted = await eventually(lambda: phase_of(client, "hog", "Failed"))
        assert evicted["status"]["reason"] == "Evicted"
        assert evicted["status"]["message"] == (
            "The node was low on resource: memory. Threshold quantity: 1Gi, available: 512Mi. "
            "Container app was using 3Gi, request is 0, has larger consumption of memory. ")
        target = [c for c in evicted["status"]["conditions"] if c["type"] == "DisruptionTarget"]
        assert target and target[0]["reason"] == "TerminationByKubelet"
        assert "Evicted" in await reasons(client, "hog")
        assert not [c for c in await runtime.list_containers() if c.state.name == "RUNNING"]

        # relieved: no more evictions, but the condition holds for the transition period
        stats.current = Summary(healthy())

        async def pressure_posted() -> bool:
            return await _condition(client, "MemoryPressure") == "True"
        await eventually(pressure_posted)
        node = await client.get("nodes", NODE)
        memory = next(c for c in node["status"]["conditions"] if c["type"] == "MemoryPressure")
        assert memory["reason"] == "KubeletHasInsufficientMemory"

        await client.create("pods", pod("late", "sleep 60"), namespace="default")
        refused = await eventually(lambda: phase_of(client, "late", "Failed"))
        assert refused["status"]["reason"] == "Evicted"
        assert refused["status"]["message"] == (
            "Pod was rejected: The node had condition: [MemoryPressure]. ")

        burstable = pod("sized", "sleep 60", restart="Always")
        burstable["spec"]["containers"][0]["resources"] = {"requests": {"memory": "10Mi"}}
        await client.create("pods", burstable, namespace="default")
        await eventually(lambda: phase_of(client, "sized", "Running"))
        assert kubelet.eviction.conditions == ["MemoryPressure"]
