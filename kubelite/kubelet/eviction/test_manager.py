"""The eviction manager's passes (eviction_manager_test.go TestMemoryPressure,
TestDiskPressureNodeFs, TestMinReclaim, TestNodeReclaimFuncs, TestAdmitUnderNodeConditions'
flow), driven by summaries fed in and a clock moved by hand."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from kubelite.kubelet.eviction.manager import EvictionConfig, EvictionManager
from kubelite.kubelet.eviction.signals import (
    ContainerUsage, FsStats, NodeStats, PodUsage, Summary, VolumeUsage)
from kubelite.kubelet.eviction.thresholds import parse_thresholds

Obj = dict[str, Any]
Mi, Gi = 1 << 20, 1 << 30


def pod(name: str, *, memory: str = "", priority: int = 0, grace: int = 30,
        size_limit: str = "") -> Obj:
    requests = {"memory": memory} if memory else {}
    volumes = [{"name": "scratch", "emptyDir": {"sizeLimit": size_limit}}] if size_limit else []
    return {"metadata": {"name": name, "namespace": "default", "uid": name},
            "spec": {"containers": [{"name": "app", "resources": {"requests": requests}}],
                     "priority": priority, "terminationGracePeriodSeconds": grace,
                     "volumes": volumes}}


def node(memory_available: int = 4 * Gi, disk_available: int = 50 * Gi) -> NodeStats:
    disk = FsStats(100 * Gi, disk_available, 1000, 900)
    return NodeStats(8 * Gi, 8 * Gi - memory_available, disk, disk, 1000, 100)


@dataclass
class Source:
    current: Summary

    async def summary(self) -> Summary:
        return self.current


@dataclass
class Terminator:
    evicted: list[tuple[str, float, str, Obj | None]] = field(default_factory=list)

    async def evict(self, pod: Obj, grace_period: float, message: str,
                    condition: Obj | None) -> None:
        self.evicted.append((pod["metadata"]["name"], grace_period, message, condition))


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


class Setup:
    def __init__(self, pods: list[Obj], *, hard: str = "memory.available<1Gi", soft: str = "",
                 grace: str = "", reclaim: str = "", max_pod_grace: float = 0.0,
                 transition: float = 300.0) -> None:
        self.pods = pods
        self.source = Source(Summary(node()))
        self.terminator = Terminator()
        self.clock = Clock()
        self.image_gc_calls = 0
        self.manager = EvictionManager(
            EvictionConfig(tuple(parse_thresholds(hard, soft, grace, reclaim)),
                           pressure_transition_period=transition,
                           max_pod_grace_period=max_pod_grace),
            self.source, self.terminator, lambda: list(self.pods), clock=self.clock,
            image_gc=self._image_gc)
        self.after_gc: Summary | None = None

    async def _image_gc(self) -> None:
        self.image_gc_calls += 1
        if self.after_gc is not None:
            self.source.current = self.after_gc

    def feed(self, node_stats: NodeStats, usage: dict[str, PodUsage] | None = None) -> None:
        self.source.current = Summary(node_stats, usage or self.source.current.pods)

    def evicted(self) -> list[str]:
        return [name for name, *_ in self.terminator.evicted]


def memory_of(**working_sets: int) -> dict[str, PodUsage]:
    return {name: PodUsage((ContainerUsage("app", memory_working_set_bytes=value),))
            for name, value in working_sets.items()}


async def test_a_hard_memory_threshold_evicts_the_top_ranked_pod_at_once() -> None:
    setup = Setup([pod("guaranteed", memory="1Gi"), pod("best-effort"),
                   pod("critical", priority=2_000_001_000)])
    setup.feed(node(memory_available=4 * Gi), memory_of(**{"guaranteed": 900 * Mi,
                                                           "best-effort": 300 * Mi,
                                                           "critical": 2 * Gi}))
    assert await setup.manager.synchronize() == []
    assert setup.manager.conditions == []

    setup.feed(node(memory_available=512 * Mi))
    evicted = await setup.manager.synchronize()
    assert [p["metadata"]["name"] for p in evicted] == ["best-effort"]
    assert setup.manager.conditions == ["MemoryPressure"]
    name, grace, message, condition = setup.terminator.evicted[0]
    assert grace == 1.0
    assert message == ("The node was low on resource: memory. Threshold quantity: 1Gi, "
                       "available: 512Mi. Container app was using 300Mi, request is 0, has "
                       "larger consumption of memory. ")
    assert condition == {"type": "DisruptionTarget", "status": "True",
                         "reason": "TerminationByKubelet", "message": message}
    assert setup.manager.admit(pod("new")) == ("Evicted",
                                               "The node had condition: [MemoryPressure]. ")
    assert setup.manager.admit(pod("new", memory="1Mi")) is None


async def test_a_critical_pod_is_never_evicted() -> None:
    setup = Setup([pod("critical", priority=2_000_001_000)])
    setup.feed(node(memory_available=Mi), memory_of(critical=7 * Gi))
    assert await setup.manager.synchronize() == []
    assert setup.evicted() == []


async def test_pressure_is_held_for_the_transition_period() -> None:
    setup = Setup([], transition=300.0)
    setup.feed(node(memory_available=512 * Mi))
    await setup.manager.synchronize()
    assert setup.manager.conditions == ["MemoryPressure"]
    setup.feed(node(memory_available=4 * Gi))
    setup.clock.now += 299
    await setup.manager.synchronize()
    assert setup.manager.conditions == ["MemoryPressure"]
    setup.clock.now += 1
    await setup.manager.synchronize()
    assert setup.manager.conditions == []


async def test_a_soft_threshold_waits_its_grace_period_and_caps_the_pods_grace() -> None:
    setup = Setup([pod("a", grace=60)], hard="", soft="memory.available<2Gi",
                  grace="memory.available=1m30s", max_pod_grace=20)
    setup.feed(node(memory_available=Gi), memory_of(a=Gi))
    assert await setup.manager.synchronize() == []
    assert setup.manager.conditions == ["MemoryPressure"]  # pressure is reported at once
    setup.clock.now += 89
    assert await setup.manager.synchronize() == []
    setup.clock.now += 1
    assert [p["metadata"]["name"] for p in await setup.manager.synchronize()] == ["a"]
    assert setup.terminator.evicted[0][1] == 20.0


async def test_disk_pressure_is_relieved_by_image_gc_before_any_pod_goes() -> None:
    setup = Setup([pod("a")], hard="nodefs.available<10%")
    setup.feed(node(disk_available=5 * Gi), {"a": PodUsage()})
    setup.after_gc = Summary(node(disk_available=20 * Gi), {"a": PodUsage()})
    assert await setup.manager.synchronize() == []
    assert setup.image_gc_calls == 1
    assert setup.evicted() == []
    assert setup.manager.conditions == ["DiskPressure"]


async def test_disk_pressure_gc_cannot_relieve_evicts_the_biggest_user() -> None:
    setup = Setup([pod("small"), pod("big")], hard="nodefs.available<10%")
    usage = {"small": PodUsage((ContainerUsage("app", rootfs_used_bytes=Mi),)),
             "big": PodUsage((ContainerUsage("app", rootfs_used_bytes=Mi),),
                             {"scratch": VolumeUsage(3 * Gi)})}
    setup.pods[1]["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    setup.feed(node(disk_available=5 * Gi), usage)
    assert [p["metadata"]["name"] for p in await setup.manager.synchronize()] == ["big"]
    assert setup.image_gc_calls == 1
    assert setup.terminator.evicted[0][2].startswith(
        "The node was low on resource: ephemeral-storage. Threshold quantity: 10737418400, "
        "available: 5Gi. ")


async def test_min_reclaim_keeps_evicting_until_the_signal_clears_it() -> None:
    setup = Setup([pod("a"), pod("b")], reclaim="memory.available=500Mi")
    setup.feed(node(memory_available=900 * Mi), memory_of(a=Gi, b=Mi))
    assert setup.evicted() == [] and await setup.manager.synchronize()
    setup.pods.pop(0)
    setup.feed(node(memory_available=1200 * Mi), memory_of(b=Mi))  # above 1Gi, below 1.5Gi
    assert [p["metadata"]["name"] for p in await setup.manager.synchronize()] == ["b"]
    setup.pods.clear()
    setup.feed(node(memory_available=2 * Gi), {})
    assert await setup.manager.synchronize() == []
    setup.feed(node(memory_available=1200 * Mi), {})
    await setup.manager.synchronize()
    assert setup.evicted() == ["a", "b"]


async def test_stale_stats_do_not_evict_twice() -> None:
    setup = Setup([pod("a"), pod("b")])
    setup.source.current = Summary(node(memory_available=Mi), memory_of(a=Gi, b=Mi), time=5.0)
    assert await setup.manager.synchronize()
    setup.pods.pop(0)  # "a" is gone
    assert await setup.manager.synchronize() == []  # the same reading again
    setup.source.current = replace(setup.source.current, time=6.0)
    assert await setup.manager.synchronize()
    assert setup.evicted() == ["a", "b"]


@pytest.mark.parametrize("used,evicted", [
    pytest.param(2 * Mi, ["a"], id="over-the-size-limit"),
    pytest.param(Mi, [], id="at-the-size-limit"),
])
async def test_an_emptydir_over_its_size_limit_is_evicted_without_pressure(
        used: int, evicted: list[str]) -> None:
    setup = Setup([pod("a", size_limit="1Mi")])
    setup.feed(node(), {"a": PodUsage((), {"scratch": VolumeUsage(used)})})
    await setup.manager.synchronize()
    assert setup.evicted() == evicted
    if evicted:
        assert setup.terminator.evicted[0][1:] == (
            1.0, 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ', None)
    assert setup.manager.conditions == []


async def test_disk_pressure_refuses_every_pod_but_critical_ones() -> None:
    setup = Setup([], hard="imagefs.inodesFree<50%")
    setup.feed(NodeStats(imagefs=FsStats(Gi, Gi, 1000, 100)))
    await setup.manager.synchronize()
    assert setup.manager.conditions == ["DiskPressure"]
    assert setup.manager.admit(pod("x", memory="1Gi")) == (
        "Evicted", "The node had condition: [DiskPressure]. ")
    assert setup.manager.admit(pod("x", priority=2_000_000_000)) is None


async def test_pid_pressure_sets_its_condition() -> None:
    setup = Setup([], hard="pid.available<10%")
    setup.feed(NodeStats(max_pids=1000, running_processes=950))
    await setup.manager.synchronize()
    assert setup.manager.conditions == ["PIDPressure"]
