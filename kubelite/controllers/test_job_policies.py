"""Pod failure policy, success policy and back-off, with upstream's cases
(pod_failure_policy_test.go, success_policy_test.go, backoff_utils_test.go)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.controllers.job_policies import (
    BackoffRecord, PolicyMatch, match_pod_failure_policy, match_success_policy)

Obj = dict[str, Any]
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def failed_pod(*codes: tuple[str, int], conditions: list[Obj] | None = None,
               init: tuple[str, int] | None = None) -> Obj:
    def terminated(name: str, code: int) -> Obj:
        return {"name": name, "state": {"terminated": {"exitCode": code}}}
    status: Obj = {"phase": "Failed", "containerStatuses": [terminated(n, c) for n, c in codes],
                   "conditions": conditions or []}
    if init:
        status["initContainerStatuses"] = [terminated(*init)]
    return {"metadata": {"namespace": "ns", "name": "p"}, "status": status}


def rule(action: str, **on: Any) -> Obj:
    return {"action": action, **on}


EXIT_42_FAILS = rule("FailJob", onExitCodes={"operator": "In", "values": [42]})


@pytest.mark.parametrize(("rules", "pod", "want"), [
    pytest.param(None, failed_pod(("c", 1)), PolicyMatch(None, True, None), id="no-policy-counts"),
    pytest.param([EXIT_42_FAILS], failed_pod(("main", 42)),
                 PolicyMatch("Container main for pod ns/p failed with exit code 42 matching "
                             "FailJob rule at index 0", True, "FailJob"), id="fail-job-on-exit-code"),
    pytest.param([EXIT_42_FAILS], failed_pod(("main", 1)), PolicyMatch(None, True, None),
                 id="other-exit-code-counts"),
    pytest.param([rule("Ignore", onExitCodes={"operator": "NotIn", "values": [1, 2]})],
                 failed_pod(("main", 3)), PolicyMatch(None, False, "Ignore"), id="ignore-not-in"),
    pytest.param([rule("Ignore", onExitCodes={"operator": "NotIn", "values": [1, 2]})],
                 failed_pod(("main", 0), ("side", 0)), PolicyMatch(None, True, None),
                 id="exit-zero-never-matches"),
    pytest.param([rule("FailJob", onExitCodes={"containerName": "side", "operator": "In",
                                               "values": [5]})],
                 failed_pod(("main", 5)), PolicyMatch(None, True, None), id="other-container"),
    pytest.param([rule("Count", onExitCodes={"operator": "In", "values": [5]}), EXIT_42_FAILS],
                 failed_pod(("main", 42), ("b", 5)), PolicyMatch(None, True, "Count"),
                 id="first-rule-wins"),
    pytest.param([rule("FailIndex", onExitCodes={"operator": "In", "values": [7]})],
                 failed_pod(("main", 0), init=("setup", 7)), PolicyMatch(None, True, "FailIndex"),
                 id="init-container"),
    pytest.param([rule("Ignore", onPodConditions=[{"type": "DisruptionTarget", "status": "True"}])],
                 failed_pod(("main", 137), conditions=[{"type": "DisruptionTarget", "status": "True"}]),
                 PolicyMatch(None, False, "Ignore"), id="ignore-disruption"),
    pytest.param([rule("FailJob", onPodConditions=[{"type": "ConfigIssue", "status": "True"}])],
                 failed_pod(("main", 1), conditions=[{"type": "ConfigIssue", "status": "True"}]),
                 PolicyMatch("Pod ns/p has condition ConfigIssue matching FailJob rule at index 0",
                             True, "FailJob"), id="fail-job-on-condition"),
    pytest.param([rule("FailJob", onPodConditions=[{"type": "ConfigIssue", "status": "True"}])],
                 failed_pod(("main", 1), conditions=[{"type": "ConfigIssue", "status": "False"}]),
                 PolicyMatch(None, True, None), id="condition-status-differs"),
])
def test_pod_failure_policy(rules: list[Obj] | None, pod: Obj, want: PolicyMatch) -> None:
    policy = None if rules is None else {"rules": rules}
    assert match_pod_failure_policy(policy, pod) == want


@pytest.mark.parametrize(("rules", "completions", "succeeded", "want"), [
    pytest.param(None, 5, {0, 1}, None, id="no-policy"),
    pytest.param([{"succeededIndexes": "0-2"}], 5, {0, 1}, None, id="indexes-not-all-done"),
    pytest.param([{"succeededIndexes": "0-2"}], 5, {0, 1, 2}, "Matched rules at index 0",
                 id="indexes-all-done"),
    pytest.param([{"succeededIndexes": "0-3", "succeededCount": 2}], 5, {1, 3, 4},
                 "Matched rules at index 0", id="count-within-indexes"),
    pytest.param([{"succeededIndexes": "7-9"}, {"succeededCount": 2}], 5, {1, 4},
                 "Matched rules at index 1", id="out-of-range-rule-skipped"),
    pytest.param([{"succeededCount": 3}], 5, {1, 4}, None, id="count-not-reached"),
    pytest.param([{"succeededCount": 1}], 5, set(), None, id="nothing-succeeded"),
])
def test_success_policy(rules: list[Obj] | None, completions: int, succeeded: set[int],
                        want: str | None) -> None:
    policy = None if rules is None else {"rules": rules}
    assert match_success_policy(policy, completions, succeeded) == want


def finished_pod(phase: str, seconds: int) -> Obj:
    at = (T0 + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"metadata": {}, "status": {"phase": phase, "containerStatuses": [
        {"name": "c", "state": {"terminated": {"finishedAt": at}}}]}}


@pytest.mark.parametrize(("record", "succeeded", "failed", "want"), [
    pytest.param(BackoffRecord(), [], [], BackoffRecord(), id="nothing-new"),
    pytest.param(BackoffRecord(2, T0), [], [finished_pod("Failed", 5)],
                 BackoffRecord(3, T0 + datetime.timedelta(seconds=5)), id="failures-add-up"),
    pytest.param(BackoffRecord(2, T0), [finished_pod("Succeeded", 5)], [],
                 BackoffRecord(0, None), id="success-resets"),
    pytest.param(BackoffRecord(4, T0), [finished_pod("Succeeded", 5)],
                 [finished_pod("Failed", 3), finished_pod("Failed", 8), finished_pod("Failed", 9)],
                 BackoffRecord(2, T0 + datetime.timedelta(seconds=9)),
                 id="only-failures-after-the-last-success"),
])
def test_backoff_record(record: BackoffRecord, succeeded: list[Obj], failed: list[Obj],
                        want: BackoffRecord) -> None:
    assert record.after(succeeded, failed, T0) == want


@pytest.mark.parametrize(("failures", "elapsed", "want"), [
    pytest.param(0, 0, 0.0, id="no-failures"),
    pytest.param(1, 0, 10.0, id="first-10s"),
    pytest.param(1, 4, 6.0, id="counted-from-the-failure"),
    pytest.param(3, 0, 40.0, id="doubling"),
    pytest.param(3, 50, 0.0, id="elapsed"),
    pytest.param(10, 0, 600.0, id="capped-at-10-minutes"),
])
def test_backoff_remaining(failures: int, elapsed: int, want: float) -> None:
    record = BackoffRecord(failures, T0 if failures else None)
    assert record.remaining(T0 + datetime.timedelta(seconds=elapsed)) == want
