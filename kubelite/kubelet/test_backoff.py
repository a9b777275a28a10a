"""Back-off as client-go's flowcontrol.Backoff: doubling, capped, forgotten after 2x max."""

from __future__ import annotations

from kubelite.kubelet.backoff import Backoff


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_doubles_to_the_maximum() -> None:
    clock = Clock()
    backoff = Backoff(10, 300, clock=clock)
    seen = []
    for _ in range(7):
        backoff.next("k", clock.now)
        seen.append(backoff.get("k"))
    assert seen == [10, 20, 40, 80, 160, 300, 300]


def test_in_backoff_since_an_exit() -> None:
    clock = Clock()
    backoff = Backoff(10, 300, clock=clock)
    assert not backoff.in_backoff_since("k", clock.now)  # first failure restarts at once
    backoff.next("k", clock.now)
    exited = clock.now
    clock.now += 5
    assert backoff.in_backoff_since("k", exited)
    assert backoff.remaining("k", exited) == 5
    clock.now += 5
    assert not backoff.in_backoff_since("k", exited)


def test_an_event_long_after_the_last_update_starts_afresh() -> None:
    clock = Clock()
    backoff = Backoff(10, 300, clock=clock)
    for _ in range(5):
        backoff.next("k", clock.now)
    clock.now += 601  # ran for more than 10 minutes
    assert not backoff.in_backoff_since("k", clock.now)
    backoff.next("k", clock.now)
    assert backoff.get("k") == 10


def test_since_update_for_image_pulls() -> None:
    clock = Clock()
    backoff = Backoff(10, 300, clock=clock)
    backoff.next("img", clock.now)
    assert backoff.in_backoff_since_update("img")
    clock.now += 10
    assert not backoff.in_backoff_since_update("img")
    backoff.forget_prefix("im")
    assert backoff.get("img") == 0
