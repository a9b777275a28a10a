"""Back-off for replacing failed daemon pods (upstream's failedPodsBackoff, a client-go
flowcontrol.Backoff keyed `<ds uid>/<node>`: 1 s initial, doubling, 15 min cap).

A daemon pod that fails at once on its node would otherwise be deleted and recreated
as fast as the loop syncs. Each deletion of a failed pod on a node starts (or doubles)
that node's back-off; while it runs, the failed pod stays and the DaemonSet is looked
at again when it ends. An entry untouched for twice the cap starts over at 1 s.
The clock is injectable; single event loop, no locks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

INITIAL = 1.0
MAXIMUM = 15 * 60.0


@dataclass(slots=True)
class _Entry:
    delay: float
    updated: float


class FailedPodBackoff:
    def __init__(self, *, initial: float = INITIAL, maximum: float = MAXIMUM,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def remaining(self, key: str) -> float:
        """Seconds until `key` may delete a failed pod again (0: now)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.updated + entry.delay - self.clock())

    def next(self, key: str) -> None:
        """A failed pod is being deleted: start or double the key's back-off."""
        now = self.clock()
        entry = self._entries.get(key)
        if entry is None or now - entry.updated > 2 * self.maximum:
            self._entries[key] = _Entry(self.initial, now)
        else:
            entry.delay = min(entry.delay * 2, self.maximum)
            entry.updated = now

    def forget_prefix(self, prefix: str) -> None:
        """Drop every key of a deleted DaemonSet."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]
