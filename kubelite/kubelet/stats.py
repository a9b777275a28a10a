"""A real node's usage: the kubelet's /metrics/resource and /stats/summary.

Upstream's kubelet asks the runtime for every container's stats (CRI
ListContainerStats, read from cgroups) and the host for the node's own, and serves
them twice: as Prometheus text at /metrics/resource, which metrics-server scrapes for
`kubectl top` and the HPA, and as JSON at /stats/summary (pkg/kubelet/server/stats,
the Summary API of k8s.io/kubelet/pkg/apis/stats/v1alpha1). Both are built here from
one reading, so they never disagree.

Which pod a container belongs to comes from the runtime itself: each container names
its sandbox, and a sandbox carries the pod's name, namespace and uid (CRI metadata),
so stats need nothing from the pod workers. The node's CPU is the host's busy time
from /proc/stat and its memory working set MemTotal - MemAvailable from /proc/meminfo:
a node is the whole host, so the host's figures are the node's (upstream reads the
same from the root cgroup).

usageNanoCores, a rate, needs two readings: the previous reading of each container
(and of the node) is kept, so the second summary onwards carries it, as upstream's
cadvisor-less CRI stats provider does.
"""

from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelite.kubelet import cri
from kubelite.machinery.prometheus import Sample, format_family

Obj = dict[str, Any]

_HELP = {
    "container_cpu_usage_seconds_total": "[STABLE] Cumulative cpu time consumed by the container in core-seconds",
    "container_memory_working_set_bytes": "[STABLE] Current working set of the container in bytes",
    "container_start_time_seconds": "[STABLE] Start time of the container since unix epoch in seconds",
    "pod_cpu_usage_seconds_total": "[STABLE] Cumulative cpu time consumed by the pod in core-seconds",
    "pod_memory_working_set_bytes": "[STABLE] Current working set of the pod in bytes",
    "node_cpu_usage_seconds_total": "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
    "node_memory_working_set_bytes": "[STABLE] Current working set of the node in bytes",
    "resource_scrape_error": "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
}

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class HostUsage:
    timestamp: int  # ns
    cpu_core_nanoseconds: int  # busy time of all CPUs since boot
    memory_total_bytes: int
    memory_available_bytes: int

    @property
    def memory_working_set_bytes(self) -> int:
        return self.memory_total_bytes - self.memory_available_bytes


