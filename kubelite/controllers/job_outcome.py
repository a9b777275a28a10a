"""What one sync of a Job makes of its pods, before it writes anything (the first half
of upstream's syncJob): which pods are active, newly finished or terminating, how many
succeeded and failed, which indexes are done or failed, and whether the Job has reached
an outcome, in upstream's order of precedence:

  1. an interim condition already written (SuccessCriteriaMet, FailureTarget) stands;
  2. a failed pod matching a FailJob rule of the podFailurePolicy;
  3. more failures than backoffLimit, or (restartPolicy OnFailure) as many restarts;
  4. running longer than activeDeadlineSeconds since startTime;
  5. Indexed with backoffLimitPerIndex: more failed indexes than maxFailedIndexes, or
     every index succeeded or failed with at least one failed;
  6. Indexed with a successPolicy whose rule is met.

Reaching `completions` successes is decided after the pods are managed (job.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from kubelite.controllers.deletion_ranking import pods_to_delete
from kubelite.controllers.job_indexes import (
    completion_index, first_pending_indexes, index_failure_count, parse_indexes, valid_index)
from kubelite.controllers.job_policies import (
    FAIL_INDEX, BackoffRecord, finished_time, match_pod_failure_policy, match_success_policy)
from kubelite.controllers.job_status import (
    FAILURE_TARGET, SUCCESS_CRITERIA_MET, condition, count_ready, has_finalizer, is_failed,
    only_replace_failed, restarts_on_failure)
from kubelite.controllers.pods import Obj, is_active, is_terminating, meta
from kubelite.machinery.timestamps import format_time, parse_rfc3339


def interim(type_: str, reason: str, message: str) -> Obj:
    return {"type": type_, "reason": reason, "message": message}


COMPLETIONS_REACHED = interim(SUCCESS_CRITERIA_MET, "CompletionsReached",
                              "Reached expected number of succeeded pods")


@dataclass(slots=True)
class JobOutcome:
    job: Obj
    pods: list[Obj]
    now: datetime.datetime
    expected_removals: set[str]
    backoff: BackoffRecord
    active: list[Obj] = field(default_factory=list)
    active_count: int = 0
    terminating: int = 0
    ready: int = 0
    succeeded: int = 0
    failed: int = 0
    prev_succeeded_indexes: set[int] = field(default_factory=set)
    succeeded_indexes: set[int] = field(default_factory=set)
    failed_indexes: set[int] | None = None
    finished: Obj | None = None  # the interim condition (type, reason, message)
    deadline: float | None = None

    @property
    def spec(self) -> Obj:
        return self.job.get("spec") or {}

    @property
    def now_stamp(self) -> str:
        return format_time(self.now)

    @property
    def suspended(self) -> bool:
        return bool(self.spec.get("suspend"))

    @property
    def indexed(self) -> bool:
        return self.spec.get("completionMode") == "Indexed"

    @property
    def per_index(self) -> bool:
        return self.indexed and self.spec.get("backoffLimitPerIndex") is not None

    @property
    def completions(self) -> int | None:
        value = self.spec.get("completions")
        return None if value is None else int(value)

    def want_active(self) -> int:
        if self.suspended:
            return 0
        parallelism = int(self.spec.get("parallelism") or 0)
        if self.completions is None:
            return self.active_count if self.succeeded > 0 else parallelism
        want = self.completions - self.succeeded - len(self.failed_indexes or ())
        return max(0, min(parallelism, want))

    def replacing(self) -> int:
        """Terminating pods that still stand for their replacements."""
        return self.terminating if only_replace_failed(self.job) else 0

    def complete(self) -> bool:
        if self.completions is None:
            return self.succeeded > 0 and self.active_count == 0
        return self.succeeded >= self.completions and self.active_count == 0

    def pods_for_removal(self, want: int) -> list[Obj]:
        """Out-of-range and duplicate indexes first, then by rank (activePodsForRemoval)."""
        remove: list[Obj] = []
        left = list(self.active)
        if self.indexed:
            seen: set[int] = set()
            left = []
            for pod in sorted(self.active, key=completion_index):
                ix = completion_index(pod)
                if not valid_index(pod, self.completions or 0) or ix in seen:
                    remove.append(pod)
                else:
                    seen.add(ix)
                    left.append(pod)
        more = self.active_count - want - len(remove)
        if more > 0:
            remove += pods_to_delete(left, left, more)
        return remove

    def index_failure_count(self, ix: int) -> int | None:
        if not self.per_index:
            return None
        return self._index_failures().get(ix, (0, None))[0]

    def _index_failures(self) -> dict[int, tuple[int, datetime.datetime | None]]:
        out: dict[int, tuple[int, datetime.datetime | None]] = {}
        for pod in self.pods:
            if not is_failed(pod, self.job) or not match_pod_failure_policy(
                    self.spec.get("podFailurePolicy"), pod).count_failed:
                continue
            ix = completion_index(pod)
            count, last = out.get(ix, (0, None))
            when = finished_time(pod)
            out[ix] = (max(count, index_failure_count(pod) + 1),
                       when if last is None or (when is not None and when > last) else last)
        return out

    def indexes_to_create(self, count: int, now: datetime.datetime, base: float
                          ) -> tuple[list[int], float]:
        """The lowest pending indexes, less those still backing off after a failure
        (backoffLimitPerIndex); and the shortest wait for those held back."""
        taken = self.succeeded_indexes | (self.failed_indexes or set())
        taken |= {completion_index(p) for p in self.active}
        pending = first_pending_indexes(self.completions or 0, (self.completions or 0), taken)
        if not self.per_index:
            return pending[:count], 0.0
        failures = self._index_failures()
        ready: list[int] = []
        delay = 0.0
        for ix in pending:
            failed, last = failures.get(ix, (0, None))
            wait = BackoffRecord(failed, last).remaining(now, base=base)
            if wait > 0:
                delay = wait if delay == 0 else min(delay, wait)
            elif len(ready) < count:
                ready.append(ix)
        return ready, delay

    def remaining_deadline(self, status: Obj) -> float:
        start = parse_rfc3339(str(status.get("startTime") or "")) or self.now
        return max(0.0, (self.deadline or 0) - (self.now - start).total_seconds())


def decide_outcome(job: Obj, pods: list[Obj], expected_removals: set[str],
                   now: datetime.datetime, backoff: BackoffRecord) -> JobOutcome:
    out = JobOutcome(job, pods, now, expected_removals, backoff)
    spec, status = out.spec, job.get("status") or {}
    uncounted = status.get("uncountedTerminatedPods") or {}
    uncounted_succeeded = set(uncounted.get("succeeded") or ())
    uncounted_failed = set(uncounted.get("failed") or ())
    completions = out.completions or 0
    out.active = [p for p in pods if is_active(p)]
    out.active_count = len(out.active)
    out.terminating = sum(1 for p in pods if is_terminating(p))
    out.ready = count_ready(out.active)
    out.deadline = spec.get("activeDeadlineSeconds")

    def new(pod: Obj) -> bool:
        uid = str(meta(pod).get("uid") or "")
        return (has_finalizer(pod) and uid not in uncounted_succeeded
                and uid not in uncounted_failed and uid not in expected_removals)

    new_succeeded = [p for p in pods if new(p) and (p.get("status") or {}).get("phase") == "Succeeded"
                     and (not out.indexed or valid_index(p, completions))]
    new_failed = [p for p in pods if new(p) and is_failed(p, job)]
    policy = spec.get("podFailurePolicy")
    matches = [(p, match_pod_failure_policy(policy, p)) for p in new_failed]
    counted_failed = [p for p, m in matches if m.count_failed]
    out.backoff = backoff.after(new_succeeded, new_failed, now)
    out.succeeded = int(status.get("succeeded") or 0) + len(new_succeeded) + len(uncounted_succeeded)
    out.failed = int(status.get("failed") or 0) + len(counted_failed) + len(uncounted_failed)

    if out.indexed:
        out.prev_succeeded_indexes = parse_indexes(status.get("completedIndexes"), completions)
        out.succeeded_indexes = out.prev_succeeded_indexes | {
            completion_index(p) for p in pods
            if (p.get("status") or {}).get("phase") == "Succeeded" and valid_index(p, completions)}
        out.succeeded = len(out.succeeded_indexes)
    if out.per_index:
        limit = int(spec.get("backoffLimitPerIndex") or 0)
        failed = parse_indexes(status.get("failedIndexes"), completions)
        for pod, match in matches:
            if match.count_failed and valid_index(pod, completions) and (
                    match.action == FAIL_INDEX or index_failure_count(pod) >= limit):
                failed.add(completion_index(pod))
        out.failed_indexes = failed - out.succeeded_indexes

    out.finished = _decide(out, status, pods, policy)
    return out


def _decide(out: JobOutcome, status: Obj, pods: list[Obj], policy: Obj | None) -> Obj | None:
    job, spec = out.job, out.spec
    for type_ in (SUCCESS_CRITERIA_MET, FAILURE_TARGET):
        cond = condition(job, type_)
        if cond is not None and cond.get("status") == "True":
            return interim(type_, str(cond.get("reason") or ""), str(cond.get("message") or ""))
    for pod in pods:
        if (pod.get("status") or {}).get("phase") == "Failed":
            message = match_pod_failure_policy(policy, pod).message
            if message is not None:
                return interim(FAILURE_TARGET, "PodFailurePolicy", message)
    if out.failed > int(spec.get("backoffLimit") or 0) or restarts_on_failure(job, out.active):
        return interim(FAILURE_TARGET, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    start = parse_rfc3339(str(status.get("startTime") or ""))
    if out.deadline is not None and start is not None and not out.suspended and \
            (out.now - start).total_seconds() >= out.deadline:
        return interim(FAILURE_TARGET, "DeadlineExceeded", "Job was active longer than specified deadline")
    completions = out.completions or 0
    if out.failed_indexes is not None:
        max_failed = spec.get("maxFailedIndexes")
        if max_failed is not None and len(out.failed_indexes) > max_failed:
            return interim(FAILURE_TARGET, "MaxFailedIndexesExceeded",
                           "Job has exceeded the specified maximal number of failed indexes")
        if out.failed_indexes and len(out.failed_indexes) + len(out.succeeded_indexes) >= completions:
            return interim(FAILURE_TARGET, "FailedIndexes", "Job has failed indexes")
    if out.indexed:
        message = match_success_policy(spec.get("successPolicy"), completions, out.succeeded_indexes)
        if message is not None:
            return interim(SUCCESS_CRITERIA_MET, "SuccessPolicy", message)
    return None
