from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.controllers.deployment_progress import (
    NO_DEADLINE, calculate_status, deployment_complete, deployment_progressing,
    deployment_timed_out, get_condition, requeue_after, rollout_status, set_condition)

Obj = dict[str, Any]
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
EARLIER = "2026-01-01T11:59:00Z"


def deployment(replicas: int = 5, *, generation: int = 1, deadline: int | None = 600,
               status: Obj | None = None) -> Obj:
    spec: Obj = {"replicas": replicas, "strategy": {"type": "RollingUpdate", "rollingUpdate": {
        "maxSurge": 1, "maxUnavailable": 1}}}
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return {"metadata": {"name": "web", "generation": generation}, "spec": spec,
            "status": status or {}}


def counts(replicas: int, updated: int, available: int, ready: int | None = None,
           generation: int = 1) -> Obj:
    return {"replicas": replicas, "updatedReplicas": updated, "availableReplicas": available,
            "readyReplicas": available if ready is None else ready,
            "observedGeneration": generation}


def progressing(reason: str, status: str = "True", updated: str = EARLIER) -> Obj:
    return {"type": "Progressing", "status": status, "reason": reason, "message": "",
            "lastUpdateTime": updated, "lastTransitionTime": EARLIER}


@pytest.mark.parametrize("status, want", [
    # upstream's TestDeploymentComplete
    pytest.param(counts(5, 5, 4), False, id="not-all-available"),
    pytest.param(counts(5, 5, 3), False, id="min-availability-not-honored"),
    pytest.param(counts(5, 5, 5), True, id="complete"),
    pytest.param(counts(5, 4, 5), False, id="available-but-not-updated"),
    pytest.param(counts(6, 5, 5), False, id="old-pods-still-running"),
    pytest.param(counts(5, 5, 5, generation=0), False, id="generation-not-observed"),
])
def test_deployment_complete(status: Obj, want: bool) -> None:
    assert deployment_complete(deployment(5), status) is want


@pytest.mark.parametrize("old, new, want", [
    # upstream's TestDeploymentProgressing
    pytest.param(counts(10, 5, 5), counts(10, 6, 5), True, id="more-updated"),
    pytest.param(counts(10, 5, 5), counts(9, 5, 5), True, id="fewer-old"),
    pytest.param(counts(10, 5, 5, ready=5), counts(10, 5, 5, ready=6), True, id="more-ready"),
    pytest.param(counts(10, 5, 5), counts(10, 5, 6), True, id="more-available"),
    pytest.param(counts(10, 5, 5), counts(10, 5, 5), False, id="no-change"),
    pytest.param(counts(10, 5, 5), counts(11, 5, 5), False, id="more-old"),
])
def test_deployment_progressing(old: Obj, new: Obj, want: bool) -> None:
    assert deployment_progressing(deployment(10, status=old), new) is want


@pytest.mark.parametrize("deadline, condition, want", [
    # upstream's TestDeploymentTimedOut: 60 s since the last update
    pytest.param(30, progressing("ReplicaSetUpdated"), True, id="past-deadline"),
    pytest.param(90, progressing("ReplicaSetUpdated"), False, id="before-deadline"),
    pytest.param(30, progressing("NewReplicaSetAvailable"), False, id="complete-never-times-out"),
    pytest.param(900, progressing("ProgressDeadlineExceeded", "False"), True, id="stays-timed-out"),
    pytest.param(NO_DEADLINE, progressing("ReplicaSetUpdated"), False, id="no-deadline"),
    pytest.param(30, None, False, id="no-condition"),
])
def test_deployment_timed_out(deadline: int, condition: Obj | None, want: bool) -> None:
    d = deployment(deadline=deadline, status={"conditions": [condition] if condition else []})
    assert deployment_timed_out(d, NOW) is want


def rs(name: str, spec: int, status: int, available: int, **extra: Any) -> Obj:
    return {"metadata": {"name": name}, "spec": {"replicas": spec},
            "status": {"replicas": status, "readyReplicas": available,
                       "availableReplicas": available, **extra}}