def read_meminfo(proc: Path = Path("/proc")) -> dict[str, int]:
    """/proc/meminfo's fields, in bytes where the kernel says kB."""
    meminfo: dict[str, int] = {}
    for line in (proc / "meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            meminfo[key] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return meminfo


def read_host_usage(proc: Path = Path("/proc")) -> HostUsage:
    """The host's busy CPU time (all but idle and iowait) and its memory."""
    fields = (proc / "stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
    busy = sum(ticks) - ticks[3] - ticks[4]
    meminfo = read_meminfo(proc)
    return HostUsage(
        timestamp=_now_ns(),
        cpu_core_nanoseconds=busy * 1_000_000_000 // _TICKS,
        memory_total_bytes=meminfo.get("MemTotal", 0),
        memory_available_bytes=meminfo.get("MemAvailable", meminfo.get("MemFree", 0)),
    )


def _now_ns() -> int:
    return time.time_ns()


@dataclass(frozen=True)
class ContainerReading:
    namespace: str
    pod: str
    pod_uid: str
    name: str
    started_at: int  # ns
    stats: cri.ContainerStats


@dataclass(frozen=True)
class Reading:
    node: HostUsage
    containers: tuple[ContainerReading, ...]


async def read(runtime: cri.RuntimeService) -> Reading:
    """One reading of the node and of every running container."""
    sandboxes = {s.id: s.metadata for s in await runtime.list_pod_sandboxes()}
    running = {
        c.id: c for c in await runtime.list_containers() if c.state is cri.ContainerState.RUNNING
    }
    containers = []
    for stats in await runtime.list_container_stats():
        status = running.get(stats.id)
        pod = sandboxes.get(stats.pod_sandbox_id)
        if status is None or pod is None:
            continue  # exited, or its sandbox just went
        containers.append(
            ContainerReading(pod.namespace, pod.name, pod.uid, status.metadata.name, status.started_at, stats)
        )
    return Reading(read_host_usage(), tuple(containers))


def resource_metrics(reading: Reading) -> str:
    """The /metrics/resource body, as upstream's kubelet writes it."""
    families: dict[str, list[Sample]] = {name: [] for name in _HELP}
    pods: dict[tuple[str, str], list[cri.ContainerStats]] = {}
    for c in reading.containers:
        ms = c.stats.timestamp // 1_000_000
        labels = {"container": c.name, "namespace": c.namespace, "pod": c.pod}
        families["container_cpu_usage_seconds_total"].append(
            Sample("container_cpu_usage_seconds_total", labels, c.stats.cpu_usage_core_nanoseconds / 1e9, ms)
        )
        families["container_memory_working_set_bytes"].append(
            Sample("container_memory_working_set_bytes", labels, float(c.stats.memory_working_set_bytes), ms)
        )
        families["container_start_time_seconds"].append(
            Sample("container_start_time_seconds", labels, c.started_at / 1e9, ms)
        )
        pods.setdefault((c.namespace, c.pod), []).append(c.stats)
    for (namespace, pod), stats in pods.items():
        labels = {"namespace": namespace, "pod": pod}
        ms = max(s.timestamp for s in stats) // 1_000_000
        families["pod_cpu_usage_seconds_total"].append(
            Sample("pod_cpu_usage_seconds_total", labels, sum(s.cpu_usage_core_nanoseconds for s in stats) / 1e9, ms)
        )
        families["pod_memory_working_set_bytes"].append(
            Sample("pod_memory_working_set_bytes", labels, float(sum(s.memory_working_set_bytes for s in stats)), ms)
        )
    node = reading.node
    ms = node.timestamp // 1_000_000
    families["node_cpu_usage_seconds_total"].append(
        Sample("node_cpu_usage_seconds_total", {}, node.cpu_core_nanoseconds / 1e9, ms)
    )
    families["node_memory_working_set_bytes"].append(
        Sample("node_memory_working_set_bytes", {}, float(node.memory_working_set_bytes), ms)
    )
    families["resource_scrape_error"].append(Sample("resource_scrape_error", {}, 0.0))
    types = {name: ("counter" if name.endswith("_total") else "gauge") for name in _HELP}
    return "".join(format_family(name, _HELP[name], types[name], samples) for name, samples in families.items())


class Summary:
    """/stats/summary, with usageNanoCores from the previous reading."""

    def __init__(self, node_name: str, started: datetime.datetime) -> None:
        self.node_name = node_name
        self.started = started
        self._previous: dict[str, tuple[int, int]] = {}  # id -> (timestamp, cpu ns)

    def _rate(self, key: str, timestamp: int, cpu: int) -> int | None:
        before = self._previous.get(key)
        self._previous[key] = (timestamp, cpu)
        if before is None or timestamp <= before[0] or cpu < before[1]:
            return None
        return (cpu - before[1]) * 1_000_000_000 // (timestamp - before[0])

    def render(self, reading: Reading) -> Obj:
        node = reading.node
        pods: dict[str, Obj] = {}
        seen = {"node"}
        for c in reading.containers:
            seen.add(c.stats.id)
            when = _rfc3339(c.stats.timestamp)
            cpu = _cpu(when, c.stats.cpu_usage_core_nanoseconds, self._rate(c.stats.id, c.stats.timestamp, c.stats.cpu_usage_core_nanoseconds))
            memory = {
                "time": when,
                "usageBytes": c.stats.memory_usage_bytes,
                "workingSetBytes": c.stats.memory_working_set_bytes,
                "rssBytes": c.stats.memory_rss_bytes,
            }
            pod = pods.setdefault(
                c.pod_uid,
                {"podRef": {"name": c.pod, "namespace": c.namespace, "uid": c.pod_uid}, "containers": []},
            )
            pod["containers"].append({"name": c.name, "startTime": _rfc3339(c.started_at), "cpu": cpu, "memory": memory})
        for pod in pods.values():
            pod["startTime"] = min(c["startTime"] for c in pod["containers"])
            pod["cpu"] = _sum(pod["containers"], "cpu", ("usageNanoCores", "usageCoreNanoSeconds"))
            pod["memory"] = _sum(pod["containers"], "memory", ("usageBytes", "workingSetBytes", "rssBytes"))
        self._previous = {k: v for k, v in self._previous.items() if k in seen}
        when = _rfc3339(node.timestamp)
        return {
            "node": {
                "nodeName": self.node_name,
                "startTime": self.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "cpu": _cpu(when, node.cpu_core_nanoseconds, self._rate("node", node.timestamp, node.cpu_core_nanoseconds)),
                "memory": {
                    "time": when,
                    "availableBytes": node.memory_available_bytes,
                    "usageBytes": node.memory_working_set_bytes,
                    "workingSetBytes": node.memory_working_set_bytes,
                },
            },
            "pods": list(pods.values()),
        }


def _cpu(when: str, total: int, rate: int | None) -> Obj:
    cpu: Obj = {"time": when, "usageCoreNanoSeconds": total}
    if rate is not None:
        cpu["usageNanoCores"] = rate
    return cpu


def _sum(containers: list[Obj], part: str, fields: tuple[str, ...]) -> Obj:
    total: Obj = {"time": max(c[part]["time"] for c in containers)}
    for field in fields:
        values = [c[part][field] for c in containers if field in c[part]]
        if len(values) == len(containers):
            total[field] = sum(values)
    return total


def _rfc3339(ns: int) -> str:
    return datetime.datetime.fromtimestamp(ns / 1e9, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

