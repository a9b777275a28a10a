"""What a sync makes of a Job's pods, with upstream's cases (job_controller_test.go:
TestSyncJobPastDeadline, TestSyncJobWithJobPodFailurePolicy, TestSyncJobWithJobBackoffLimitPerIndex,
TestSyncJobWithJobSuccessPolicy, TestNewUncountedTerminatedPods ...) as tables."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.controllers.job_outcome import decide_outcome
from kubelite.controllers.job_policies import BackoffRecord
from kubelite.controllers.job_status import TRACKING_FINALIZER

Obj = dict[str, Any]
NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def job(status: Obj | None = None, **spec: Any) -> Obj:
    base = {"parallelism": 2, "completions": 5, "backoffLimit": 6, "completionMode": "NonIndexed",
            "template": {"spec": {"restartPolicy": "Never"}}}
    return {"metadata": {"name": "j", "namespace": "ns", "uid": "ju"},
            "spec": {**base, **spec}, "status": status or {}}


def pod(uid: str, phase: str = "Running", *, index: int | None = None, finalizer: bool = True,
        exit_code: int | None = None, deleting: bool = False, restarts: int = 0) -> Obj:
    m: Obj = {"name": f"p-{uid}", "namespace": "ns", "uid": uid}
    if finalizer:
        m["finalizers"] = [TRACKING_FINALIZER]
    if index is not None:
        m["annotations"] = {"batch.kubernetes.io/job-completion-index": str(index)}
    if deleting:
        m["deletionTimestamp"] = "2026-01-01T11:59:00Z"
    state = {"terminated": {"exitCode": exit_code}} if exit_code is not None else {"running": {}}
    return {"metadata": m, "status": {"phase": phase, "containerStatuses": [
        {"name": "main", "state": state, "restartCount": restarts}]}}


def outcome(j: Obj, pods: list[Obj], expected: set[str] | None = None) -> Any:
    return decide_outcome(j, pods, expected or set(), NOW, BackoffRecord())


@pytest.mark.parametrize(("j", "pods", "want"), [
    pytest.param(job(), [pod("a"), pod("b", "Succeeded", exit_code=0)], None, id="running"),
    pytest.param(job(backoffLimit=1), [pod("a", "Failed", exit_code=1), pod("b", "Failed", exit_code=1)],
                 ("FailureTarget", "BackoffLimitExceeded"), id="backoff-limit"),
    pytest.param(job({"failed": 1}, backoffLimit=1), [pod("a", "Failed", exit_code=1)],
                 ("FailureTarget", "BackoffLimitExceeded"), id="counted-plus-new"),
    pytest.param(job(backoffLimit=0), [pod("a", deleting=True)],
                 ("FailureTarget", "BackoffLimitExceeded"), id="deleted-pod-counts-as-failed"),
    pytest.param(job(backoffLimit=0, podReplacementPolicy="Failed"), [pod("a", deleting=True)],
                 None, id="deleted-pod-waits-with-replacement-policy-failed"),
    pytest.param(job(backoffLimit=2, template={"spec": {"restartPolicy": "OnFailure"}}),
                 [pod("a", restarts=1), pod("b", restarts=1)],
                 ("FailureTarget", "BackoffLimitExceeded"), id="restarts-on-failure"),
    pytest.param(job({"startTime": "2026-01-01T11:59:00Z"}, activeDeadlineSeconds=60), [pod("a")],
                 ("FailureTarget", "DeadlineExceeded"), id="deadline"),
    pytest.param(job({"startTime": "2026-01-01T11:59:30Z"}, activeDeadlineSeconds=60), [pod("a")],
                 None, id="before-deadline"),
    pytest.param(job({"startTime": "2026-01-01T11:00:00Z"}, activeDeadlineSeconds=60, suspend=True),
                 [], None, id="suspended-has-no-deadline"),
    pytest.param(job(podFailurePolicy={"rules": [{"action": "Ignore", "onExitCodes": {
        "operator": "In", "values": [1]}}]}, backoffLimit=0),
                 [pod("a", "Failed", exit_code=1)], None, id="ignored-failure"),
    pytest.param(job(podFailurePolicy={"rules": [{"action": "FailJob", "onExitCodes": {
        "operator": "In", "values": [1]}}]}), [pod("a", "Failed", exit_code=1, finalizer=False)],
                 ("FailureTarget", "PodFailurePolicy"), id="fail-job"),
    pytest.param(job({"conditions": [{"type": "FailureTarget", "status": "True",
                                      "reason": "DeadlineExceeded", "message": "m"}]}), [],
                 ("FailureTarget", "DeadlineExceeded"), id="interim-condition-stands"),
    pytest.param(job(completionMode="Indexed", completions=3, backoffLimitPerIndex=0,
                     maxFailedIndexes=0, backoffLimit=2**31 - 1),
                 [pod("a", "Failed", index=1, exit_code=1)],
                 ("FailureTarget", "MaxFailedIndexesExceeded"), id="max-failed-indexes"),
    pytest.param(job({"completedIndexes": "0,1"}, completionMode="Indexed", completions=3,
                     backoffLimitPerIndex=0, backoffLimit=2**31 - 1),
                 [pod("a", "Failed", index=2, exit_code=1)],
                 ("FailureTarget", "FailedIndexes"), id="every-index-done-some-failed"),
    pytest.param(job(completionMode="Indexed", completions=3,
                     successPolicy={"rules": [{"succeededCount": 1}]}),
                 [pod("a", "Succeeded", index=2, exit_code=0)],
                 ("SuccessCriteriaMet", "SuccessPolicy"), id="success-policy"),
])
def test_outcome(j: Obj, pods: list[Obj], want: tuple[str, str] | None) -> None:
    finished = outcome(j, pods).finished
    assert (None if finished is None else (finished["type"], finished["reason"])) == want


@pytest.mark.parametrize(("j", "pods", "expected", "succeeded", "failed"), [
    pytest.param(job({"succeeded": 1, "failed": 1}),
                 [pod("a", "Succeeded", exit_code=0), pod("b", "Failed", exit_code=1)],
                 set(), 2, 2, id="new-finished-pods"),
    pytest.param(job({"uncountedTerminatedPods": {"succeeded": ["a"], "failed": ["b"]}}),
                 [pod("a", "Succeeded", exit_code=0), pod("b", "Failed", exit_code=1)],
                 set(), 1, 1, id="uncounted-are-not-counted-twice"),
    pytest.param(job({"succeeded": 1}), [pod("a", "Succeeded", exit_code=0, finalizer=False)],
                 set(), 1, 0, id="without-finalizer-already-counted"),
    pytest.param(job({"succeeded": 1}), [pod("a", "Succeeded", exit_code=0)], {"a"}, 1, 0,
                 id="finalizer-removal-in-flight"),
    pytest.param(job({"completedIndexes": "0"}, completionMode="Indexed", completions=3),
                 [pod("a", "Succeeded", index=0, exit_code=0),
                  pod("b", "Succeeded", index=2, exit_code=0),
                  pod("c", "Succeeded", index=7, exit_code=0)],
                 set(), 2, 0, id="indexes-count-once-and-in-range"),
])
def test_counts(j: Obj, pods: list[Obj], expected: set[str], succeeded: int, failed: int) -> None:
    out = outcome(j, pods, expected)
    assert (out.succeeded, out.failed) == (succeeded, failed)


@pytest.mark.parametrize(("j", "pods", "want"), [
    pytest.param(job(), [], 2, id="parallelism"),
    pytest.param(job({"succeeded": 4}), [], 1, id="remaining-completions"),
    pytest.param(job({"succeeded": 5}), [], 0, id="done"),
    pytest.param(job(suspend=True), [pod("a")], 0, id="suspended"),
    pytest.param(job(completions=None), [pod("a")], 2, id="work-queue"),
    pytest.param(job({"succeeded": 1}, completions=None), [pod("a")], 1,
                 id="work-queue-after-a-success-keeps-what-runs"),
])
def test_wanted_active_pods(j: Obj, pods: list[Obj], want: int) -> None:
    assert outcome(j, pods).want_active() == want


def test_indexed_removal_takes_duplicates_and_strays_first() -> None:
    j = job(completionMode="Indexed", completions=3, parallelism=3)
    pods = [pod("a", index=0), pod("b", index=0), pod("c", index=5), pod("d", index=1)]
    removed = {p["metadata"]["uid"] for p in outcome(j, pods).pods_for_removal(3)}
    assert len(removed) == 2 and "c" in removed and removed & {"a", "b"}


def test_indexes_to_create_skip_done_and_running_ones() -> None:
    j = job({"completedIndexes": "0"}, completionMode="Indexed", completions=5, parallelism=5)
    indexes, delay = outcome(j, [pod("a", index=2)]).indexes_to_create(3, NOW, 10.0)
    assert (indexes, delay) == ([1, 3, 4], 0.0)
