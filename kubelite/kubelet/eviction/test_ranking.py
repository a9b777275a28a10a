"""Eviction order as upstream's rank functions (helpers_test.go TestOrderedbyMemory,
TestOrderedByExceedsRequestMemory, TestOrderedByPriority, TestOrderedbyDisk,
TestOrderedbyInodes, TestOrderedByPid)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.eviction.ranking import rank
from kubelite.kubelet.eviction.signals import ContainerUsage, PodUsage, VolumeUsage

Obj = dict[str, Any]
Mi = 1 << 20


def pod(name: str, *, memory: str = "", storage: str = "", priority: int | None = None,
        volumes: tuple[str, ...] = ()) -> Obj:
    requests = {k: v for k, v in (("memory", memory), ("ephemeral-storage", storage)) if v}
    spec: Obj = {"containers": [{"name": "app", "resources": {"requests": requests}}],
                 "volumes": [{"name": v, "emptyDir": {}} for v in volumes]}
    if priority is not None:
        spec["priority"] = priority
    return {"metadata": {"name": name, "uid": name}, "spec": spec}


def used(memory: int = 0, rootfs: int = 0, logs: int = 0, volume: int = 0, inodes: int = 0,
         processes: int = 0) -> PodUsage:
    return PodUsage((ContainerUsage("app", memory, rootfs, logs, inodes, 0),),
                    {"data": VolumeUsage(volume, 0)}, processes)


@pytest.mark.parametrize("signal,pods,usage,expected", [
    pytest.param("memory.available",
                 [pod("below", memory="200Mi"), pod("above", memory="100Mi")],
                 {"below": used(memory=150 * Mi), "above": used(memory=120 * Mi)},
                 ["above", "below"], id="memory-above-request-first"),
    pytest.param("memory.available",
                 [pod("high", priority=100), pod("low", priority=-10), pod("none")],
                 {"high": used(memory=500 * Mi), "low": used(memory=10 * Mi),
                  "none": used(memory=50 * Mi)},
                 ["low", "none", "high"], id="memory-then-lower-priority-first"),
    pytest.param("memory.available",
                 [pod("small", memory="100Mi"), pod("big", memory="100Mi"), pod("best-effort")],
                 {"small": used(memory=150 * Mi), "big": used(memory=400 * Mi),
                  "best-effort": used(memory=200 * Mi)},
                 ["big", "best-effort", "small"], id="memory-then-most-above-request-first"),
    pytest.param("memory.available", [pod("known"), pod("unknown")],
                 {"known": used(memory=900 * Mi)}, ["unknown", "known"],
                 id="a-pod-without-stats-first"),
    pytest.param("nodefs.available",
                 [pod("below", storage="1Gi"), pod("above", storage="10Mi", volumes=("data",))],
                 {"below": used(rootfs=500 * Mi), "above": used(volume=20 * Mi)},
                 ["above", "below"], id="disk-above-request-first-counting-emptydirs"),
    pytest.param("imagefs.available",
                 [pod("logs"), pod("layers")],
                 {"logs": used(logs=300 * Mi), "layers": used(rootfs=200 * Mi)},
                 ["logs", "layers"], id="disk-shared-fs-counts-logs-and-layers"),
    pytest.param("nodefs.inodesFree", [pod("few"), pod("many")],
                 {"few": used(inodes=10), "many": used(inodes=1000)},
                 ["many", "few"], id="inodes-most-first"),
    pytest.param("pid.available", [pod("few"), pod("many"), pod("low", priority=-1)],
                 {"few": used(processes=2), "many": used(processes=90), "low": used(processes=1)},
                 ["low", "many", "few"], id="pids-priority-then-most-processes"),
])
def test_pods_are_ranked_as_upstream(signal: str, pods: list[Obj], usage: dict[str, PodUsage],
                                     expected: list[str]) -> None:
    assert [p["metadata"]["name"] for p in rank(pods, usage, signal)] == expected


def test_with_a_dedicated_imagefs_nodefs_counts_logs_and_volumes_only() -> None:
    pods = [pod("layers"), pod("logs")]
    usage = {"layers": used(rootfs=900 * Mi), "logs": used(logs=10 * Mi)}
    names = [p["metadata"]["name"] for p in rank(pods, usage, "nodefs.available", True)]
    assert names == ["logs", "layers"]
    names = [p["metadata"]["name"] for p in rank(pods, usage, "imagefs.available", True)]
    assert names == ["layers", "logs"]
