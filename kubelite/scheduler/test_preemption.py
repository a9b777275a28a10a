"""The evaluator's pure parts: choosing among candidates (upstream's
pickOneNodeForPreemption criteria, in order) and splitting victims by budget."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler.conftest import make_pod
from kubelite.scheduler.preemption import (
    Candidate,
    pick_one_node,
    split_by_pdb_violation,
    terminating_by_preemption,
)

Obj = dict[str, Any]


def victim(name: str, priority: int, started: str | None = None) -> Obj:
    return make_pod(name, priority=priority,
                    status={"startTime": started} if started else None)


T0, T1 = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"


@pytest.mark.parametrize("candidates, chosen", [
    ([Candidate("a", (victim("a1", 0),), 1), Candidate("b", (victim("b1", 100),), 0)], "b"),
    ([Candidate("a", (victim("a1", 100),)), Candidate("b", (victim("b1", 50), victim("b2", 50)))],
     "b"),
    ([Candidate("a", (victim("a1", 100), victim("a2", 50))),
      Candidate("b", (victim("b1", 100), victim("b2", 10)))], "b"),
    ([Candidate("a", (victim("a1", -100), victim("a2", -100))),
      Candidate("b", (victim("b1", -100),))], "b"),
    ([Candidate("a", (victim("a1", 100), victim("a2", 0))),
      Candidate("b", (victim("b1", 100), victim("b2", 0), victim("b3", 0)))], "a"),
    ([Candidate("a", (victim("a1", 100, T0),)), Candidate("b", (victim("b1", 100, T1),))], "b"),
    ([Candidate("a", (victim("a1", 100, T1),)), Candidate("b", (victim("b1", 100),))], "b"),
    ([Candidate("a", (victim("a1", 100, T1),)), Candidate("b", (victim("b1", 100, T1),))], "a"),
], ids=["fewest-pdb-violations", "lowest-highest-priority", "lowest-priority-sum",
        "negative-priorities-count-against-more-victims", "more-victims-sum-higher",
        "latest-start-of-top-victims", "not-started-is-latest", "tie-takes-the-first"])
def test_pick_one_node_criteria_in_upstreams_order(candidates: list[Candidate], chosen: str) -> None:
    assert pick_one_node(candidates).node == chosen


def labelled(name: str, namespace: str = "default", **labels: str) -> Obj:
    pod = make_pod(name, labels=labels or None)
    pod["metadata"]["namespace"] = namespace
    return pod


def budget(match: dict[str, str] | None, allowed: int, namespace: str = "default") -> Obj:
    selector = None if match is None else {"matchLabels": match}
    return {"metadata": {"name": "b", "namespace": namespace}, "spec": {"selector": selector},
            "status": {"disruptionsAllowed": allowed}}


@pytest.mark.parametrize("pods, pdbs, violating", [
    ([labelled("a", app="x"), labelled("b", app="x")], [budget({"app": "x"}, 1)], ["b"]),
    ([labelled("a", app="x")], [budget({"app": "x"}, 0, namespace="other")], []),
    ([labelled("a")], [budget({}, 0)], []),
    ([labelled("a", app="x")], [budget(None, 0)], []),
    ([labelled("a", app="x")], [budget({"app": "x"}, 0), budget({"app": "x"}, 5)], ["a"]),
    ([labelled("a", app="x")],
     [{**budget({"app": "x"}, 0), "spec": {"selector": {"matchExpressions": [
         {"key": "app", "operator": "Bogus"}]}}}], []),
], ids=["second-pod-exceeds-the-budget", "other-namespace", "unlabelled-pod-matches-nothing",
        "nil-selector-matches-nothing", "any-violated-budget-counts", "invalid-selector"])
def test_split_by_pdb_violation_as_upstream(pods: list[Obj], pdbs: list[Obj],
                                            violating: list[str]) -> None:
    bad, good = split_by_pdb_violation(pods, pdbs)
    assert [p["metadata"]["name"] for p in bad] == violating
    assert len(bad) + len(good) == len(pods)


@pytest.mark.parametrize("deleting, reason, expected", [
    (True, "PreemptionByScheduler", True), (False, "PreemptionByScheduler", False),
    (True, "EvictionByEvictionAPI", False),
], ids=["deleting-after-preemption", "not-deleting", "deleting-for-another-reason"])
def test_terminating_by_preemption(deleting: bool, reason: str, expected: bool) -> None:
    pod = make_pod(status={"conditions": [{"type": "DisruptionTarget", "status": "True",
                                           "reason": reason}]})
    if deleting:
        pod["metadata"]["deletionTimestamp"] = T0
    assert terminating_by_preemption(pod) is expected
