"""cgroup readings on both layouts, from directories laid out as the kernel's are."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kubelite.kubelet.runtime.runc.cgroups import Usage, cgroups_path, oom_killed, read_usage, remove_cgroups

Layout = Callable[..., dict[str, str]]


def v1(tmp_path: Path, *, oom_kill: int = 0) -> dict[str, str]:
    memory, cpuacct = tmp_path / "memory" / "c", tmp_path / "cpuacct" / "c"
    memory.mkdir(parents=True)
    cpuacct.mkdir(parents=True)
    (memory / "memory.usage_in_bytes").write_text("10000\n")
    (memory / "memory.stat").write_text("cache 5000\nrss 3000\ntotal_inactive_file 4000\ntotal_rss 3500\n")
    (memory / "memory.oom_control").write_text(f"oom_kill_disable 0\nunder_oom 0\noom_kill {oom_kill}\n")
    (cpuacct / "cpuacct.usage").write_text("123456789\n")
    return {"memory": str(memory), "cpuacct": str(cpuacct), "": str(tmp_path / "unified" / "c")}


def v2(tmp_path: Path, *, oom_kill: int = 0) -> dict[str, str]:
    unified = tmp_path / "c"
    unified.mkdir()
    (unified / "memory.current").write_text("20000\n")
    (unified / "memory.stat").write_text("anon 7000\nfile 9000\ninactive_file 25000\n")
    (unified / "memory.events").write_text(f"low 0\nhigh 0\nmax 3\noom 1\noom_kill {oom_kill}\n")
    (unified / "cpu.stat").write_text("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
    return {"": str(unified)}


@pytest.mark.parametrize(
    "layout, usage",
    [
        (v1, Usage(cpu_ns=123456789, memory_usage=10000, memory_working_set=6000, memory_rss=3500)),
        (v2, Usage(cpu_ns=1500000, memory_usage=20000, memory_working_set=0, memory_rss=7000)),
    ],
    ids=["v1-hybrid", "v2-working-set-never-negative"],
)
def test_usage_is_read_as_cadvisor_reads_it(tmp_path: Path, layout: Layout, usage: Usage) -> None:
    assert read_usage(layout(tmp_path)) == usage


@pytest.mark.parametrize("layout", [v1, v2], ids=["v1", "v2"])
def test_oom_kill_count_says_oomkilled(tmp_path: Path, layout: Layout) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert not oom_killed(layout(tmp_path / "a"))
    assert oom_killed(layout(tmp_path / "b", oom_kill=1))


def test_a_container_without_cgroups_reads_as_nothing() -> None:
    assert read_usage({}) == Usage() and not oom_killed({})


def test_cgroups_path_is_absolute_under_the_root() -> None:
    assert cgroups_path("/kubelite", "kubepods/burstable/pod1", "c1") == "/kubelite/kubepods/burstable/pod1/c1"
    assert cgroups_path("/kubelite", "", "c1") == "/kubelite/c1"


def test_removal_climbs_to_the_root_while_parents_are_empty(tmp_path: Path) -> None:
    for controller in ("memory", "cpu"):
        (tmp_path / controller / "kubelite" / "pod1" / "c1").mkdir(parents=True)
        (tmp_path / controller / "kubelite" / "pod1" / "c2").mkdir(parents=True)
    paths = {c: str(tmp_path / c / "kubelite" / "pod1" / "c1") for c in ("memory", "cpu")}
    remove_cgroups(paths, "/kubelite/pod1/c1", "/kubelite")
    # c2 still in the pod: the pod's cgroup and the root stay
    assert sorted(p.name for p in (tmp_path / "memory" / "kubelite" / "pod1").iterdir()) == ["c2"]
    paths = {c: str(tmp_path / c / "kubelite" / "pod1" / "c2") for c in ("memory", "cpu")}
    remove_cgroups(paths, "/kubelite/pod1/c2", "/kubelite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpu", "memory"]
    assert list((tmp_path / "memory").iterdir()) == []
