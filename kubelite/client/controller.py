"""The controller runner: N workers taking keys from a WorkQueue and calling `sync(key)`.

Every control loop in kubelite has the shape of an upstream controller
(pkg/controller/namespace/namespace_controller.go: worker -> processNextWorkItem ->
syncNamespaceFromKey): event handlers only turn an object into a key and `enqueue` it;
all the work happens in `sync(key)`. This module is that loop, written once.

The contract of `sync(key)`:
- Level-triggered and idempotent. It reads the current state (a lister, the watch
  cache), compares it with what should be, acts, and returns. Being called again for
  the same key with nothing changed does nothing; being called for a key whose object
  is gone cleans up (or does nothing) and returns.
- Never called twice at once for one key (the WorkQueue guarantees it), however many
  workers run; keys enqueued while their sync runs are synced once more afterwards.
- Its outcome decides what happens to the key:
    returns                     success: the key's failure count is forgotten;
    raises TemporaryError(d)    not done yet, expected (objects still being deleted):
                                re-added after `d` seconds, or with the rate limiter's
                                backoff when `d` is None; logged at debug level only;
    raises PermanentError       cannot succeed by retrying (a malformed object): logged,
                                forgotten, not retried until the key is enqueued again;
    raises anything else        a failure (an outage, a bug): logged with the key and
                                its traceback, re-added with the rate limiter's backoff
                                (5 ms doubling to 1000 s per key, 10 qps overall).
  `asyncio.CancelledError` is never caught: cancelling `run()` stops a sync midway,
  so a sync must leave things in a state the next sync can pick up from.

Pacing: after a sync that took `t` seconds, its key is not synced again for another
PACE * t seconds (changes meanwhile are not lost: the key is synced once the pause
ends). Upstream's loops run on as many cores as Go has; here every loop, the scheduler
and the API server share one, and a sync whose cost grows with the cluster (a
ReplicaSet of 10,000 pods walks them all) would, re-enqueued by every pod it owns,
take nearly all of it. Paced (for at most MAX_HOLD), one busy key uses at most 1 / (1 + PACE) of the time and
its events are batched into fewer syncs; a sync of a millisecond is not held at all.

Periodic work (a compaction, a repair pass, a resync of every object) uses
`enqueue_every(interval, keys)`: a timer that enqueues keys; it never runs a sync
itself, so a slow sync and a tick never overlap and pending ticks collapse into one.

Lifecycle: `run()` runs the workers and timers in one TaskGroup until `shutdown()`
(workers finish what is already queued, then return; pending delayed adds are dropped)
or until it is cancelled (a sync in flight is cancelled). Either way no task is left
behind, and the queue is shut down so later adds are ignored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

from kubelite.client.ratelimiter import RateLimiter
from kubelite.client.workqueue import WorkQueue

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

Sync = Callable[[K], Awaitable[None]]

PACE = 3.0  # a key rests PACE times as long as its last sync took (module docstring)
MIN_HOLD = 0.002  # seconds: shorter holds are not worth a timer
MAX_HOLD = 1.0  # seconds: a sync slow from waiting on a remote server is not held long


class TemporaryError(Exception):
    """The sync cannot finish yet, and that is expected: retry the key later.

    `delay` is the wait in seconds; None means the rate limiter's backoff."""

    def __init__(self, message: str = "", *, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(Exception):
    """Retrying the key cannot help until something about it changes: give up on it
    (it is synced again when it is next enqueued)."""


class Controller(Generic[K]):
    """Runs `sync(key)` for every key enqueued, with `workers` keys in flight at most."""

    def __init__(self, name: str, sync: Sync[K], *, workers: int = 1,
                 rate_limiter: RateLimiter | None = None, pace: float = PACE) -> None:
        if workers < 1:
            raise ValueError(f"a controller needs at least one worker, not {workers}")
        self.name = name
        self.sync = sync
        self.workers = workers
        self.pace = pace
        self.queue: WorkQueue[K] = WorkQueue(rate_limiter=rate_limiter, name=name)
        self._timers: list[tuple[float, Callable[[], Iterable[K]]]] = []
        self._running = False

    def enqueue(self, key: K) -> None:
        """Ask for `sync(key)`; a key already waiting is not queued twice. Safe to call
        from any event handler (it never blocks), and a no-op once shut down."""
        self.queue.add(key)

    def enqueue_after(self, key: K, delay: float) -> None:
        self.queue.add_after(key, delay)

    def enqueue_every(self, interval: float, keys: Callable[[], Iterable[K]]) -> None:
        """While running, enqueue `keys()` every `interval` seconds (the first time one
        interval after `run()` starts). Register before `run()`."""
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        if self._running:
            raise RuntimeError(f"controller {self.name} is already running")
        self._timers.append((interval, keys))

    async def run(self) -> None:
        """Run the workers and timers until `shutdown()` or cancellation."""
        if self._running:
            raise RuntimeError(f"controller {self.name} is already running")
        self._running = True
        log.debug("starting controller %s with %d workers", self.name, self.workers)
        try:
            async with asyncio.TaskGroup() as group:
                timers = [group.create_task(self._tick(interval, keys),
                                            name=f"{self.name}-timer-{i}")
                          for i, (interval, keys) in enumerate(self._timers)]
                workers = [group.create_task(self._worker(), name=f"{self.name}-worker-{i}")
                           for i in range(self.workers)]
                # Timers run forever; once every worker has seen the queue shut down
                # and drained, they are stopped so the group can end.
                await asyncio.wait(workers)
                for timer in timers:
                    timer.cancel()
        finally:
            self.queue.shutdown()
            self._running = False
            log.debug("controller %s stopped", self.name)

    def shutdown(self) -> None:
        """Refuse new keys and let the workers finish the queued ones, then `run()`
        returns. Keys waiting for a retry delay are dropped."""
        self.queue.shutdown()

    async def _tick(self, interval: float, keys: Callable[[], Iterable[K]]) -> None:
        while not self.queue.shutting_down:
            await asyncio.sleep(interval)
            try:
                for key in keys():
                    self.queue.add(key)
            except Exception:
                # A broken key source must not stop the timer: the next tick tries again.
                log.exception("controller %s: listing keys to resync failed", self.name)

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        while (key := await self.queue.get()) is not None:  # None: shut down and drained
            started = loop.time()
            try:
                await self._process(key)
            finally:
                hold = min(MAX_HOLD, self.pace * (loop.time() - started))
                self.queue.done(key, hold=hold if hold >= MIN_HOLD else 0.0)

    async def _process(self, key: K) -> None:
        """One sync of `key` and what its outcome means for the key (see the module
        docstring); the caller calls `queue.done(key)` afterwards."""
        try:
            await self.sync(key)
        except TemporaryError as err:
            log.debug("controller %s: %r not done yet: %s", self.name, key, err)
            if err.delay is None:
                self.queue.add_rate_limited(key)
            else:
                self.queue.add_after(key, err.delay)
        except PermanentError as err:
            log.error("controller %s: giving up on %r: %s", self.name, key, err)
            self.queue.forget(key)
        except Exception:
            log.exception("controller %s: sync of %r failed; retrying with backoff",
                          self.name, key)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)
