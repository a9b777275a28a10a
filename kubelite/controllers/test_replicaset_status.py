"""A ReplicaSet's status from its pods (upstream's replica_set_utils_test.go
TestCalculateStatus and TestCalculateStatusConditions)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.controllers.replicaset_status import calculate_status, status_unchanged

Obj = dict[str, Any]
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def rs(replicas: int = 2, min_ready: int = 0, status: Obj | None = None) -> Obj:
    return {"metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": replicas, "minReadySeconds": min_ready,
                     "template": {"metadata": {"labels": {"app": "web", "tier": "fe"}}}},
            "status": status or {}}


def pod(*, full_labels: bool = True, ready_for: float | None = None) -> Obj:
    labels = {"app": "web", **({"tier": "fe"} if full_labels else {})}
    conditions = [] if ready_for is None else [{
        "type": "Ready", "status": "True", "lastTransitionTime":
        (NOW - datetime.timedelta(seconds=ready_for)).strftime("%Y-%m-%dT%H:%M:%SZ")}]
    return {"metadata": {"labels": labels}, "status": {"conditions": conditions}}


@pytest.mark.parametrize("pods, min_ready, counts", [
    pytest.param([], 0, (0, 0, 0, 0), id="no-pods"),
    pytest.param([pod(), pod(full_labels=False)], 0, (2, 1, 0, 0), id="partly-labelled"),
    pytest.param([pod(ready_for=0), pod()], 0, (2, 2, 1, 1), id="ready-is-available"),
    pytest.param([pod(ready_for=5), pod(ready_for=60)], 30, (2, 2, 2, 1),
                 id="available-after-min-ready-seconds"),
])
def test_counts(pods: list[Obj], min_ready: int, counts: tuple[int, ...]) -> None:
    status = calculate_status(rs(min_ready=min_ready), pods, None, NOW)
    assert (status["replicas"], status["fullyLabeledReplicas"], status["readyReplicas"],
            status["availableReplicas"]) == counts


@pytest.mark.parametrize("replicas, pods, reason", [
    pytest.param(3, 1, "FailedCreate", id="too-few"),
    pytest.param(1, 3, "FailedDelete", id="too-many"),
])
def test_a_failure_to_manage_replicas_sets_replica_failure(replicas: int, pods: int,
                                                           reason: str) -> None:
    status = calculate_status(rs(replicas), [pod()] * pods, RuntimeError("quota"), NOW)
    assert status["conditions"] == [{"type": "ReplicaFailure", "status": "True",
                                     "lastTransitionTime": "2026-01-01T12:00:00Z",
                                     "reason": reason, "message": "quota"}]


def test_replica_failure_is_kept_while_failing_and_removed_on_success() -> None:
    old = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
           "message": "first", "lastTransitionTime": "2025-01-01T00:00:00Z"}
    failing = calculate_status(rs(3, status={"conditions": [old]}), [], RuntimeError("again"), NOW)
    assert failing["conditions"] == [old]
    fixed = calculate_status(rs(3, status={"conditions": [old]}), [], None, NOW)
    assert "conditions" not in fixed


def test_terminating_replicas_are_counted_only_for_kinds_that_have_the_field() -> None:
    counted = calculate_status(rs(status={"terminatingReplicas": 3}), [pod()], None, NOW,
                               terminating=[pod(), pod()])
    assert counted["terminatingReplicas"] == 2
    absent = calculate_status(rs(status={"terminatingReplicas": 3}), [pod()], None, NOW)
    assert "terminatingReplicas" not in absent
    status = {"replicas": 0, "fullyLabeledReplicas": 0, "readyReplicas": 0,
              "availableReplicas": 0, "observedGeneration": 2}
    assert not status_unchanged(rs(status=status), {**status, "terminatingReplicas": 0})


def test_an_unchanged_status_of_the_current_generation_is_not_written() -> None:
    status = {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2,
              "availableReplicas": 2, "observedGeneration": 2}
    assert status_unchanged(rs(status=status), dict(status))
    assert not status_unchanged(rs(status={**status, "observedGeneration": 1}), dict(status))
