"""From a kubelet's /metrics/resource text to metric points (metrics-server's
pkg/scraper/client/resource/decode.go).

A point is what one scrape says about one container or one node: cumulative CPU time
(integer nanoseconds, as metrics-server keeps it), memory working set, the sample time
and, for containers, the start time that tells a restart apart from a counter that
went down. A container or node is kept only with both its CPU and memory samples and
a timestamp (a kubelet always stamps them); partial ones are dropped, as upstream's
checks drop them. Samples of other families are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kubelite.machinery.prometheus import parse

ContainerKey = tuple[str, str, str]  # namespace, pod, container

CONTAINER_CPU = "container_cpu_usage_seconds_total"
CONTAINER_MEMORY = "container_memory_working_set_bytes"
CONTAINER_START = "container_start_time_seconds"
NODE_CPU = "node_cpu_usage_seconds_total"
NODE_MEMORY = "node_memory_working_set_bytes"


@dataclass(frozen=True, slots=True)
class Point:
    timestamp_ms: int  # since the epoch, as the sample says
    cpu_nanoseconds: int  # cumulative
    memory_bytes: int
    start_time: float = 0.0


@dataclass(slots=True)
class NodeScrape:
    node: Point | None = None
    containers: dict[ContainerKey, Point] = field(default_factory=dict)


@dataclass(slots=True)
class _Partial:
    timestamp_ms: int = 0
    cpu: int | None = None
    memory: int | None = None
    start: float = 0.0

    def point(self) -> Point | None:
        if self.cpu is None or self.memory is None or self.timestamp_ms <= 0:
            return None
        return Point(self.timestamp_ms, self.cpu, self.memory, self.start)


def _usable(value: float) -> bool:
    return not math.isnan(value) and not math.isinf(value) and value >= 0


def decode(text: str) -> NodeScrape:
    """The points in a scrape. ParseError (a ValueError) for text that is not the
    exposition format."""
    node = _Partial()
    containers: dict[ContainerKey, _Partial] = {}
    for sample in parse(text):
        if sample.name in (NODE_CPU, NODE_MEMORY):
            target = node
        elif sample.name in (CONTAINER_CPU, CONTAINER_MEMORY, CONTAINER_START):
            labels = sample.labels
            key = (labels.get("namespace", ""), labels.get("pod", ""),
                   labels.get("container", ""))
            if not all(key):
                continue
            target = containers.setdefault(key, _Partial())
        else:
            continue
        if not _usable(sample.value):
            continue
        if sample.name == CONTAINER_START:
            target.start = sample.value
            continue
        if sample.timestamp_ms is None:
            continue
        if sample.name in (NODE_CPU, CONTAINER_CPU):
            # the CPU sample's time is the point's, as upstream takes it
            target.cpu = round(sample.value * 1e9)
            target.timestamp_ms = sample.timestamp_ms
        else:
            target.memory = int(sample.value)
            if not target.timestamp_ms:
                target.timestamp_ms = sample.timestamp_ms
    points = {key: p for key, partial in containers.items()
              if (p := partial.point()) is not None}
    return NodeScrape(node.point(), points)
