from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from kubelite.client.controller import Controller, PermanentError, TemporaryError
from kubelite.client.ratelimiter import ItemExponentialFailureRateLimiter

WAIT = 5.0  # generous bound for conditions that should hold almost at once


async def eventually(check: Callable[[], bool]) -> None:
    """Await `check()` turning true (the loop runs the controller meanwhile)."""
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.001)
    await asyncio.wait_for(poll(), WAIT)


def leftover_tasks() -> list[str]:
    """The controller's own tasks (workers, timers) still alive."""
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("test-")]


@pytest.fixture
async def running() -> AsyncIterator[Callable[[Controller[str]], Awaitable[None]]]:
    """Start controllers in the test's loop; each is stopped (cancelled) afterwards,
    and the test fails if any task of theirs is left behind."""
    tasks: list[asyncio.Task[None]] = []

    async def start(controller: Controller[str]) -> None:
        tasks.append(asyncio.create_task(controller.run()))
        await asyncio.sleep(0)

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert leftover_tasks() == []


async def test_key_enqueued_during_its_sync_is_synced_again_after_never_alongside(
        running: Callable[[Controller[str]], Awaitable[None]]) -> None:
    release = asyncio.Event()
    active: set[str] = set()
    calls: list[str] = []
    overlapped = False

    async def sync(key: str) -> None:
        nonlocal overlapped
        overlapped = overlapped or key in active
        active.add(key)
        calls.append(key)
        try:
            if len(calls) == 1:
                await release.wait()
        finally:
            active.discard(key)

    controller = Controller("test", sync, workers=4)
    await running(controller)
    controller.enqueue("ns/a")
    await eventually(lambda: calls == ["ns/a"])
    for _ in range(3):
        controller.enqueue("ns/a")  # three adds while processing collapse into one
    release.set()
    await eventually(lambda: len(calls) == 2)
    controller.enqueue("ns/b")
    await eventually(lambda: "ns/b" in calls)
    assert calls == ["ns/a", "ns/a", "ns/b"] and not overlapped


async def test_workers_sync_different_keys_at_the_same_time(
        running: Callable[[Controller[str]], Awaitable[None]]) -> None:
    started: set[str] = set()
    both = asyncio.Event()

    async def sync(key: str) -> None:
        started.add(key)
        if len(started) == 2:
            both.set()
        await both.wait()  # a single worker would wait here forever

    controller = Controller("test", sync, workers=2)
    await running(controller)
    controller.enqueue("a")
    controller.enqueue("b")
    await asyncio.wait_for(both.wait(), WAIT)


async def test_failing_sync_is_retried_with_growing_backoff_and_forgotten_on_success(
        running: Callable[[Controller[str]], Awaitable[None]]) -> None:
    limiter = ItemExponentialFailureRateLimiter(base_delay=0.001, max_delay=0.01)
    requeues_seen: list[int] = []
    controller: Controller[str] = Controller("test", lambda key: sync(key),
                                             rate_limiter=limiter)

    async def sync(key: str) -> None:
        requeues_seen.append(controller.queue.num_requeues(key))
        if len(requeues_seen) <= 3:
            raise ConnectionError("store unreachable")

    await running(controller)
    controller.enqueue("k")
    await eventually(lambda: len(requeues_seen) == 4)
    # Each failure counted once more (so each wait doubles); the success forgets them.
    assert requeues_seen == [0, 1, 2, 3]
    await eventually(lambda: controller.queue.num_requeues("k") == 0)


async def test_temporary_error_retries_after_its_delay_without_counting_a_failure(
        running: Callable[[Controller[str]], Awaitable[None]]) -> None:
    calls = 0
    controller: Controller[str] = Controller("test", lambda key: sync(key))

    async def sync(key: str) -> None:
        nonlocal calls
        calls += 1
        assert controller.queue.num_requeues(key) == 0
        if calls < 3:
            raise TemporaryError("2 objects remain", delay=0.001)

    await running(controller)
    controller.enqueue("k")
    await eventually(lambda: calls == 3)


