"""A Job's conditions and what its pods count for (upstream's job_controller.go helpers:
newCondition, ensureJobConditionStatus, IsJobFinished, isPodFailed, countReadyPods).

Conditions and their reasons, as upstream writes them:

| type | reason | message |
|---|---|---|
| SuccessCriteriaMet, then Complete | CompletionsReached | Reached expected number of succeeded pods |
| SuccessCriteriaMet, then Complete | SuccessPolicy | Matched rules at index N |
| FailureTarget, then Failed | BackoffLimitExceeded | Job has reached the specified backoff limit |
| FailureTarget, then Failed | DeadlineExceeded | Job was active longer than specified deadline |
| FailureTarget, then Failed | PodFailurePolicy | Container C for pod NS/P failed with exit code ... |
| FailureTarget, then Failed | FailedIndexes / MaxFailedIndexesExceeded | Job has failed indexes / ... |
| Suspended | JobSuspended / JobResumed | Job suspended / Job resumed |

The interim condition (SuccessCriteriaMet, FailureTarget) is written as soon as the
outcome is known; the terminal one only once no pod is uncounted or terminating, so a
finished Job never has pods still running.
"""

from __future__ import annotations

import datetime

from kubelite.controllers.pods import Obj, is_active, is_ready, meta
from kubelite.machinery.timestamps import format_time

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"

COMPLETE = "Complete"
FAILED = "Failed"
SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"
FAILURE_TARGET = "FailureTarget"
SUSPENDED = "Suspended"

TERMINAL_OF = {SUCCESS_CRITERIA_MET: COMPLETE, FAILURE_TARGET: FAILED}


def condition(job: Obj, type_: str) -> Obj | None:
    for cond in (job.get("status") or {}).get("conditions") or ():
        if cond.get("type") == type_:
            return cond  # type: ignore[no-any-return]
    return None


def condition_true(job: Obj, type_: str) -> bool:
    cond = condition(job, type_)
    return cond is not None and cond.get("status") == "True"


def is_finished(job: Obj) -> bool:
    """Complete or Failed (upstream's IsJobFinished)."""
    return condition_true(job, COMPLETE) or condition_true(job, FAILED)


def new_condition(type_: str, reason: str, message: str, now: datetime.datetime,
                  status: str = "True") -> Obj:
    stamp = format_time(now)
    return {"type": type_, "status": status, "lastProbeTime": stamp,
            "lastTransitionTime": stamp, "reason": reason, "message": message}


def ensure_condition(status: Obj, type_: str, value: str, reason: str, message: str,
                     now: datetime.datetime) -> bool:
    """Set the condition's status, reason and message (ensureJobConditionStatus): a new
    condition is added only when True; a change of status moves its transition time.
    True when anything changed."""
    conditions: list[Obj] = status.setdefault("conditions", [])
    for cond in conditions:
        if cond.get("type") != type_:
            continue
        if (cond.get("status"), cond.get("reason"), cond.get("message")) == (value, reason, message):
            return False
        stamp = format_time(now)
        if cond.get("status") != value:
            cond["lastTransitionTime"] = stamp
        cond.update(status=value, reason=reason, message=message, lastProbeTime=stamp)
        return True
    if value != "True":
        if not conditions:
            status.pop("conditions")
        return False
    conditions.append(new_condition(type_, reason, message, now, value))
    return True


def has_finalizer(pod: Obj) -> bool:
    return TRACKING_FINALIZER in (meta(pod).get("finalizers") or ())


def only_replace_failed(job: Obj) -> bool:
    """podReplacementPolicy Failed (the default with a podFailurePolicy): a terminating
    pod is replaced only once it has failed."""
    spec = job.get("spec") or {}
    if spec.get("podReplacementPolicy") == "Failed":
        return True
    return spec.get("podFailurePolicy") is not None


def is_failed(pod: Obj, job: Obj) -> bool:
    """Failed, or (unless only failed pods are replaced) deleted before it succeeded: an
    orphan deleted mid-run never reaches a terminal phase (upstream's isPodFailed)."""
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Failed":
        return True
    if only_replace_failed(job):
        return False
    return bool(meta(pod).get("deletionTimestamp")) and phase != "Succeeded"


def count_ready(pods: list[Obj]) -> int:
    return sum(1 for p in pods if is_active(p) and is_ready(p))


def restarts_on_failure(job: Obj, active: list[Obj]) -> bool:
    """restartPolicy OnFailure and the active pods' restarts reached backoffLimit
    (upstream's pastBackoffLimitOnFailure)."""
    spec = job.get("spec") or {}
    if ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") != "OnFailure":
        return False
    total = 0
    for pod in active:
        status = pod.get("status") or {}
        for container in [*(status.get("initContainerStatuses") or ()),
                          *(status.get("containerStatuses") or ())]:
            total += int(container.get("restartCount") or 0)
    limit = int(spec.get("backoffLimit") or 0)
    return total > 0 if limit == 0 else total >= limit
