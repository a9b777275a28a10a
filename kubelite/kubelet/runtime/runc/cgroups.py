"""A container's cgroups: where they go, what they say (stats, OOM kills), and
clearing the pod's parent cgroups once the last container is gone.

Containers live at `<cgroup root>/<pod cgroup_parent>/<container id>` (the root is
`/kubelite` unless told otherwise), absolute in each hierarchy as upstream's
/kubepods is, so that on cgroup v2 the kubelet's own cgroup never has to hold
controllers for children. runc makes and removes the container's own cgroup;
where it put it comes from runc's state.json (`Runc.cgroup_paths`), which covers
cgroup v1 (one directory per controller; this machine, hybrid) and v2 (one
directory, key "").

Memory figures follow upstream's cadvisor: the working set is usage minus inactive
file pages (never below 0); RSS is v1's total_rss or v2's anon.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def cgroups_path(root: str, parent: str, container_id: str) -> str:
    parts = [p for p in (root.strip("/"), parent.strip("/"), container_id) if p]
    return "/" + "/".join(parts)


@dataclass(frozen=True, slots=True)
class Usage:
    cpu_ns: int = 0
    memory_usage: int = 0
    memory_working_set: int = 0
    memory_rss: int = 0


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _read_keyed(path: Path) -> dict[str, int]:
    values = {}
    try:
        text = path.read_text()
    except OSError:
        return {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        try:
            values[key] = int(value)
        except ValueError:
            continue
    return values


def is_v1(paths: Mapping[str, str]) -> bool:
    return "memory" in paths


def read_usage(paths: Mapping[str, str]) -> Usage:
    if is_v1(paths):
        memory = Path(paths["memory"])
        usage = _read_int(memory / "memory.usage_in_bytes")
        stat = _read_keyed(memory / "memory.stat")
        cpu = _read_int(Path(paths.get("cpuacct", paths.get("cpu,cpuacct", ""))) / "cpuacct.usage")
        inactive = stat.get("total_inactive_file", 0)
        rss = stat.get("total_rss", 0)
    elif "" in paths:
        unified = Path(paths[""])
        usage = _read_int(unified / "memory.current")
        stat = _read_keyed(unified / "memory.stat")
        cpu = _read_keyed(unified / "cpu.stat").get("usage_usec", 0) * 1000
        inactive = stat.get("inactive_file", 0)
        rss = stat.get("anon", 0)
    else:
        return Usage()
    return Usage(
        cpu_ns=cpu,
        memory_usage=usage,
        memory_working_set=max(usage - inactive, 0),
        memory_rss=rss,
    )


def oom_killed(paths: Mapping[str, str]) -> bool:
    """Whether the kernel OOM-killed a process of the cgroup (v1 memory.oom_control's
    oom_kill, v2 memory.events' oom_kill)."""
    if is_v1(paths):
        return _read_keyed(Path(paths["memory"]) / "memory.oom_control").get("oom_kill", 0) > 0
    if "" in paths:
        return _read_keyed(Path(paths[""]) / "memory.events").get("oom_kill", 0) > 0
    return False


def remove_cgroups(paths: Mapping[str, str], cgroups_path: str, root: str) -> None:
    """Removes the container's cgroups (if runc left them) and then their parents up to
    and including the runtime's root, each only while empty: another container or pod
    keeps its own."""
    parts = [p for p in cgroups_path.strip("/").split("/") if p]
    keep = len([p for p in root.strip("/").split("/") if p]) - 1
    for directory in paths.values():
        if not directory.endswith(cgroups_path):
            continue
        hierarchy = directory[: len(directory) - len(cgroups_path)]
        for depth in range(len(parts), max(keep, 0), -1):
            try:
                os.rmdir(os.path.join(hierarchy, *parts[:depth]))
            except FileNotFoundError:
                continue
            except OSError:
                break  # busy or not empty: someone else's still
