"""When a projected ServiceAccount token is renewed, as upstream's requiresRefresh."""

from __future__ import annotations

import pytest

from kubelite.kubelet.volumes.tokens import Issued, refresh_at, refresh_due

HOUR = 3600.0
DAY = 24 * HOUR


@pytest.mark.parametrize("lifetime,age,jitter,due", [
    (HOUR, 0.79 * HOUR, 0.0, False),
    (HOUR, 0.81 * HOUR, 0.0, True),
    (HOUR, 0.80 * HOUR - 5, 10.0, True),  # the jitter brings it forward
    (365 * DAY, DAY - 1, 0.0, False),
    (365 * DAY, DAY + 1, 0.0, True),  # a long token renews daily
    (600.0, 479.0, 0.0, False),
    (600.0, 481.0, 0.0, True),
], ids=["hour-at-79%", "hour-at-81%", "jitter", "year-before-a-day", "year-after-a-day",
        "ten-min-before", "ten-min-after"])
def test_refresh_due(lifetime: float, age: float, jitter: float, due: bool) -> None:
    issued = Issued("t", expires_at=1000.0 + lifetime, lifetime=lifetime)
    assert refresh_due(issued, 1000.0 + age, jitter) is due


def test_refresh_at_is_the_first_due_moment() -> None:
    for lifetime in (600.0, HOUR, 365 * DAY):
        issued = Issued("t", expires_at=lifetime, lifetime=lifetime)
        at = refresh_at(issued)
        assert not refresh_due(issued, at - 1, 0.0) and refresh_due(issued, at + 1, 0.0)