@pytest.mark.parametrize(("error", "expected_calls", "failures"), [
    (PermanentError("malformed object"), ["a", "b"], 0),
    (ValueError("a bug"), ["a", "b", "a"], 2),
    (TemporaryError("not yet"), ["a", "b", "a"], 2),
], ids=["permanent-error-not-retried", "other-error-retried-with-backoff",
        "temporary-error-without-delay-retried-with-backoff"])
async def test_what_a_sync_error_means_for_the_key(
        error: Exception, expected_calls: list[str], failures: int) -> None:
    calls: list[str] = []
    # No backoff and no pacing, so a retried key is back in the queue before "b" is synced.
    controller: Controller[str] = Controller(
        "test", lambda key: sync(key), pace=0.0,
        rate_limiter=ItemExponentialFailureRateLimiter(base_delay=0.0, max_delay=0.0))

    async def sync(key: str) -> None:
        calls.append(key)
        if key == "a":
            raise error
        controller.shutdown()  # drain what is queued, then stop

    controller.enqueue("a")
    controller.enqueue("b")
    await asyncio.wait_for(controller.run(), WAIT)
    assert calls == expected_calls
    assert controller.queue.num_requeues("a") == failures


async def test_a_slow_key_rests_before_its_next_sync_while_other_keys_go_on(
        running: Callable[[Controller[str]], Awaitable[None]]) -> None:
    synced: list[str] = []
    controller: Controller[str] = Controller("test", lambda key: sync(key), pace=1000.0)

    async def sync(key: str) -> None:
        synced.append(key)
        if synced == ["a"]:
            await asyncio.sleep(0.005)  # slow: a pause of MAX_HOLD follows
            controller.enqueue("a")  # changed meanwhile: synced again, after the pause
            controller.enqueue("b")

    await running(controller)
    controller.enqueue("a")
    await eventually(lambda: synced == ["a", "b"])
    assert controller.queue.is_processing("a")  # resting, not lost
    await eventually(lambda: synced == ["a", "b", "a"])


async def test_timer_enqueues_its_keys_until_shutdown_and_bad_key_source_is_survived(
        ) -> None:
    synced: list[str] = []
    ticks = 0

    def keys() -> list[str]:
        nonlocal ticks
        ticks += 1
        if ticks == 1:
            raise RuntimeError("lister not ready")
        return ["resync"]

    async def sync(key: str) -> None:
        synced.append(key)
        if len(synced) == 3:
            controller.shutdown()

    controller: Controller[str] = Controller("test", sync)
    controller.enqueue_every(0.001, keys)
    await asyncio.wait_for(controller.run(), WAIT)
    assert synced == ["resync"] * 3


async def test_shutdown_finishes_queued_keys_drops_delayed_ones_and_leaves_no_task(
        ) -> None:
    synced: list[str] = []

    async def sync(key: str) -> None:
        synced.append(key)

    controller: Controller[str] = Controller("test", sync, workers=3)
    controller.enqueue_every(3600, lambda: ["never"])
    controller.enqueue_after("later", 3600)
    for key in ("a", "b", "c", "d"):
        controller.enqueue(key)
    controller.shutdown()
    await asyncio.wait_for(controller.run(), WAIT)
    assert sorted(synced) == ["a", "b", "c", "d"]
    controller.enqueue("e")  # refused once shut down
    assert len(controller.queue) == 0
    assert leftover_tasks() == []


async def test_cancelling_run_cancels_the_sync_in_flight_and_leaves_no_task() -> None:
    entered = asyncio.Event()
    cancelled = asyncio.Event()

    async def sync(key: str) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    controller: Controller[str] = Controller("test", sync, workers=2)
    controller.enqueue_every(3600, lambda: ["k"])
    run = asyncio.create_task(controller.run())
    controller.enqueue("k")
    await asyncio.wait_for(entered.wait(), WAIT)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert cancelled.is_set() and controller.queue.shutting_down
    assert not controller.queue.is_processing("k")
    assert leftover_tasks() == []


@pytest.mark.parametrize("bad", [
    lambda: Controller("test", lambda key: asyncio.sleep(0), workers=0),
    lambda: Controller("test", lambda key: asyncio.sleep(0)).enqueue_every(0, list),
], ids=["no-workers", "zero-interval"])
def test_nonsense_configuration_is_refused(bad: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        bad()
