"""What client-go's EventCorrelator (tools/record/events_cache.go) decides before an
Event is written: whether it is spam, and whether it joins an aggregate.

- Spam filter: per source and involved object, a token bucket of 25 events refilled
  at one per 5 minutes. An event that finds the bucket empty is dropped. A ReplicaSet
  creating 10,000 pods therefore records its first 25 SuccessfulCreate events, not
  10,000 (each an API write and an object in the store).
- Aggregation: when one source reports about one object, with one type and reason,
  10 different messages within 10 minutes, the 10th and later become one Event whose
  message is "(combined from similar events): <latest message>" and whose count grows.

Both keep at most 4,096 keys (least recently used dropped), as upstream's LRU caches.
The clock is injectable, so the arithmetic is testable without waiting.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Obj = dict[str, Any]
Clock = Callable[[], float]

SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL = 600.0  # seconds
CACHE_ENTRIES = 4096
COMBINED_PREFIX = "(combined from similar events): "

V = TypeVar("V")


class _LRU(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)


def _object_key(event: Obj) -> str:
    source, ref = event.get("source") or {}, event.get("involvedObject") or {}
    return "\x00".join(str(part or "") for part in (
        source.get("component"), source.get("host"), ref.get("kind"), ref.get("namespace"),
        ref.get("name"), ref.get("uid"), ref.get("apiVersion")))


@dataclass
class _Bucket:
    tokens: float
    last: float


class SpamFilter:
    """upstream's EventSourceObjectSpamFilter."""

    def __init__(self, *, burst: int = SPAM_BURST, qps: float = SPAM_QPS,
                 clock: Clock = time.monotonic) -> None:
        self.burst, self.qps, self._clock = burst, qps, clock
        self._buckets: _LRU[_Bucket] = _LRU(CACHE_ENTRIES)

    def is_spam(self, event: Obj) -> bool:
        key, now = _object_key(event), self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
            self._buckets.put(key, bucket)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.last) * self.qps)
        bucket.last = now
        if bucket.tokens < 1.0:
            return True
        bucket.tokens -= 1.0
        return False


@dataclass
class _Similar:
    messages: set[str] = field(default_factory=set)
    last: float = 0.0


class Aggregator:
    """upstream's EventAggregator with EventAggregatorByReasonFunc."""

    def __init__(self, *, max_events: int = AGGREGATE_MAX_EVENTS,
                 interval: float = AGGREGATE_INTERVAL, clock: Clock = time.monotonic) -> None:
        self.max_events, self.interval, self._clock = max_events, interval, clock
        self._similar: _LRU[_Similar] = _LRU(CACHE_ENTRIES)

    def aggregate(self, event: Obj) -> tuple[Obj, bool]:
        """`(event, False)`, or once it is one of too many similar ones, the aggregate
        Event it becomes (same object, type and reason; the combined message) and True."""
        key = "\x00".join((_object_key(event), str(event.get("type") or ""),
                           str(event.get("reason") or ""),
                           str(event.get("reportingComponent") or ""),
                           str(event.get("reportingInstance") or "")))
        now = self._clock()
        similar = self._similar.get(key)
        if similar is None or now - similar.last > self.interval:
            similar = _Similar()
            self._similar.put(key, similar)
        similar.last = now
        similar.messages.add(str(event.get("message") or ""))
        if len(similar.messages) < self.max_events:
            return event, False
        return {**event, "message": COMBINED_PREFIX + str(event.get("message") or "")}, True
