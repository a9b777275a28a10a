"""Reading the node's signals from /proc and cgroup files (fed here as files of the
test's own) and a pod's local volumes from disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubelite.kubelet.eviction.host import HostStats, memory_working_set, pid_stats, tree_usage
from kubelite.kubelet.runtime.host import HostRuntime

MEMINFO = "MemTotal: 8000000 kB\nMemFree: 1000000 kB\nInactive(file): 2000000 kB\n"


@pytest.mark.parametrize("cgroup_v1,expected", [
    # usage 5 GB less 1 GB inactive file pages
    pytest.param({"memory.usage_in_bytes": "5000000000\n",
                  "memory.stat": "cache 1\ntotal_inactive_file 1000000000\n"},
                 (8_192_000_000, 4_000_000_000), id="cgroup-v1-root"),
    # no root usage file: MemTotal - MemFree - Inactive(file)
    pytest.param({}, (8_192_000_000, 5_120_000_000), id="cgroup-v2-meminfo"),
])
def test_the_working_set_is_usage_less_inactive_file(tmp_path: Path, cgroup_v1: dict[str, str],
                                                     expected: tuple[int, int]) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "meminfo").write_text(MEMINFO)
    (tmp_path / "memory").mkdir()
    for name, text in cgroup_v1.items():
        (tmp_path / "memory" / name).write_text(text)
    assert memory_working_set(tmp_path / "proc", tmp_path / "memory") == expected


def test_pids_are_the_smaller_limit_and_the_scheduled_tasks(tmp_path: Path) -> None:
    (tmp_path / "sys" / "kernel").mkdir(parents=True)
    (tmp_path / "sys" / "kernel" / "pid_max").write_text("4194304\n")
    (tmp_path / "sys" / "kernel" / "threads-max").write_text("127000\n")
    (tmp_path / "loadavg").write_text("0.10 0.20 0.30 2/345 9999\n")
    assert pid_stats(tmp_path) == (127000, 345)


def test_a_volume_counts_its_blocks_and_inodes_and_hard_links_once(tmp_path: Path) -> None:
    volume = tmp_path / "scratch"
    (volume / "sub").mkdir(parents=True)
    (volume / "sub" / "data").write_bytes(os.urandom(3 * 4096))
    os.link(volume / "sub" / "data", volume / "again")
    used, inodes = tree_usage(volume)
    assert inodes == 3  # scratch, sub, data (its second name is the same inode)
    assert used >= 3 * 4096 and used < 3 * 4096 + 3 * 64 * 1024
    assert tree_usage(tmp_path / "missing") == (0, 0)


def test_a_pods_local_volumes_are_measured_and_its_persistent_ones_not(
        tmp_path: Path) -> None:
    pods = tmp_path / "pods"
    scratch = pods / "uid-1" / "volumes" / "kubernetes.io~empty-dir" / "scratch"
    claim = pods / "uid-1" / "volumes" / "kubernetes.io~local-volume" / "data"
    for directory in (scratch, claim):
        directory.mkdir(parents=True)
        (directory / "file").write_bytes(os.urandom(8192))
    stats = HostStats(HostRuntime(tmp_path / "host", "127.0.0.1"), pods_dir=pods,
                      nodefs=tmp_path, log_dir=lambda ns, name, uid: str(tmp_path / "logs"))
    volumes = stats.volumes("uid-1")
    assert set(volumes) == {"scratch"}
    assert volumes["scratch"].used_bytes >= 8192 and volumes["scratch"].inodes_used == 2
