"""Slow-start batches (upstream's replica_set_test.go TestSlowStartBatch)."""

from __future__ import annotations

import pytest

from kubelite.controllers.slow_start import SlowStartFailure, slow_start_batch


@pytest.mark.parametrize("count, fail_from, successes, calls", [
    pytest.param(10, None, 10, 10, id="all-succeed"),
    pytest.param(10, 0, 0, 1, id="first-fails-stops-at-once"),
    pytest.param(10, 3, 3, 7, id="fail-in-third-batch"),  # batches 1, 2, 4: 7 calls
    pytest.param(0, None, 0, 0, id="nothing-to-do"),
])
async def test_slow_start_doubles_batches_and_stops_after_a_failed_batch(
        count: int, fail_from: int | None, successes: int, calls: int) -> None:
    made = 0

    async def create() -> None:
        nonlocal made
        made += 1
        if fail_from is not None and made > fail_from:
            raise RuntimeError("refused")

    if fail_from is None:
        assert await slow_start_batch(count, 1, create) == successes
    else:
        with pytest.raises(SlowStartFailure) as failure:
            await slow_start_batch(count, 1, create)
        assert failure.value.successes == successes
    assert made == calls
