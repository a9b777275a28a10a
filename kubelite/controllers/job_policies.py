"""The rules that decide what a finished pod means to its Job (upstream's
pod_failure_policy.go, success_policy.go and backoff_utils.go in pkg/controller/job).

- Pod failure policy: the first rule matching a Failed pod decides. onExitCodes matches
  a terminated container (init containers first) with a non-zero exit code, optionally
  by container name, `In` or `NotIn` the values; onPodConditions matches a pod condition
  by type and status. Actions: FailJob (the Job fails with a message naming the pod),
  Ignore (the failure is not counted), Count (counted, as without a policy), FailIndex
  (counted, and the pod's index fails at once). No rule matching: counted.
- Success policy (Indexed Jobs): the first rule met, by its succeededIndexes (all of
  them, or at least succeededCount of them) or by succeededCount alone, ends the Job
  with SuccessCriteriaMet "Matched rules at index N".
- Back-off between pod re-creations after failures: 10 s doubling per failure since the
  last success, capped at 10 minutes (upstream's DefaultJobPodFailureBackOff and
  MaxJobPodFailureBackOff), counted from the last failure's finish time.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from kubelite.controllers.job_indexes import parse_indexes
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery.timestamps import parse_rfc3339

FAIL_JOB = "FailJob"
IGNORE = "Ignore"
COUNT = "Count"
FAIL_INDEX = "FailIndex"

DEFAULT_POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 600.0


@dataclass(frozen=True, slots=True)
class PolicyMatch:
    message: str | None  # set for FailJob: the Job's failure message
    count_failed: bool
    action: str | None  # the matching rule's action, None when no rule matched


NO_MATCH = PolicyMatch(None, True, None)


def _terminated_exit(status: Obj) -> int | None:
    terminated = (status.get("state") or {}).get("terminated")
    if not isinstance(terminated, dict):
        return None
    return int(terminated.get("exitCode") or 0)


def _match_exit_codes(pod: Obj, requirement: Obj) -> Obj | None:
    status = pod.get("status") or {}
    wanted_name = requirement.get("containerName")
    values = set(requirement.get("values") or ())
    operator = requirement.get("operator")
    for container in [*(status.get("initContainerStatuses") or ()),
                      *(status.get("containerStatuses") or ())]:
        code = _terminated_exit(container)
        if code is None or code == 0:
            continue
        if wanted_name is not None and container.get("name") != wanted_name:
            continue
        if (operator == "In" and code in values) or (operator == "NotIn" and code not in values):
            return container  # type: ignore[no-any-return]
    return None


def _match_conditions(pod: Obj, patterns: list[Obj]) -> Obj | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        for pattern in patterns:
            if condition.get("type") == pattern.get("type") and \
                    condition.get("status") == pattern.get("status", "True"):
                return condition  # type: ignore[no-any-return]
    return None


def match_pod_failure_policy(policy: Obj | None, pod: Obj) -> PolicyMatch:
    """upstream's matchPodFailurePolicy for a failed pod."""
    if not policy:
        return NO_MATCH
    m = meta(pod)
    for index, rule in enumerate(policy.get("rules") or ()):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            container = _match_exit_codes(pod, rule["onExitCodes"])
            if container is None:
                continue
            message = (f"Container {container.get('name')} for pod {m.get('namespace')}/"
                       f"{m.get('name')} failed with exit code {_terminated_exit(container)} "
                       f"matching {action} rule at index {index}")
        elif rule.get("onPodConditions") is not None:
            condition = _match_conditions(pod, rule["onPodConditions"])
            if condition is None:
                continue
            message = (f"Pod {m.get('namespace')}/{m.get('name')} has condition "
                       f"{condition.get('type')} matching {action} rule at index {index}")
        else:
            continue
        if action == IGNORE:
            return PolicyMatch(None, False, IGNORE)
        if action == FAIL_JOB:
            return PolicyMatch(message, True, FAIL_JOB)
        if action in (COUNT, FAIL_INDEX):
            return PolicyMatch(None, True, action)
    return NO_MATCH


def match_success_policy(policy: Obj | None, completions: int,
                         succeeded: set[int]) -> str | None:
    """The SuccessCriteriaMet message of the first rule met, or None."""
    if not policy or not succeeded:
        return None
    for index, rule in enumerate(policy.get("rules") or ()):
        count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            required = parse_indexes(rule["succeededIndexes"], completions)
            if not required:
                continue
            done = len(required & succeeded)
            if (count is None and done == len(required)) or (count is not None and done >= count):
                return f"Matched rules at index {index}"
        elif count is not None and len(succeeded) >= count:
            return f"Matched rules at index {index}"
    return None


def finished_time(pod: Obj) -> datetime.datetime | None:
    """When a finished pod finished: its containers' latest finishedAt, else its
    deletionTimestamp (upstream's getFinishedTime, less the Ready condition)."""
    latest: datetime.datetime | None = None
    for container in (pod.get("status") or {}).get("containerStatuses") or ():
        terminated = (container.get("state") or {}).get("terminated") or {}
        when = parse_rfc3339(str(terminated.get("finishedAt") or ""))
        if when is not None and (latest is None or when > latest):
            latest = when
    if latest is None:
        latest = parse_rfc3339(str(meta(pod).get("deletionTimestamp") or ""))
    return latest


@dataclass(slots=True)
class BackoffRecord:
    """Failures since the last success, and when the last of them finished."""
    failures_after_last_success: int = 0
    last_failure_time: datetime.datetime | None = None

    def after(self, succeeded: list[Obj], failed: list[Obj], now: datetime.datetime
              ) -> BackoffRecord:
        """The record once these newly finished pods are counted (newBackoffRecord)."""
        def when(pod: Obj) -> datetime.datetime:
            return finished_time(pod) or now
        failed_times = sorted(when(p) for p in failed)
        if not succeeded:
            if not failed_times:
                return BackoffRecord(self.failures_after_last_success, self.last_failure_time)
            return BackoffRecord(self.failures_after_last_success + len(failed_times),
                                 failed_times[-1])
        last_success = max(when(p) for p in succeeded)
        later = [t for t in failed_times if t > last_success]
        return BackoffRecord(len(later), later[-1] if later else None)

    def remaining(self, now: datetime.datetime, *, base: float = DEFAULT_POD_FAILURE_BACKOFF,
                  cap: float = MAX_POD_FAILURE_BACKOFF) -> float:
        """Seconds to wait before creating pods again (getRemainingTimeForRecord)."""
        if self.failures_after_last_success == 0 or self.last_failure_time is None:
            return 0.0
        delay = base
        for _ in range(1, self.failures_after_last_success):
            delay *= 2
            if delay >= cap:
                delay = cap
                break
        elapsed = (now - self.last_failure_time).total_seconds()
        return 0.0 if delay < elapsed else delay - elapsed
