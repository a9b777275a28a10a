"""The node's own Summary for the eviction manager, read from the host and the runtime.

- memory: capacity from /proc/meminfo MemTotal; the working set as cadvisor computes
  the root cgroup's: usage less inactive file pages (cgroup v1: the memory
  controller's root memory.usage_in_bytes and memory.stat total_inactive_file; on
  cgroup v2 the root has no usage file, so usage is MemTotal - MemFree and the
  inactive file pages come from /proc/meminfo's Inactive(file)).
- nodefs: statfs of the kubelet's root dir; imagefs: statfs of the image store (the
  same filesystem when they share a device).
- pids: min(kernel.pid_max, kernel.threads-max) and the tasks the kernel schedules
  (/proc/loadavg's fourth field), as upstream's pidlimit package.
- per pod: each running container's working set and writable layer (CRI
  ListContainerStats), its log files' size, and the pod's local ephemeral volumes
  (emptyDir, configMap, secret, projected, downwardAPI: what lies under
  <pods dir>/<uid>/volumes/kubernetes.io~<plugin>/<name>, counted in blocks and inodes
  as du would, not crossing into other filesystems).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.eviction.signals import (
    ContainerUsage, FsStats, NodeStats, PodUsage, Summary, VolumeUsage)
from kubelite.kubelet.stats import read_meminfo

CGROUP_V1_MEMORY = Path("/sys/fs/cgroup/memory")
# the volumes kept on the node for the pod alone (upstream's IsLocalEphemeralVolume)
LOCAL_PLUGIN_DIRS = frozenset(f"kubernetes.io~{name}" for name in (
    "empty-dir", "configmap", "secret", "projected", "downward-api"))


def _stat_file(path: Path) -> dict[str, int]:
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value)
    return out


def memory_working_set(proc: Path = Path("/proc"),
                       cgroup_v1: Path = CGROUP_V1_MEMORY) -> tuple[int, int]:
    """(capacity, working set) bytes of the node."""
    info = read_meminfo(proc)
    capacity = info.get("MemTotal", 0)
    usage_file = cgroup_v1 / "memory.usage_in_bytes"
    if usage_file.exists():
        usage = int(usage_file.read_text())
        inactive = _stat_file(cgroup_v1 / "memory.stat").get("total_inactive_file", 0)
    else:
        usage = capacity - info.get("MemFree", 0)
        inactive = info.get("Inactive(file)", 0)
    return capacity, max(0, usage - inactive)


def fs_stats(path: Path) -> FsStats:
    st = os.statvfs(path)
    return FsStats(capacity_bytes=st.f_blocks * st.f_frsize,
                   available_bytes=st.f_bavail * st.f_frsize,
                   inodes=st.f_files, inodes_free=st.f_ffree, device=os.stat(path).st_dev)


def pid_stats(proc: Path = Path("/proc")) -> tuple[int, int]:
    """(max pids, running processes)."""
    limits = [int((proc / "sys/kernel" / name).read_text())
              for name in ("pid_max", "threads-max") if (proc / "sys/kernel" / name).exists()]
    running = int((proc / "loadavg").read_text().split()[3].split("/")[1])
    return min(limits), running


def tree_usage(root: Path) -> tuple[int, int]:
    """(bytes in blocks, inodes) under `root`, each hard link once, not crossing into
    other filesystems' mounts other than root's own."""
    try:
        top = os.lstat(root)
    except OSError:
        return 0, 0
    seen: set[tuple[int, int]] = set()
    used, inodes = 0, 0
    stack = [root]
    while stack:
        path = stack.pop()
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        used += st.st_blocks * 512
        inodes += 1
        if os.path.isdir(path) and not os.path.islink(path) and st.st_dev == top.st_dev:
            try:
                stack.extend(Path(path) / name for name in os.listdir(path))
            except OSError:
                continue
    return used, inodes


class HostStats:
    """A StatsSource over this host and its runtime."""

    def __init__(self, runtime: cri.RuntimeService, *, pods_dir: Path, nodefs: Path,
                 imagefs: Path | None = None, log_dir: Callable[[str, str, str], str],
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`log_dir(namespace, name, uid)`: where the kubelet keeps a pod's logs."""
        self.runtime = runtime
        self.pods_dir = pods_dir
        self.nodefs = nodefs
        self.imagefs = imagefs
        self.log_dir = log_dir
        self.clock = clock

    async def summary(self) -> Summary:
        sandboxes = {s.id: s.metadata for s in await self.runtime.list_pod_sandboxes()}
        running = {c.id: c for c in await self.runtime.list_containers()
                   if c.state is cri.ContainerState.RUNNING}
        stats = await self.runtime.list_container_stats()
        return await asyncio.to_thread(self._read, sandboxes, running, stats)

    def _read(self, sandboxes: dict[str, cri.PodSandboxMetadata],
              running: dict[str, cri.ContainerStatus], stats: list[cri.ContainerStats]) -> Summary:
        capacity, working_set = memory_working_set()
        max_pids, processes = pid_stats()
        nodefs = fs_stats(_existing(self.nodefs))
        imagefs = fs_stats(_existing(self.imagefs)) if self.imagefs is not None else nodefs
        containers: dict[str, list[ContainerUsage]] = {}
        pods: dict[str, cri.PodSandboxMetadata] = {}
        for stat in stats:
            container, meta = running.get(stat.id), sandboxes.get(stat.pod_sandbox_id)
            if container is None or meta is None:
                continue
            pods[meta.uid] = meta
            name = container.metadata.name
            logs = Path(self.log_dir(meta.namespace, meta.name, meta.uid)) / name
            log_bytes, log_inodes = tree_usage(logs)
            containers.setdefault(meta.uid, []).append(ContainerUsage(
                name, memory_working_set_bytes=stat.memory_working_set_bytes,
                rootfs_used_bytes=stat.writable_layer_used_bytes,
                logs_used_bytes=log_bytes, logs_inodes_used=log_inodes))
        for meta in sandboxes.values():
            pods.setdefault(meta.uid, meta)
        usage = {uid: PodUsage(tuple(containers.get(uid, ())), self.volumes(uid))
                 for uid in pods}
        return Summary(NodeStats(capacity, working_set, nodefs, imagefs, max_pids, processes),
                       usage, self.clock())

    def volumes(self, uid: str) -> dict[str, VolumeUsage]:
        out: dict[str, VolumeUsage] = {}
        plugins = self.pods_dir / uid / "volumes"
        try:
            plugin_dirs = list(plugins.iterdir())
        except OSError:
            return out
        for plugin in plugin_dirs:
            if plugin.name not in LOCAL_PLUGIN_DIRS:
                continue  # a persistent volume is not the pod's ephemeral storage
            try:
                volumes = list(plugin.iterdir())
            except OSError:
                continue
            for volume in volumes:
                used, inodes = tree_usage(volume)
                out[volume.name] = VolumeUsage(used, inodes)
        return out


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
