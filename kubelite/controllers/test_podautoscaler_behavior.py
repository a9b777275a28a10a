"""Normalization as upstream's horizontal.go does it (cases after horizontal_test.go's
TestNormalizeDesiredReplicas*, TestScalingWithRules, TestStoreScaleEvents)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.podautoscaler_behavior import (
    Recommendations, ScaleEvent, default_behavior, scale_down_limit, scale_up_limit)

NOW = 10_000.0


def test_behavior_defaults_fill_what_is_not_given() -> None:
    assert default_behavior(None) is None
    filled = default_behavior({"scaleDown": {"policies": [
        {"type": "Pods", "value": 1, "periodSeconds": 60}]}})
    assert filled == {
        "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15}]},
        "scaleDown": {"selectPolicy": "Max", "stabilizationWindowSeconds": 300,
                      "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    assert default_behavior({"scaleDown": {"stabilizationWindowSeconds": 5}}, 300)[
        "scaleDown"]["stabilizationWindowSeconds"] == 5


def rules(select: str = "Max", *policies: tuple[str, int, int]) -> dict[str, Any]:
    return {"selectPolicy": select,
            "policies": [{"type": t, "value": v, "periodSeconds": p} for t, v, p in policies]}


@pytest.mark.parametrize("current, ups, downs, scaling, expected", [
    pytest.param(1, [], [], rules("Max", ("Pods", 4, 15), ("Percent", 100, 15)), 5,
                 id="default-small-takes-pods"),
    pytest.param(10, [], [], rules("Max", ("Pods", 4, 15), ("Percent", 100, 15)), 20,
                 id="default-large-takes-percent"),
    pytest.param(10, [], [], rules("Min", ("Pods", 4, 15), ("Percent", 100, 15)), 14,
                 id="min-takes-the-smaller"),
    pytest.param(10, [], [], rules("Disabled", ("Pods", 4, 15)), 10, id="disabled"),
    pytest.param(10, [ScaleEvent(5, NOW - 10)], [], rules("Max", ("Pods", 4, 60)), 9,
                 id="pods-count-from-the-periods-start"),
    pytest.param(10, [ScaleEvent(5, NOW - 100)], [], rules("Max", ("Pods", 4, 60)), 14,
                 id="events-before-the-period-do-not-count"),
    pytest.param(10, [ScaleEvent(5, NOW - 10, outdated=True)], [],
                 rules("Max", ("Pods", 4, 60)), 14, id="outdated-events-do-not-count"),
    pytest.param(3, [], [], rules("Max", ("Percent", 50, 15)), 5, id="percent-rounds-up"),
])
def test_scale_up_limits(current: int, ups: list[ScaleEvent], downs: list[ScaleEvent],
                         scaling: dict[str, Any], expected: int) -> None:
    assert scale_up_limit(current, ups, downs, scaling, NOW) == expected


@pytest.mark.parametrize("current, downs, scaling, expected", [
    pytest.param(10, [], rules("Max", ("Percent", 100, 15)), 0, id="default-all-at-once"),
    pytest.param(10, [], rules("Max", ("Pods", 1, 60), ("Percent", 50, 60)), 5,
                 id="max-takes-the-bigger-change"),
    pytest.param(10, [], rules("Min", ("Pods", 1, 60), ("Percent", 50, 60)), 9,
                 id="min-takes-the-smaller-change"),
    pytest.param(9, [ScaleEvent(1, NOW - 30)], rules("Max", ("Pods", 1, 60)), 9,
                 id="one-per-minute-already-used"),
    pytest.param(5, [], rules("Max", ("Percent", 30, 15)), 3, id="percent-rounds-down"),
    pytest.param(10, [], rules("Disabled", ("Pods", 1, 60)), 10, id="disabled"),
])
def test_scale_down_limits(current: int, downs: list[ScaleEvent], scaling: dict[str, Any],
                           expected: int) -> None:
    assert scale_down_limit(current, [], downs, scaling, NOW) == expected


def decide(recommendations: Recommendations, behavior: dict[str, Any] | None, current: int,
           proposal: int, minimum: int = 1, maximum: int = 100,
           now: float = NOW) -> tuple[int, str, bool, str]:
    d = recommendations.normalize("ns/hpa", default_behavior(behavior), current, proposal,
                                  minimum, maximum, now)
    return d.replicas, d.able_reason, d.limited, d.limited_reason


@pytest.mark.parametrize("current, proposal, minimum, maximum, expected", [
    pytest.param(3, 10, 1, 100, (6, "ReadyForNewScale", True, "ScaleUpLimit"),
                 id="scale-up-limit-doubles"),
    pytest.param(1, 10, 1, 100, (4, "ReadyForNewScale", True, "ScaleUpLimit"),
                 id="scale-up-limit-at-least-four"),
    pytest.param(3, 10, 1, 5, (5, "ReadyForNewScale", True, "TooManyReplicas"),
                 id="max-replicas"),
    pytest.param(3, 1, 2, 10, (2, "ReadyForNewScale", True, "TooFewReplicas"),
                 id="min-replicas"),
    pytest.param(3, 4, 1, 10, (4, "ReadyForNewScale", False, "DesiredWithinRange"),
                 id="within-range"),
])
def test_without_behavior_the_legacy_rules_apply(current: int, proposal: int, minimum: int,
                                                maximum: int,
                                                expected: tuple[int, str, bool, str]) -> None:
    assert decide(Recommendations(), None, current, proposal, minimum, maximum) == expected


def test_legacy_downscale_waits_for_the_stabilization_window() -> None:
    recs = Recommendations(downscale_window=300)
    recs.initial("ns/hpa", 5, NOW - 100)
    assert decide(recs, None, 5, 2) == (5, "ScaleDownStabilized", False, "DesiredWithinRange")
    # once the window has passed, the old samples no longer hold it up
    assert decide(recs, None, 5, 2, now=NOW + 301) == (
        2, "ReadyForNewScale", False, "DesiredWithinRange")


def test_behavior_stabilizes_down_with_the_highest_recent_proposal() -> None:
    recs = Recommendations()
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60}}
    assert decide(recs, behavior, 5, 8)[0] == 8
    assert decide(recs, behavior, 8, 3, now=NOW + 30) == (
        8, "ScaleDownStabilized", False, "DesiredWithinRange")
    assert decide(recs, behavior, 8, 3, now=NOW + 61)[0] == 3


def test_behavior_stabilizes_up_with_the_lowest_recent_proposal() -> None:
    recs = Recommendations()
    behavior = {"scaleUp": {"stabilizationWindowSeconds": 60}}
    assert decide(recs, behavior, 5, 5)[0] == 5
    assert decide(recs, behavior, 5, 9, now=NOW + 10) == (
        5, "ScaleUpStabilized", False, "DesiredWithinRange")
    assert decide(recs, behavior, 5, 9, now=NOW + 61)[0] == 9


def test_recorded_scale_events_limit_the_next_step() -> None:
    recs = Recommendations()
    behavior = default_behavior({"scaleDown": {"stabilizationWindowSeconds": 0,
                                               "policies": [{"type": "Pods", "value": 1,
                                                             "periodSeconds": 60}]}})
    first = recs.normalize("ns/hpa", behavior, 10, 5, 1, 100, NOW)
    assert (first.replicas, first.limited_reason) == (9, "ScaleDownLimit")
    recs.record_scale("ns/hpa", behavior, 10, 9, NOW)
    held = recs.normalize("ns/hpa", behavior, 9, 5, 1, 100, NOW + 30)
    assert (held.replicas, held.limited, held.limited_reason) == (9, True, "ScaleDownLimit")
    later = recs.normalize("ns/hpa", behavior, 9, 5, 1, 100, NOW + 61)
    assert later.replicas == 8


def test_disabled_scale_down_keeps_the_count() -> None:
    recs = Recommendations()
    behavior = {"scaleDown": {"selectPolicy": "Disabled", "stabilizationWindowSeconds": 0}}
    assert decide(recs, behavior, 5, 1) == (5, "ReadyForNewScale", True, "ScaleDownLimit")
