"""Which pod goes first (helpers.go rankMemoryPressure, rankDiskPressureFunc,
rankPIDPressure), as a sort key per signal.

- memory: pods whose working set exceeds their memory request first, then lower
  priority first, then the largest usage above the request first.
- disk (nodefs/imagefs space or inodes): the same with the pod's disk usage and its
  ephemeral-storage request. What counts as the pod's disk depends on where images
  live: on one filesystem every signal measures the writable layers, logs and local
  volumes (emptyDir, hostPath); with a dedicated imagefs nodefs measures logs and
  volumes and imagefs the writable layers.
- pids: lower priority first, then the most processes first.

A pod without stats goes before any pod with them, as upstream. The sort is stable,
so pods that tie keep the order they were given in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubelite.api.quota.pod_resources import pod_requests
from kubelite.kubelet.eviction.signals import PodUsage
from kubelite.kubelet.eviction.thresholds import (
    ALLOCATABLE_MEMORY_AVAILABLE, IMAGEFS_AVAILABLE, IMAGEFS_INODES_FREE, MEMORY_AVAILABLE,
    NODEFS_AVAILABLE, NODEFS_INODES_FREE, PID_AVAILABLE)

Obj = dict[str, Any]
SortKey = tuple[Any, ...]

ROOT, LOGS, VOLUMES = "root", "logs", "volumes"  # upstream's fsStatsType


def priority(pod: Obj) -> int:
    value = (pod.get("spec") or {}).get("priority")
    return value if isinstance(value, int) else 0


def request(pod: Obj, resource: str) -> int:
    """GetResourceRequestQuantity for memory or ephemeral-storage, in bytes."""
    amount = pod_requests(pod).get(resource)
    return amount.value() if amount is not None else 0


def local_volume_names(pod: Obj) -> list[str]:
    """localVolumeNames: hostPath and local ephemeral (emptyDir, configMap, secret,
    downwardAPI, projected... every volume kept on the node's disk) volumes."""
    local = ("hostPath", "emptyDir", "configMap", "secret", "downwardAPI", "projected")
    return [v.get("name", "") for v in (pod.get("spec") or {}).get("volumes") or ()
            if any(key in v for key in local)]


def disk_usage(pod: Obj, usage: PodUsage, measure: tuple[str, ...], *,
               inodes: bool = False) -> int:
    """podDiskUsage: bytes (or inodes) over what `measure` names."""
    total = 0
    for container in usage.containers:
        if ROOT in measure:
            total += container.rootfs_inodes_used if inodes else container.rootfs_used_bytes
        if LOGS in measure:
            total += container.logs_inodes_used if inodes else container.logs_used_bytes
    if VOLUMES in measure:
        for name in local_volume_names(pod):
            volume = usage.volumes.get(name)
            if volume is not None:
                total += volume.inodes_used if inodes else volume.used_bytes
    return total


def measured(signal: str, dedicated_image_fs: bool) -> tuple[str, ...]:
    """buildSignalToRankFunc's fs stats per disk signal."""
    if not dedicated_image_fs:
        return (ROOT, LOGS, VOLUMES)
    if signal in (NODEFS_AVAILABLE, NODEFS_INODES_FREE):
        return (LOGS, VOLUMES)
    return (ROOT,)


Ranker = Callable[[Obj, PodUsage | None], SortKey]


def _memory_key(pod: Obj, usage: PodUsage | None) -> SortKey:
    if usage is None:
        return (0,)
    above = usage.memory_working_set_bytes - request(pod, "memory")
    return (1, 0 if above > 0 else 1, priority(pod), -above)


def _disk_key(measure: tuple[str, ...], inodes: bool) -> Ranker:
    def key(pod: Obj, usage: PodUsage | None) -> SortKey:
        if usage is None:
            return (0,)
        used = disk_usage(pod, usage, measure, inodes=inodes)
        # upstream compares the inode count with the (absent) inode request, i.e. 0,
        # and subtracts the ephemeral-storage request in both cases
        requested = 0 if inodes else request(pod, "ephemeral-storage")
        above = used - request(pod, "ephemeral-storage")
        return (1, 0 if used > requested else 1, priority(pod), -above)
    return key


def _pid_key(pod: Obj, usage: PodUsage | None) -> SortKey:
    if usage is None:
        return (0,)
    return (1, priority(pod), -usage.process_count)


def ranker(signal: str, dedicated_image_fs: bool) -> Ranker | None:
    if signal in (MEMORY_AVAILABLE, ALLOCATABLE_MEMORY_AVAILABLE):
        return _memory_key
    if signal == PID_AVAILABLE:
        return _pid_key
    if signal in (NODEFS_AVAILABLE, IMAGEFS_AVAILABLE):
        return _disk_key(measured(signal, dedicated_image_fs), inodes=False)
    if signal in (NODEFS_INODES_FREE, IMAGEFS_INODES_FREE):
        return _disk_key(measured(signal, dedicated_image_fs), inodes=True)
    return None


def rank(pods: list[Obj], usage: Mapping[str, PodUsage], signal: str,
         dedicated_image_fs: bool = False) -> list[Obj]:
    """The pods in eviction order for the signal (unchanged for one without a rank)."""
    key = ranker(signal, dedicated_image_fs)
    if key is None:
        return list(pods)
    return sorted(pods, key=lambda p: key(p, usage.get(p["metadata"]["uid"])))
