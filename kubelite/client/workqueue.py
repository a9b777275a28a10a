"""The controllers' work queue: fair, deduplicating, rate-limited (client-go's
util/workqueue queue.go, delaying_queue.go and rate_limiting_queue.go in one class).

Guarantees, as upstream:
- Stingy: an item added while it waits in the queue is queued once. Items are handed
  out in the order they were first added.
- Never twice at once: an item handed out by `get()` is "processing" until `done()`;
  adding it meanwhile marks it dirty, and `done()` puts it back at the end of the queue,
  so the latest change is processed after the current run, never alongside it.
- `add_after(item, delay)` adds later; several pending delays for one item keep the
  earliest. `add_rate_limited(item)` waits as long as the rate limiter says (by default
  5 ms doubling per failure up to 1000 s, and at most 10 qps overall after a burst of
  100); `forget(item)` clears the item's failure count after a success.
- `done(item, hold=d)` keeps the item "processing" for `d` seconds more: adds meanwhile
  mark it dirty and it is queued once the hold ends, so one item is not handed out
  again sooner than that however often it is added (the controllers' pacing).
- `shutdown()` refuses new adds and drops pending delays and holds; `get()` still hands out what
  is queued, then returns None to every caller, which is the workers' signal to exit.

Everything runs in one event loop; the queue is not thread-safe.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from kubelite.client.ratelimiter import RateLimiter, default_controller_rate_limiter

T = TypeVar("T", bound=Hashable)


class WorkQueue(Generic[T]):
    def __init__(self, *, rate_limiter: RateLimiter | None = None, name: str = "") -> None:
        self.name = name
        self._rate_limiter = rate_limiter or default_controller_rate_limiter()
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()  # needs processing (queued, or re-add while processing)
        self._processing: set[T] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._delayed: dict[T, tuple[float, asyncio.TimerHandle]] = {}
        self._held: dict[T, asyncio.TimerHandle] = {}
        self._shutting_down = False

    # --- adding -----------------------------------------------------------------

    def add(self, item: T) -> None:
        if self._shutting_down or item in self._dirty:
            return
        self._dirty.add(item)
        if item in self._processing:
            return  # done() re-queues it
        self._queue.append(item)
        self._wake_one()

    def add_after(self, item: T, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        loop = asyncio.get_running_loop()
        at = loop.time() + delay
        pending = self._delayed.get(item)
        if pending is not None:
            if pending[0] <= at:
                return  # an earlier add is already scheduled
            pending[1].cancel()
        self._delayed[item] = (at, loop.call_at(at, self._add_delayed, item))

    def _add_delayed(self, item: T) -> None:
        self._delayed.pop(item, None)
        self.add(item)

    def add_rate_limited(self, item: T) -> None:
        self.add_after(item, self._rate_limiter.when(item))

    def forget(self, item: T) -> None:
        self._rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self._rate_limiter.num_requeues(item)

    # --- taking -----------------------------------------------------------------

    async def get(self) -> T | None:
        """The next item, waiting for one; None once shut down and drained. The caller
        must call `done(item)` when finished with it."""
        while not self._queue:
            if self._shutting_down:
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # we were woken for an item we will not take
                elif waiter in self._waiters:  # a wake-up or shutdown may have popped it
                    self._waiters.remove(waiter)
                raise
        item = self._queue.popleft()
        self._processing.add(item)
        self._dirty.discard(item)
        return item

    def done(self, item: T, *, hold: float = 0.0) -> None:
        """Finished with `item`; with `hold`, it stays processing that many seconds more."""
        if hold > 0 and not self._shutting_down:
            self._held[item] = asyncio.get_running_loop().call_later(
                hold, self._release, item)
            return
        self._release(item)

    def _release(self, item: T) -> None:
        self._held.pop(item, None)
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    # --- lifecycle ----------------------------------------------------------------

    def shutdown(self) -> None:
        self._shutting_down = True
        for _, handle in self._delayed.values():
            handle.cancel()
        self._delayed.clear()
        for item, handle in self._held.items():
            handle.cancel()
            self._processing.discard(item)
        self._held.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def __len__(self) -> int:
        """Items waiting to be handed out (not those processing or delayed)."""
        return len(self._queue)

    def is_processing(self, item: T) -> bool:
        return item in self._processing
