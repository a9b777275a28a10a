"""The threshold state machine against upstream worker.go's outcomes."""

from __future__ import annotations

import pytest

from kubelite.kubelet.prober.results import INITIAL, ProbeType, Result, Thresholds, Timing

S, F, U = Result.SUCCESS, Result.FAILURE, Result.UNKNOWN


@pytest.mark.parametrize("probe_type,success,failure,answers,beliefs", [
    (ProbeType.READINESS, 1, 3, [S], [S]),
    (ProbeType.READINESS, 2, 3, [S, S], [F, S]),
    (ProbeType.READINESS, 1, 3, [S, F, F, F], [S, S, S, F]),
    (ProbeType.READINESS, 1, 3, [S, F, F, S, F, F], [S, S, S, S, S, S]),  # runs restart
    (ProbeType.READINESS, 1, 1, [F, S, F], [F, S, F]),  # readiness never holds
    (ProbeType.LIVENESS, 1, 2, [F, F, S, S], [S, F, F, F]),  # on hold once failed
    (ProbeType.STARTUP, 1, 3, [F, F], [U, U]),
    (ProbeType.STARTUP, 1, 3, [F, S], [U, S]),
    (ProbeType.READINESS, 3, 3, [U], [U]),  # unknown counts at once
], ids=["ready-on-first-success", "success-threshold", "failure-threshold",
        "interrupted-runs", "readiness-recovers", "liveness-holds", "startup-not-yet",
        "startup-succeeds", "unknown"])
def test_beliefs_follow_answers(probe_type: ProbeType, success: int, failure: int,
                                answers: list[Result], beliefs: list[Result]) -> None:
    state = Thresholds(probe_type, Timing(success_threshold=success, failure_threshold=failure))
    assert state.belief is INITIAL[probe_type]
    seen = []
    for answer in answers:
        state.observe(answer)
        seen.append(state.belief)
    assert seen == beliefs


def test_observe_says_when_the_belief_changes() -> None:
    state = Thresholds(ProbeType.READINESS, Timing(failure_threshold=1))
    assert [state.observe(a) for a in (S, S, F, F, S)] == [True, False, True, False, True]


@pytest.mark.parametrize("probe,timing", [
    ({}, Timing(0, 10, 1, 1, 3)),
    ({"initialDelaySeconds": 5, "periodSeconds": 2, "timeoutSeconds": 3,
      "successThreshold": 2, "failureThreshold": 7}, Timing(5, 2, 3, 2, 7)),
    ({"periodSeconds": 0, "timeoutSeconds": -1, "initialDelaySeconds": True}, Timing()),
], ids=["defaults", "given", "nonsense-falls-back"])
def test_timing_of_a_probe(probe: dict[str, object], timing: Timing) -> None:
    assert Timing.of(probe) == timing
