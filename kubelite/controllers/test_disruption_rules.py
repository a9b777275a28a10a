"""A PodDisruptionBudget's numbers, checked against upstream's disruption_test.go
outcomes (TestNoSelector, TestUnavailable, TestIntegerMaxUnavailable,
TestReplicaSet, TestTwoControllers, TestStalePodDisruption...)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.controllers.disruption_rules import (
    BudgetError, BudgetStatus, conditions_up_to_date, count_healthy, disruptions_allowed,
    expected_counts, expired_disruptions, fail_safe_status, live_disrupted_pods,
    needs_scale, new_status, scaled_value, stale_disruption_wait)
from kubelite.machinery.timestamps import format_time

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
Obj = dict[str, Any]


def ago(seconds: float) -> str:
    return format_time(NOW - datetime.timedelta(seconds=seconds))


def pod(name: str, *, ready: bool = True, deleting: bool = False, **status: Any) -> Obj:
    m: Obj = {"name": name, "namespace": "default"}
    if deleting:
        m["deletionTimestamp"] = ago(1)
    return {"metadata": m, "status": {"phase": "Running", **status, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False"},
        *status.get("conditions", [])]}}


@pytest.mark.parametrize("value,total,expected", [
    (3, 10, 3), ("50%", 10, 5), ("50%", 3, 2), ("0%", 7, 0), ("100%", 7, 7), ("1%", 1, 1),
    ("34%", 3, 2),
], ids=["int", "half-even", "half-odd-rounds-up", "zero", "all", "tiny-rounds-up",
        "third-rounds-up"])
def test_scaled_value_rounds_percentages_up(value: int | str, total: int, expected: int) -> None:
    assert scaled_value(value, total) == expected


@pytest.mark.parametrize("value", ["5", "x%", True], ids=["no-percent", "not-a-number", "bool"])
def test_scaled_value_refuses_what_is_not_int_or_percent(value: Any) -> None:
    with pytest.raises(BudgetError):
        scaled_value(value, 10)


@pytest.mark.parametrize("spec,pods,scale,expected", [
    ({"minAvailable": 2}, 5, 99, (5, 2)),
    ({"minAvailable": "28%"}, 3, 7, (7, 2)),
    ({"maxUnavailable": 1}, 3, 4, (4, 3)),
    ({"maxUnavailable": "50%"}, 3, 5, (5, 2)),
    ({"maxUnavailable": 10}, 3, 4, (4, 0)),
    ({}, 3, 4, (0, 0)),
], ids=["min-int-counts-pods", "min-percent-of-scale", "max-int", "max-percent-rounds-up",
        "max-over-scale-floors-at-zero", "neither"])
def test_expected_counts(spec: Obj, pods: int, scale: int, expected: tuple[int, int]) -> None:
    got = expected_counts(spec, pods, scale)
    assert (got.expected_pods, got.desired_healthy) == expected


@pytest.mark.parametrize("spec,expected", [
    ({"minAvailable": 1}, False), ({"minAvailable": "10%"}, True),
    ({"maxUnavailable": 0}, True), ({}, False),
], ids=["min-int", "min-percent", "max-int", "neither"])
def test_needs_scale_only_for_percentages_and_max_unavailable(spec: Obj, expected: bool) -> None:
    assert needs_scale(spec) is expected


@pytest.mark.parametrize("current,desired,expected_pods,allowed", [
    (3, 2, 3, 1), (2, 2, 2, 0), (1, 2, 2, 0), (3, 0, 0, 0),
], ids=["one-spare", "exact", "short", "no-pods-expected-is-safe"])
def test_disruptions_allowed(current: int, desired: int, expected_pods: int, allowed: int) -> None:
    assert disruptions_allowed(current, desired, expected_pods) == allowed


def test_healthy_counts_ready_pods_neither_deleting_nor_just_evicted() -> None:
    pods = [pod("a"), pod("b", ready=False), pod("c", deleting=True), pod("d"), pod("e")]
    disrupted = {"d": ago(30), "e": ago(180)}  # e's eviction expired: it counts again
    assert count_healthy(pods, disrupted, NOW) == 2


def test_disrupted_pods_keep_only_pending_evictions_and_say_when_to_look_again() -> None:
    pods = [pod("pending"), pod("later"), pod("expired"), pod("deleting", deleting=True)]
    recorded = {"pending": ago(30), "later": ago(10), "expired": ago(121),
                "deleting": ago(5), "gone": ago(5)}
    kept, recheck = live_disrupted_pods(pods, recorded, NOW)
    assert kept == {"pending": ago(30), "later": ago(10)}
    assert recheck == NOW + datetime.timedelta(seconds=90)
    assert [p["metadata"]["name"] for p in expired_disruptions(pods, recorded, NOW)] == ["expired"]


def pdb(status: Obj, generation: int = 2) -> Obj:
    return {"metadata": {"name": "web", "generation": generation}, "status": status}


def test_new_status_sets_the_numbers_and_sufficient_pods() -> None:
    status = new_status(pdb({}), BudgetStatus(3, 2, 3, {"a": ago(1)}), NOW)
    assert status is not None
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3,
        "disruptionsAllowed": 1, "observedGeneration": 2, "disruptedPods": {"a": ago(1)}}
    assert status["conditions"] == [
        {"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods",
         "message": "", "observedGeneration": 2, "lastTransitionTime": format_time(NOW)}]


def test_new_status_is_none_when_nothing_changed_and_keeps_transition_times() -> None:
    first = new_status(pdb({}), BudgetStatus(2, 2, 2), NOW)
    assert first is not None and first["conditions"][0]["reason"] == "InsufficientPods"
    assert new_status(pdb(first), BudgetStatus(2, 2, 2), NOW) is None
    later = NOW + datetime.timedelta(minutes=5)
    bumped = new_status(pdb(first, generation=3), BudgetStatus(2, 2, 2), later)
    assert bumped is not None and bumped["observedGeneration"] == 3
    assert bumped["conditions"][0]["observedGeneration"] == 3
    assert bumped["conditions"][0]["lastTransitionTime"] == format_time(NOW)


@pytest.mark.parametrize("status,up_to_date", [
    ({"disruptionsAllowed": 1, "observedGeneration": 2, "conditions": [
        {"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods"}]}, True),
    ({"disruptionsAllowed": 0, "observedGeneration": 2, "conditions": [
        {"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods"}]}, False),
    ({"disruptionsAllowed": 0, "observedGeneration": 2, "conditions": [
        {"type": "DisruptionAllowed", "status": "False", "reason": "SyncFailed"}]}, False),
    ({"disruptionsAllowed": 1, "observedGeneration": 1, "conditions": [
        {"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods"}]}, False),
    ({"disruptionsAllowed": 1, "observedGeneration": 2}, False),
], ids=["agrees", "eviction-used-the-last", "after-fail-safe", "old-generation", "none"])
def test_conditions_up_to_date(status: Obj, up_to_date: bool) -> None:
    assert conditions_up_to_date(pdb(status)) is up_to_date


def test_fail_safe_allows_nothing_and_says_why() -> None:
    old = {"disruptionsAllowed": 2, "currentHealthy": 3, "observedGeneration": 2}
    status = fail_safe_status(pdb(old), "found no controllers for pod \"x\"", NOW)
    assert (status["disruptionsAllowed"], status["currentHealthy"]) == (0, 3)
    assert status["conditions"] == [
        {"type": "DisruptionAllowed", "status": "False", "reason": "SyncFailed",
         "message": "found no controllers for pod \"x\"", "observedGeneration": 2,
         "lastTransitionTime": format_time(NOW)}]


def target(reason: str = "EvictionByEvictionAPI", since: float = 30, status: str = "True") -> Obj:
    return {"type": "DisruptionTarget", "status": status, "reason": reason,
            "lastTransitionTime": ago(since)}


@pytest.mark.parametrize("p,wait", [
    (pod("a", conditions=[target(since=30)]), 90.0),
    (pod("a", conditions=[target(since=200)]), 0.0),
    (pod("a", conditions=[target(status="False")]), None),
    (pod("a", conditions=[target(reason="TerminationByKubelet", since=200)]), None),
    (pod("a", deleting=True, conditions=[target(since=200)]), None),
    (pod("a", phase="Failed", conditions=[target(since=200)]), None),
    (pod("a"), None),
], ids=["not-yet", "stale", "already-false", "kubelet-owns-it", "being-deleted", "finished",
        "no-condition"])
def test_stale_disruption_wait(p: Obj, wait: float | None) -> None:
    assert stale_disruption_wait(p, NOW) == wait
