"""ControllerExpectations, with upstream's cases (controller_utils_test.go
TestControllerExpectations, TestUIDExpectations) on an injected clock."""

from __future__ import annotations

import pytest

from kubelite.controllers.expectations import EXPECTATIONS_TIMEOUT, ControllerExpectations


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def exp(clock: Clock) -> ControllerExpectations:
    return ControllerExpectations(clock=clock)


def test_a_key_never_expected_is_satisfied(exp: ControllerExpectations) -> None:
    assert exp.satisfied("ns/rs")


def test_creations_are_satisfied_only_once_all_are_observed(exp: ControllerExpectations) -> None:
    exp.expect_creations("ns/rs", 3)
    for _ in range(2):
        exp.creation_observed("ns/rs")
        assert not exp.satisfied("ns/rs")
    exp.creation_observed("ns/rs")
    assert exp.satisfied("ns/rs")
    exp.creation_observed("ns/rs")  # one more (an adopted pod) does not unsatisfy it
    assert exp.satisfied("ns/rs")


def test_unfulfilled_expectations_expire_after_five_minutes(
        exp: ControllerExpectations, clock: Clock) -> None:
    exp.expect_creations("ns/rs", 2)
    clock.now += EXPECTATIONS_TIMEOUT
    assert not exp.satisfied("ns/rs")
    clock.now += 1
    assert exp.satisfied("ns/rs")


@pytest.mark.parametrize("observed, satisfied", [
    pytest.param(["ns/a", "ns/b"], True, id="both-deletions-seen"),
    pytest.param(["ns/a", "ns/a"], False, id="one-pod-seen-twice-counts-once"),
    pytest.param(["ns/a", "ns/other"], False, id="an-unexpected-pod-does-not-count"),
])
def test_deletions_are_tracked_by_pod_key(exp: ControllerExpectations, observed: list[str],
                                          satisfied: bool) -> None:
    exp.expect_deletions("ns/rs", ["ns/a", "ns/b"])
    for key in observed:
        exp.deletion_observed("ns/rs", key)
    assert exp.satisfied("ns/rs") is satisfied


def test_new_expectations_replace_the_old_and_forget_drops_them(
        exp: ControllerExpectations) -> None:
    exp.expect_deletions("ns/rs", ["ns/a"])
    exp.expect_creations("ns/rs", 1)
    record = exp.get("ns/rs")
    assert record is not None and (record.add, record.delete) == (1, 0)
    exp.forget("ns/rs")
    assert exp.get("ns/rs") is None and exp.satisfied("ns/rs")


def test_observations_for_an_unknown_key_are_ignored(exp: ControllerExpectations) -> None:
    exp.creation_observed("ns/rs")
    exp.deletion_observed("ns/rs", "ns/a")
    assert exp.get("ns/rs") is None
