"""What a simulated pod uses: the `sim.kubelite.io/usage` annotation, and the kubelet's
resource metrics (/metrics/resource) built from it.

The annotation is JSON, either for the whole pod or per container:

    sim.kubelite.io/usage: '{"cpu": "250m", "memory": "64Mi"}'
    sim.kubelite.io/usage: '{"app": {"cpu": "200m", "memory": "48Mi"}, "log": {"cpu": "5m"}}'

A pod-wide usage is split evenly over the containers that run (regular containers and
sidecars, i.e. init containers with restartPolicy Always); per container, a container
not named uses nothing. Without the annotation a pod uses nothing. A node uses what
its pods use plus a base for the system (NODE_BASE_CPU, NODE_BASE_MEMORY), as a real
node's working set is more than its pods'.

CPU is a cumulative counter in the exposition, so `CpuCounters` integrates each
container's current rate over the time since it was last read: between two scrapes at
a constant annotation, the rate a scraper computes is exactly the annotated one; when
the annotation changes, the new rate counts from the next scrape on. A container's
counter starts at 0 when its start time (containerStatuses startedAt) changes, as a
restarted container's does.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubelite.machinery.prometheus import Sample, format_family
from kubelite.machinery.quantity import parse_quantity
from kubelite.machinery.timestamps import parse_rfc3339

Obj = dict[str, Any]

USAGE = "sim.kubelite.io/usage"
NODE_BASE_CPU = 100_000_000  # nanocores: 100m for the system
NODE_BASE_MEMORY = 512 << 20  # bytes: 512Mi
_RESOURCES = ("cpu", "memory")


@dataclass(frozen=True, slots=True)
class Usage:
    nanocores: int = 0
    memory_bytes: int = 0


def _usage_of(value: Any, where: str) -> Usage:
    if not isinstance(value, dict) or not set(value) <= set(_RESOURCES):
        raise ValueError(f"{where}: expected {{\"cpu\": ..., \"memory\": ...}}, not "
                         f"{json.dumps(value)}")
    amounts: dict[str, int] = {}
    for resource in _RESOURCES:
        text = value.get(resource, "0")
        try:
            quantity = parse_quantity(str(text))
            if quantity.sign() < 0:
                raise ValueError("it is negative")
            amounts[resource] = (quantity.scaled_value(-9) if resource == "cpu"
                                 else quantity.value())
        except (ValueError, OverflowError) as err:
            raise ValueError(f"{where}: {resource} {text!r} is not a usable quantity: "
                             f"{err}") from None
    return Usage(amounts["cpu"], amounts["memory"])


def running_containers(pod: Obj) -> list[str]:
    """The names of the containers that run for the pod's lifetime: sidecars, then the
    regular containers."""
    spec = pod.get("spec") or {}
    sidecars = [str(c.get("name")) for c in spec.get("initContainers") or ()
                if c.get("restartPolicy") == "Always"]
    return sidecars + [str(c.get("name")) for c in spec.get("containers") or ()]


def container_usage(pod: Obj) -> dict[str, Usage]:
    """What each running container uses, by name. ValueError for a malformed annotation
    (the caller logs it; the pod then counts as using nothing)."""
    names = running_containers(pod)
    text = ((pod.get("metadata") or {}).get("annotations") or {}).get(USAGE)
    if text is None or not names:
        return {name: Usage() for name in names}
    try:
        value = json.loads(str(text))
    except ValueError:
        raise ValueError(f"{USAGE}: not JSON: {text!r}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{USAGE}: expected a JSON object, not {text!r}")
    if all(isinstance(v, dict) for v in value.values()) and value:
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{USAGE}: no running container named {', '.join(unknown)}")
        return {name: _usage_of(value.get(name, {}), f"{USAGE}[{name}]") for name in names}
    total = _usage_of(value, USAGE)
    # Evenly split; the first containers take the remainder, so the sum is exact.
    cpu, cpu_rest = divmod(total.nanocores, len(names))
    memory, memory_rest = divmod(total.memory_bytes, len(names))
    return {name: Usage(cpu + (i < cpu_rest), memory + (i < memory_rest))
            for i, name in enumerate(names)}


def container_start_times(pod: Obj) -> dict[str, float]:
    """Each running container's startedAt, in seconds since the epoch."""
    status = pod.get("status") or {}
    out: dict[str, float] = {}
    for entry in [*(status.get("initContainerStatuses") or ()),
                  *(status.get("containerStatuses") or ())]:
        started = ((entry.get("state") or {}).get("running") or {}).get("startedAt")
        moment = parse_rfc3339(str(started)) if started else None
        if moment is not None:
            out[str(entry.get("name"))] = moment.timestamp()
    return out


