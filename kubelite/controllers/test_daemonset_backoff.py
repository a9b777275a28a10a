"""The failed daemon pod back-off, on a fake clock."""

from __future__ import annotations

from kubelite.controllers.daemonset_backoff import FailedPodBackoff


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_up_to_the_cap_and_expires_after_twice_the_cap() -> None:
    clock = Clock()
    backoff = FailedPodBackoff(initial=1, maximum=8, clock=clock)
    assert backoff.remaining("ds/n1") == 0
    delays = []
    for _ in range(6):
        backoff.next("ds/n1")
        delays.append(backoff.remaining("ds/n1"))
    assert delays == [1, 2, 4, 8, 8, 8]
    clock.now += 3
    assert backoff.remaining("ds/n1") == 5
    assert backoff.remaining("ds/n2") == 0  # per node
    clock.now += 17  # more than twice the cap since the last deletion
    backoff.next("ds/n1")
    assert backoff.remaining("ds/n1") == 1


def test_forget_prefix_drops_one_daemonsets_nodes() -> None:
    backoff = FailedPodBackoff(clock=Clock())
    backoff.next("a/n1")
    backoff.next("b/n1")
    backoff.forget_prefix("a/")
    assert (backoff.remaining("a/n1"), backoff.remaining("b/n1")) == (0, 1)
