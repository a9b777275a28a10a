"""What the eviction manager observes: the node's signals and each pod's usage
(upstream's makeSignalObservations over the stats Summary API).

A StatsSource gives one `Summary`: the node's memory, filesystems and process count,
and per pod its containers' memory working set, writable layers and logs, and its
local volumes' usage. host.py reads a real node; tests hand in summaries of their own,
so no test depends on how loaded the machine is.

`observations(summary)` turns the node's figures into signals as upstream does:
- memory.available: capacity - working set (the root cgroup's usage less its inactive
  file pages), its capacity available + working set;
- nodefs/imagefs .available and .inodesFree from the filesystems' statfs;
- pid.available: max pids - running processes.
A figure the source could not read leaves its signal unobserved, and thresholds on an
unobserved signal are skipped, as upstream's "no observation found".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kubelite.kubelet.eviction.thresholds import (
    IMAGEFS_AVAILABLE, IMAGEFS_INODES_FREE, MEMORY_AVAILABLE, NODEFS_AVAILABLE,
    NODEFS_INODES_FREE, PID_AVAILABLE)


@dataclass(frozen=True)
class FsStats:
    capacity_bytes: int
    available_bytes: int
    inodes: int | None = None
    inodes_free: int | None = None
    device: int = 0  # st_dev: imagefs is dedicated when it differs from nodefs's


@dataclass(frozen=True)
class NodeStats:
    memory_capacity_bytes: int | None = None
    memory_working_set_bytes: int | None = None
    nodefs: FsStats | None = None
    imagefs: FsStats | None = None
    max_pids: int | None = None
    running_processes: int | None = None


@dataclass(frozen=True)
class ContainerUsage:
    name: str
    memory_working_set_bytes: int = 0
    rootfs_used_bytes: int = 0  # the writable layer
    logs_used_bytes: int = 0
    rootfs_inodes_used: int = 0
    logs_inodes_used: int = 0


@dataclass(frozen=True)
class VolumeUsage:
    used_bytes: int
    inodes_used: int = 0


@dataclass(frozen=True)
class PodUsage:
    containers: tuple[ContainerUsage, ...] = ()
    volumes: Mapping[str, VolumeUsage] = field(default_factory=dict)  # by volume name
    process_count: int = 0

    @property
    def memory_working_set_bytes(self) -> int:
        return sum(c.memory_working_set_bytes for c in self.containers)


@dataclass(frozen=True)
class Summary:
    node: NodeStats
    pods: Mapping[str, PodUsage] = field(default_factory=dict)  # by pod uid
    time: float = 0.0  # when it was read (the manager's clock)


class StatsSource(Protocol):
    async def summary(self) -> Summary:
        """One reading of the node and of the pods it runs."""
        ...


@dataclass(frozen=True)
class Observation:
    available: int
    capacity: int


Observations = dict[str, Observation]


def observations(summary: Summary) -> Observations:
    node = summary.node
    out: Observations = {}
    if node.memory_capacity_bytes is not None and node.memory_working_set_bytes is not None:
        available = max(0, node.memory_capacity_bytes - node.memory_working_set_bytes)
        out[MEMORY_AVAILABLE] = Observation(available,
                                            available + node.memory_working_set_bytes)
    for fs, space, inodes in ((node.nodefs, NODEFS_AVAILABLE, NODEFS_INODES_FREE),
                              (node.imagefs, IMAGEFS_AVAILABLE, IMAGEFS_INODES_FREE)):
        if fs is None:
            continue
        out[space] = Observation(fs.available_bytes, fs.capacity_bytes)
        if fs.inodes is not None and fs.inodes_free is not None:
            out[inodes] = Observation(fs.inodes_free, fs.inodes)
    if node.max_pids is not None and node.running_processes is not None:
        out[PID_AVAILABLE] = Observation(node.max_pids - node.running_processes, node.max_pids)
    return out


def dedicated_image_fs(node: NodeStats) -> bool:
    """HasDedicatedImageFs: the images live on a filesystem of their own."""
    return (node.nodefs is not None and node.imagefs is not None
            and node.nodefs.device != node.imagefs.device)
