"""A keyed heap: a priority queue of items, each under a key, that can be updated or
removed by key (upstream's pkg/scheduler/backend/heap).

heapq does the sifting in C; the `less` function decides the order through the
entries' `__lt__`. Updates and deletions are lazy: the old entry is marked dead and
skipped when it surfaces, and the heap is rebuilt once dead entries outnumber live
ones, so every operation stays O(log n) amortised. Items that `less` ranks equal come
out in the order they were pushed, which keeps the queue deterministic.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class _Entry(Generic[T]):
    __slots__ = ("item", "seq", "less", "alive")

    def __init__(self, item: T, seq: int, less: Callable[[T, T], bool]) -> None:
        self.item, self.seq, self.less, self.alive = item, seq, less, True

    def __lt__(self, other: _Entry[T]) -> bool:
        if self.less(self.item, other.item):
            return True
        if self.less(other.item, self.item):
            return False
        return self.seq < other.seq


class KeyedHeap(Generic[T]):
    def __init__(self, *, less: Callable[[T, T], bool]) -> None:
        self._less = less
        self._heap: list[_Entry[T]] = []
        self._live: dict[str, _Entry[T]] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: str) -> bool:
        return key in self._live

    def get(self, key: str) -> T | None:
        entry = self._live.get(key)
        return entry.item if entry is not None else None

    def items(self) -> Iterator[T]:
        return (entry.item for entry in self._live.values())

    def push(self, key: str, item: T) -> None:
        """Add the item, or replace the one under `key` and re-sort it."""
        self.remove(key)
        entry = _Entry(item, next(self._seq), self._less)
        self._live[key] = entry
        heapq.heappush(self._heap, entry)

    def remove(self, key: str) -> T | None:
        entry = self._live.pop(key, None)
        if entry is None:
            return None
        entry.alive = False
        if len(self._heap) > 2 * len(self._live) + 64:
            self._heap = [e for e in self._heap if e.alive]
            heapq.heapify(self._heap)
        return entry.item

    def peek(self) -> T | None:
        while self._heap and not self._heap[0].alive:
            heapq.heappop(self._heap)
        return self._heap[0].item if self._heap else None

    def pop(self, key_of: Callable[[T], str]) -> T | None:
        while self._heap:
            entry = heapq.heappop(self._heap)
            if entry.alive:
                del self._live[key_of(entry.item)]
                return entry.item
        return None