def test_status_sums_the_replica_sets_and_judges_availability() -> None:
    new, old = rs("web-new", 3, 3, 1), rs("web-old", 3, 3, 3)
    status = calculate_status([old, new], new, deployment(5), NOW)
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": 1, "replicas": 6, "updatedReplicas": 3, "readyReplicas": 4,
        "availableReplicas": 4, "unavailableReplicas": 2}
    assert get_condition(status, "Available") == {
        "type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
        "message": "Deployment has minimum availability.",
        "lastUpdateTime": "2026-01-01T12:00:00Z", "lastTransitionTime": "2026-01-01T12:00:00Z"}
    short = calculate_status([rs("web-new", 5, 5, 3)], None, deployment(5), NOW)
    assert get_condition(short, "Available")["reason"] == "MinimumReplicasUnavailable"  # type: ignore[index]


def test_a_condition_with_the_same_status_keeps_its_transition_time() -> None:
    status: Obj = {"conditions": [progressing("NewReplicaSetCreated")]}
    set_condition(status, progressing("ReplicaSetUpdated") | {"lastTransitionTime": "later"})
    assert status["conditions"][0]["lastTransitionTime"] == EARLIER
    assert status["conditions"][0]["reason"] == "ReplicaSetUpdated"


@pytest.mark.parametrize("old_status, rss, reason, message", [
    pytest.param(counts(5, 4, 4) | {"conditions": [progressing("ReplicaSetUpdated")]},
                 [rs("web-new", 5, 5, 5)], "NewReplicaSetAvailable",
                 'ReplicaSet "web-new" has successfully progressed.', id="complete"),
    pytest.param(counts(5, 3, 3) | {"conditions": [progressing("NewReplicaSetCreated")]},
                 [rs("web-new", 4, 4, 4)], "ReplicaSetUpdated",
                 'ReplicaSet "web-new" is progressing.', id="progressing"),
    pytest.param(counts(5, 5, 3) | {"conditions": [progressing("ReplicaSetUpdated",
                                                               updated="2026-01-01T11:00:00Z")]},
                 [rs("web-new", 5, 5, 3)], "ProgressDeadlineExceeded",
                 'ReplicaSet "web-new" has timed out progressing.', id="timed-out"),
])
def test_rollout_status_progressing(old_status: Obj, rss: list[Obj], reason: str,
                                    message: str) -> None:
    status = rollout_status(rss, rss[0], deployment(5, status=old_status), NOW)
    condition = get_condition(status, "Progressing")
    assert condition is not None and (condition["reason"], condition["message"]) == (
        reason, message)
    if reason == "ReplicaSetUpdated":  # progress refreshes the update time, not the transition
        assert (condition["lastUpdateTime"], condition["lastTransitionTime"]) == (
            "2026-01-01T12:00:00Z", EARLIER)


def test_rollout_status_without_a_deadline_drops_progressing_and_copies_failures() -> None:
    failure = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
               "message": "quota", "lastTransitionTime": EARLIER}
    old = {"conditions": [progressing("ReplicaSetUpdated")]}
    new = rs("web-new", 5, 0, 0, conditions=[failure])
    status = rollout_status([new], new, deployment(5, deadline=None, status=old), NOW)
    assert get_condition(status, "Progressing") is None
    assert get_condition(status, "ReplicaFailure") == {
        **failure, "lastUpdateTime": EARLIER}


def test_a_rollout_in_flight_is_looked_at_again_when_its_deadline_passes() -> None:
    d = deployment(5, deadline=120, status={"conditions": [progressing("ReplicaSetUpdated")]})
    assert requeue_after(d, counts(5, 3, 3), NOW) == 61.0  # 60 s left, and a second
    assert requeue_after(d, counts(5, 5, 5), NOW) is None  # complete: nothing to watch
