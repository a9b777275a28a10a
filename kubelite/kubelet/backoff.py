"""Back-off per key, as client-go's flowcontrol.Backoff which the kubelet uses for
crash loops (CrashLoopBackOff) and image pulls (ImagePullBackOff).

`next(key, event_time)` starts a key at `initial` or doubles it up to `maximum`;
`in_backoff_since(key, event_time)` says whether a restart must still wait after an
event (a container's exit). An entry is forgotten when the event came more than twice
the maximum after its last update: a container that ran 10 minutes before it failed
again restarts at once, as upstream. Times are seconds on an injected monotonic clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    def __init__(self, initial: float, maximum: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        return event_time - entry.last_update > 2 * self.maximum

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def next(self, key: str, event_time: float) -> None:
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            self._entries[key] = _Entry(self.initial, self.clock())
            return
        entry.backoff = min(entry.backoff * 2, self.maximum)
        entry.last_update = self.clock()

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        """Whether less than the key's back-off has passed since `event_time`."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return self.clock() - event_time < entry.backoff

    def in_backoff_since_update(self, key: str) -> bool:
        """Whether less than the key's back-off has passed since its last failure."""
        entry = self._entries.get(key)
        if entry is None:
            return False
        now = self.clock()
        if now - entry.last_update > 2 * self.maximum:
            return False
        return now - entry.last_update < entry.backoff

    def remaining(self, key: str, event_time: float) -> float:
        """Seconds until `in_backoff_since(key, event_time)` turns false."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, event_time + entry.backoff - self.clock())

    def remaining_since_update(self, key: str) -> float:
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.last_update + entry.backoff - self.clock())

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        """Drop every key of one pod (`<uid>/...`) when it is gone."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]
