from __future__ import annotations

import asyncio

import pytest

from kubelite.client.ratelimiter import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    default_controller_rate_limiter,
)
from kubelite.client.workqueue import WorkQueue


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("failures", "expected"), [
    (0, 0.005), (1, 0.01), (2, 0.02), (10, 5.12), (17, 655.36), (18, 1000.0), (200, 1000.0),
], ids=["first", "second", "third", "eleventh", "below-cap", "capped", "huge-exponent"])
def test_exponential_limiter_doubles_per_failure_up_to_cap(failures: int, expected: float
                                                           ) -> None:
    limiter = ItemExponentialFailureRateLimiter()
    for _ in range(failures):
        limiter.when("k")
    assert limiter.when("k") == pytest.approx(expected)
    assert limiter.num_requeues("k") == failures + 1


def test_exponential_limiter_forget_resets_only_that_item() -> None:
    limiter = ItemExponentialFailureRateLimiter()
    limiter.when("a"), limiter.when("a"), limiter.when("b")
    limiter.forget("a")
    assert (limiter.num_requeues("a"), limiter.num_requeues("b")) == (0, 1)
    assert limiter.when("a") == pytest.approx(0.005)


def test_bucket_limiter_allows_burst_then_spaces_by_qps() -> None:
    clock = FakeClock()
    limiter = BucketRateLimiter(qps=10, burst=3, clock=clock)
    assert [limiter.when(i) for i in range(3)] == [0, 0, 0]
    assert limiter.when(3) == pytest.approx(0.1)
    assert limiter.when(4) == pytest.approx(0.2)
    clock.now += 10  # refills, but never past the burst
    assert [limiter.when(i) for i in range(3)] == [0, 0, 0]
    assert limiter.when(9) > 0


def test_max_of_limiter_takes_longest_and_forgets_everywhere() -> None:
    clock = FakeClock()
    limiter = MaxOfRateLimiter(ItemExponentialFailureRateLimiter(base_delay=1),
                               BucketRateLimiter(qps=1, burst=1, clock=clock))
    assert limiter.when("k") == 1  # exponential says 1, bucket 0
    assert limiter.when("k") == 2  # exponential 2, bucket 1
    limiter.forget("k")
    assert limiter.num_requeues("k") == 0


def test_default_controller_limiter_matches_client_go() -> None:
    limiter = default_controller_rate_limiter(clock=FakeClock())
    assert limiter.when("k") == pytest.approx(0.005)
    assert limiter.when("k") == pytest.approx(0.01)


async def test_queue_hands_out_items_in_order_and_collapses_duplicates() -> None:
    q: WorkQueue[str] = WorkQueue()
    for item in ("a", "b", "a", "c", "b"):
        q.add(item)
    assert len(q) == 3
    assert [await q.get() for _ in range(3)] == ["a", "b", "c"]


async def test_item_added_while_processing_is_requeued_after_done_not_handed_twice() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    assert await q.get() == "a"
    q.add("a")
    q.add("a")
    assert len(q) == 0 and q.is_processing("a")
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()  # "a" is busy: nobody else may take it
    q.done("a")
    assert await asyncio.wait_for(getter, 1) == "a"
    q.done("a")
    assert len(q) == 0


async def test_a_held_item_is_queued_again_only_when_its_hold_ends() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    assert await q.get() == "a"
    q.done("a", hold=3600)
    q.add("a")
    q.add("b")
    assert await q.get() == "b"  # "a" rests; other items go on
    assert len(q) == 0 and q.is_processing("a")
    q.done("b")

    q2: WorkQueue[str] = WorkQueue()
    q2.add("a")
    assert await q2.get() == "a"
    q2.done("a", hold=0.01)
    q2.add("a")
    q2.add("a")
    assert await asyncio.wait_for(q2.get(), 2) == "a"  # once, after the hold
    q2.done("a")
    assert len(q2) == 0 and not q2.is_processing("a")


async def test_shutdown_drops_holds() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    assert await q.get() == "a"
    q.done("a", hold=3600)
    q.shutdown()
    assert not q.is_processing("a")
    assert await q.get() is None


async def test_get_waits_for_an_add() -> None:
    q: WorkQueue[str] = WorkQueue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("x")
    assert await asyncio.wait_for(getter, 1) == "x"


async def test_shutdown_drains_queue_then_returns_none_to_every_worker() -> None:
    q: WorkQueue[str] = WorkQueue()
    waiting = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.shutdown()
    assert await asyncio.wait_for(waiting, 1) is None
    q2: WorkQueue[str] = WorkQueue()
    q2.add("left")
    q2.shutdown()
    q2.add("refused")
    assert await q2.get() == "left"
    assert await q2.get() is None


async def test_cancelled_get_does_not_lose_a_wakeup() -> None:
    q: WorkQueue[str] = WorkQueue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("x")  # wakes `first`...
    first.cancel()  # ...which goes away before taking it
    assert await asyncio.wait_for(second, 1) == "x"


async def test_a_get_cancelled_while_shutting_down_just_ends() -> None:
    q: WorkQueue[str] = WorkQueue()
    waiting = [asyncio.create_task(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    for task in waiting:
        task.cancel()  # their waiters are cancelled before the tasks run again...
    q.shutdown()  # ...and shutdown pops them meanwhile
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results


async def test_add_after_keeps_the_earliest_delay() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add_after("a", 3600)
    q.add_after("a", 0.01)
    q.add_after("a", 7200)
    assert await asyncio.wait_for(q.get(), 2) == "a"
    q.done("a")
    assert len(q) == 0


async def test_add_after_zero_adds_now_and_shutdown_drops_pending_delays() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add_after("now", 0)
    q.add_after("later", 3600)
    assert len(q) == 1
    q.shutdown()
    assert await q.get() == "now"
    assert await q.get() is None


async def test_rate_limited_adds_back_off_until_forgotten() -> None:
    q: WorkQueue[str] = WorkQueue(rate_limiter=ItemExponentialFailureRateLimiter(
        base_delay=0.001, max_delay=0.01))
    for expected in (1, 2, 3):
        q.add_rate_limited("k")
        assert await asyncio.wait_for(q.get(), 2) == "k"
        q.done("k")
        assert q.num_requeues("k") == expected
    q.forget("k")
    assert q.num_requeues("k") == 0
