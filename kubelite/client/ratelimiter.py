"""Rate limiters for the work queue: how long to wait before retrying an item.

The same three shapes as client-go's util/workqueue/default_rate_limiters.go:

- `ItemExponentialFailureRateLimiter`: per item, base * 2**failures, capped (a key
  that keeps failing backs off to the cap; `forget` resets it after a success);
- `BucketRateLimiter`: one token bucket for all items (qps, burst), so a storm of
  failures across many keys cannot flood the API server;
- `MaxOfRateLimiter`: the longest delay of several.

`default_controller_rate_limiter()` is client-go's DefaultControllerRateLimiter:
exponential 5 ms .. 1000 s per item, max'ed with a 10 qps / 100 burst bucket.

Limiters are synchronous and not thread-safe: they live in one event loop. The clock
is injectable (`clock=`) so the arithmetic is testable without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Protocol

Clock = Callable[[], float]


class RateLimiter(Protocol):
    def when(self, item: Hashable) -> float:
        """Seconds to wait before `item` is handed out again; records one failure."""
        ...

    def forget(self, item: Hashable) -> None:
        """Stop tracking `item` (it succeeded); its next failure starts afresh."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """Failures recorded for `item` since it was last forgotten."""
        ...


class ItemExponentialFailureRateLimiter:
    def __init__(self, *, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        exp = self._failures.get(item, 0)
        self._failures[item] = exp + 1
        # Past 2**64 the float overflows long before; cap the exponent, then the delay.
        if exp > 62:
            return self.max_delay
        return min(float(self.base_delay * (2 ** exp)), self.max_delay)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter:
    """A token bucket shared by every item: `burst` retries at once, then `qps`."""

    def __init__(self, *, qps: float = 10.0, burst: int = 100,
                 clock: Clock = time.monotonic) -> None:
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def when(self, item: Hashable) -> float:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
        self._last = now
        # Reserve a token even if it is not there yet: the debt is what makes the
        # next caller wait longer, as golang.org/x/time/rate's Reserve does.
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, item: Hashable) -> None:
        pass

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    def __init__(self, *limiters: RateLimiter) -> None:
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        # Every limiter must see the failure, so no short-circuit.
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(clock: Clock = time.monotonic) -> RateLimiter:
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(base_delay=0.005, max_delay=1000.0),
        BucketRateLimiter(qps=10.0, burst=100, clock=clock))