class CpuCounters:
    """Cumulative CPU seconds per node and per container, integrated from rates; kept
    per node, so a scrape touches only its own node's counters."""

    def __init__(self) -> None:
        # node -> key -> (nanoseconds so far, when last advanced in ms, start time)
        self._by_node: dict[str, dict[tuple[str, str], tuple[int, int, float]]] = {}

    def advance(self, node: str, key: tuple[str, str], nanocores: int, now_ms: int,
                started: float = 0.0) -> float:
        """The counter, in seconds, after running at `nanocores` since it was last read;
        a new counter (or one whose container restarted) counts from the start time.
        Integers throughout, so a scraper's rate over two readings is exact."""
        counters = self._by_node.setdefault(node, {})
        origin = min(int(started * 1000), now_ms) if started else now_ms
        nanoseconds, last, known_start = counters.get(key, (0, origin, started))
        if known_start != started:
            nanoseconds, last = 0, origin
        nanoseconds += nanocores * max(now_ms - last, 0) // 1000
        counters[key] = (nanoseconds, now_ms, started)
        return nanoseconds / 1e9

    def keep_only(self, node: str, keys: set[tuple[str, str]]) -> None:
        """Forget the node's counters of containers that no longer run."""
        counters = self._by_node.get(node)
        if counters is not None and len(counters) != len(keys):
            self._by_node[node] = {k: v for k, v in counters.items() if k in keys}

    def forget_node(self, node: str) -> None:
        self._by_node.pop(node, None)

    def __len__(self) -> int:
        return sum(len(c) for c in self._by_node.values())


_HELP = {
    "container_cpu_usage_seconds_total":
        "[STABLE] Cumulative cpu time consumed by the container in core-seconds",
    "container_memory_working_set_bytes":
        "[STABLE] Current working set of the container in bytes",
    "container_start_time_seconds":
        "[STABLE] Start time of the container since unix epoch in seconds",
    "node_cpu_usage_seconds_total":
        "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
    "node_memory_working_set_bytes": "[STABLE] Current working set of the node in bytes",
    "resource_scrape_error":
        "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
}


def resource_metrics(node: str, pods: Iterable[Obj], counters: CpuCounters,
                     now: datetime.datetime) -> str:
    """The node's /metrics/resource body: its running pods' containers and its own
    totals, every sample stamped `now` (the kubelet stamps each with its stats' time)."""
    ms = int(now.timestamp() * 1000)  # counters advance to the very time samples say
    cpu: list[Sample] = []
    memory: list[Sample] = []
    starts: list[Sample] = []
    node_cpu = NODE_BASE_CPU
    node_memory = NODE_BASE_MEMORY
    kept: set[tuple[str, str]] = {("", "")}  # the node's own counter
    error = 0
    for pod in pods:
        meta = pod.get("metadata") or {}
        namespace, name, uid = str(meta.get("namespace")), str(meta.get("name")), \
            str(meta.get("uid"))
        try:
            usages = container_usage(pod)
        except ValueError:
            usages = {c: Usage() for c in running_containers(pod)}
            error = 1
        started = container_start_times(pod)
        for container, usage in usages.items():
            if container not in started:
                continue  # not running (yet): the kubelet has no stats for it
            labels = {"container": container, "namespace": namespace, "pod": name}
            key = (uid, container)
            kept.add(key)
            seconds = counters.advance(node, key, usage.nanocores, ms, started[container])
            cpu.append(Sample("container_cpu_usage_seconds_total", labels, seconds, ms))
            memory.append(Sample("container_memory_working_set_bytes", labels,
                                 float(usage.memory_bytes), ms))
            starts.append(Sample("container_start_time_seconds", labels, started[container],
                                 ms))
            node_cpu += usage.nanocores
            node_memory += usage.memory_bytes
    node_seconds = counters.advance(node, ("", ""), node_cpu, ms)
    counters.keep_only(node, kept)
    families = [
        ("container_cpu_usage_seconds_total", "counter", cpu),
        ("container_memory_working_set_bytes", "gauge", memory),
        ("container_start_time_seconds", "gauge", starts),
        ("node_cpu_usage_seconds_total", "counter",
         [Sample("node_cpu_usage_seconds_total", {}, node_seconds, ms)]),
        ("node_memory_working_set_bytes", "gauge",
         [Sample("node_memory_working_set_bytes", {}, float(node_memory), ms)]),
        ("resource_scrape_error", "gauge", [Sample("resource_scrape_error", {}, error)]),
    ]
    return "".join(format_family(name, _HELP[name], type_, samples)
                   for name, type_, samples in families)
