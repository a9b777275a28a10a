"""The watch cache keeps a resource's recent events, as upstream's dynamic history: at
least HISTORY_MIN of them, beyond that only those fresher than the freshness window."""

from __future__ import annotations

from pathlib import Path

import orjson

from kubelite.apiserver.watchcache import HISTORY_MIN, SWEEP_SECONDS, Cache
from kubelite.storage.backend import Event, EventType, KeyValue
from kubelite.storage.factory import open_backend

PODS = "/registry/core/pods/"
LEASES = "/registry/coordination.k8s.io/leases/"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def put(prefix: str, name: str, rev: int) -> Event:
    value = orjson.dumps({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": name, "namespace": "ns"}})
    return Event(EventType.PUT, KeyValue(f"{prefix}ns/{name}", value, rev, rev))


def cache(clock: Clock, tmp_path: Path) -> Cache:
    # never started: the tests feed it the store's events by hand
    return Cache(open_backend(f"sqlite://{tmp_path}/db"), fresh=75.0, clock=clock)


def test_a_burst_is_trimmed_to_the_fresh_events_but_never_below_the_minimum(
        tmp_path: Path) -> None:
    clock = Clock()
    c = cache(clock, tmp_path)
    c._apply([put(PODS, f"p{i}", i) for i in range(1, 301)])
    assert c.watch(PODS, PODS, 0) is not None  # everything is fresh: all replayable
    clock.now += 76
    c._apply([put(PODS, "late", 301)])  # a new event trims what went stale
    assert c.oldest_revision(PODS) == 301 - HISTORY_MIN
    assert c.watch(PODS, PODS, 200) is None  # 410: older than the history
    replay = c.watch(PODS, PODS, 290)
    assert replay is not None and [e.revision for e in replay.queue] == list(range(291, 302))


def test_a_quiet_resource_is_trimmed_by_the_sweep_of_another_ones_events(
        tmp_path: Path) -> None:
    clock = Clock()
    c = cache(clock, tmp_path)
    c._apply([put(PODS, f"p{i}", i) for i in range(1, 301)])
    clock.now += 76 + SWEEP_SECONDS
    c._apply([put(LEASES, "node-0", 301)])  # only leases change from now on
    assert c.oldest_revision(PODS) == 300 - HISTORY_MIN
