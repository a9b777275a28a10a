"""The latest two points per node and per container, and the usage they give
(metrics-server's pkg/storage: node.go, pod.go, types.go).

Each scrape round hands over one batch (every node that answered). For each node and
container the new point becomes `last`; the old `last` moves to `prev` when the new
point is newer, or the old `prev` stays when it is still older than the new point. A
container whose start time changed (it restarted) keeps no `prev`. Whatever the batch
does not mention is forgotten: a node that did not answer, or a pod that is gone,
has no metrics until it is scraped twice again.

A container first seen between 10 s and one resolution after it started takes its
start as `prev` (CPU 0 then): its usage is there after one scrape instead of two, as
metrics-server does for fresh containers; a younger one waits for its second scrape,
as a window under 10 s gives too rough a rate.

Usage is `(last.cpu - prev.cpu) / (last.time - prev.time)` in nanocores, and the last
memory working set; the window is the time between the two points and the timestamp
the last one's. A counter that went down gives no usage. A pod has metrics only when
every container of it does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kubelite.metrics.decode import ContainerKey, NodeScrape, Point

log = logging.getLogger(__name__)

PodKey = tuple[str, str]  # namespace, name

DEFAULT_RESOLUTION = 15.0  # metrics-server's manifests say --metric-resolution=15s
# metrics-server's freshContainerMinMetricsResolution
FRESH_CONTAINER_MIN_WINDOW = 10.0


@dataclass(frozen=True, slots=True)
class Usage:
    timestamp: float
    window: float  # seconds
    nanocores: int
    memory_bytes: int


def usage_between(last: Point, prev: Point) -> Usage | None:
    """Usage over two points of one node or container; None when they give none."""
    window_ms = last.timestamp_ms - prev.timestamp_ms
    if window_ms <= 0 or last.cpu_nanoseconds < prev.cpu_nanoseconds:
        return None
    # in integers, to the nearest nanocore: a float window would be off by parts per
    # million, which kubectl's rounding up turns into 1001m for a full core
    used = (last.cpu_nanoseconds - prev.cpu_nanoseconds) * 1000
    nanocores = (2 * used + window_ms) // (2 * window_ms)
    return Usage(last.timestamp_ms / 1000, window_ms / 1000, nanocores, last.memory_bytes)


def _keep_prev(new: Point, last: Point | None, prev: Point | None) -> Point | None:
    if last is None or new.start_time != last.start_time:
        return None
    if new.timestamp_ms > last.timestamp_ms:
        return last
    if prev is not None and prev.timestamp_ms < new.timestamp_ms and \
            prev.start_time == new.start_time:
        return prev
    return None


def _fresh_start(new: Point, resolution: float) -> Point | None:
    """A point at the container's start, for a container started within
    [10 s, resolution) of `new`."""
    if not new.start_time:
        return None
    age = new.timestamp_ms / 1000 - new.start_time
    if not FRESH_CONTAINER_MIN_WINDOW <= age < resolution:
        return None
    return Point(round(new.start_time * 1000), 0, new.memory_bytes, new.start_time)


@dataclass(frozen=True, slots=True)
class PodUsage:
    timestamp: float
    window: float
    containers: tuple[tuple[str, Usage], ...]  # (name, usage), in scrape order


class MetricsStorage:
    def __init__(self, resolution: float = DEFAULT_RESOLUTION) -> None:
        self.resolution = resolution
        self._nodes_last: dict[str, Point] = {}
        self._nodes_prev: dict[str, Point] = {}
        self._containers_last: dict[ContainerKey, Point] = {}
        self._containers_prev: dict[ContainerKey, Point] = {}
        self._pods: dict[PodKey, list[str]] = {}  # pod -> its container names
        self.rounds = 0  # batches stored so far, for whoever waits on freshness

    def store(self, batch: dict[str, NodeScrape]) -> None:
        nodes_last: dict[str, Point] = {}
        nodes_prev: dict[str, Point] = {}
        containers_last: dict[ContainerKey, Point] = {}
        containers_prev: dict[ContainerKey, Point] = {}
        pods: dict[PodKey, list[str]] = {}
        for name, scrape in batch.items():
            if scrape.node is not None:
                nodes_last[name] = scrape.node
                kept = _keep_prev(scrape.node, self._nodes_last.get(name),
                                  self._nodes_prev.get(name))
                if kept is not None:
                    nodes_prev[name] = kept
            for key, point in scrape.containers.items():
                if key in containers_last:
                    log.warning("container %s/%s/%s reported by two nodes; the first kept",
                                *key)
                    continue
                containers_last[key] = point
                pods.setdefault((key[0], key[1]), []).append(key[2])
                kept = _fresh_start(point, self.resolution) or _keep_prev(
                    point, self._containers_last.get(key), self._containers_prev.get(key))
                if kept is not None:
                    containers_prev[key] = kept
        self._nodes_last, self._nodes_prev = nodes_last, nodes_prev
        self._containers_last, self._containers_prev = containers_last, containers_prev
        self._pods = pods
        self.rounds += 1

    def node_usage(self, name: str) -> Usage | None:
        last, prev = self._nodes_last.get(name), self._nodes_prev.get(name)
        if last is None or prev is None:
            return None
        return usage_between(last, prev)

    def pod_usage(self, namespace: str, name: str) -> PodUsage | None:
        containers = self._pods.get((namespace, name))
        if not containers:
            return None
        usages: list[tuple[str, Usage]] = []
        for container in containers:
            key = (namespace, name, container)
            prev = self._containers_prev.get(key)
            usage = usage_between(self._containers_last[key], prev) if prev else None
            if usage is None:
                return None  # one container without a rate: no metrics for the pod
            usages.append((container, usage))
        # the pod's time is its oldest container point's, and that point's window
        oldest = min((u for _, u in usages), key=lambda u: u.timestamp)
        return PodUsage(oldest.timestamp, oldest.window, tuple(usages))

    def pods(self) -> list[PodKey]:
        return list(self._pods)
