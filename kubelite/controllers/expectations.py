"""Expectations: what a loop has asked the API for and not yet seen in its informers
(upstream's ControllerExpectations and UIDTrackingControllerExpectations,
pkg/controller/controller_utils.go).

A loop that creates 5 pods and syncs again before its pod informer has delivered them
would count 0 of its pods and create 5 more. So before writing it records how many
creations (and which deletions) it expects for its key, the informer's event handlers
mark each one observed, and the loop only manages replicas again once the key is
*satisfied*:

- no record for the key (never expected anything, or deleted): satisfied;
- every expected creation and deletion observed (counts at or below zero): satisfied;
- the record is older than `timeout` (5 minutes, as upstream): satisfied, so a lost
  watch event costs one stale sync at worst, never a stuck loop;
- otherwise not: the sync still writes status but neither creates nor deletes.

Deletions are tracked by pod key, as UIDTrackingControllerExpectations does, because a
graceful deletion is seen twice (an update with deletionTimestamp, then the delete):
only the first sighting of an expected key lowers the count.

A creation that was never sent (slow start stopped early) or a deletion that failed
must be marked observed by the loop itself, since no informer event will ever come.
Single event loop: no locks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EXPECTATIONS_TIMEOUT = 5 * 60.0  # upstream's ExpectationsTimeout


@dataclass(slots=True)
class Expectation:
    add: int
    delete: int
    timestamp: float
    deleting: set[str] = field(default_factory=set)

    def fulfilled(self) -> bool:
        return self.add <= 0 and self.delete <= 0


class ControllerExpectations:
    def __init__(self, *, timeout: float = EXPECTATIONS_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self._records: dict[str, Expectation] = {}

    def get(self, key: str) -> Expectation | None:
        return self._records.get(key)

    def satisfied(self, key: str) -> bool:
        record = self._records.get(key)
        if record is None or record.fulfilled():
            return True
        return self.clock() - record.timestamp > self.timeout

    def expect_creations(self, key: str, count: int) -> None:
        """Replace the key's record: `count` creations expected, no deletions."""
        self._records[key] = Expectation(count, 0, self.clock())

    def expect_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        """Replace the key's record: the deletion of each of `pod_keys` expected."""
        keys = set(pod_keys)
        self._records[key] = Expectation(0, len(keys), self.clock(), keys)

    def expect(self, key: str, creations: int, pod_keys: Iterable[str]) -> None:
        """Replace the key's record: `creations` and the deletion of each of `pod_keys`."""
        keys = set(pod_keys)
        self._records[key] = Expectation(creations, len(keys), self.clock(), keys)

    def creation_observed(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.add -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        """Count the deletion of `pod_key` once, and only if it was expected."""
        record = self._records.get(key)
        if record is not None and pod_key in record.deleting:
            record.deleting.discard(pod_key)
            record.delete -= 1

    def forget(self, key: str) -> None:
        """Drop the key's record (its owner is gone)."""
        self._records.pop(key, None)
