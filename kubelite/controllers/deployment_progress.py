"""A Deployment's status and conditions (upstream's sync.go calculateStatus,
progress.go syncRolloutStatus and the condition helpers of deployment_util.go), pure:
the loop passes the clock.

- Counts are sums over the ReplicaSets: replicas, readyReplicas, availableReplicas and
  terminatingReplicas from their status, updatedReplicas the new one's, and
  unavailableReplicas the wanted (spec) minus available, never below zero.
- Available: True (MinimumReplicasAvailable) while available >= replicas -
  maxUnavailable, else False (MinimumReplicasUnavailable).
- Progressing, with a progress deadline: NewReplicaSetAvailable once the rollout is
  complete; ReplicaSetUpdated (lastUpdateTime refreshed) whenever it made progress;
  ProgressDeadlineExceeded (False) once no progress was seen for
  progressDeadlineSeconds after the last. A complete rollout is not looked at again.
- ReplicaFailure is copied from the new ReplicaSet (else any old one) and dropped when
  none has it.
- A condition set with the same status and reason is left alone; with the same status
  it keeps its lastTransitionTime.
"""

from __future__ import annotations

import datetime

from kubelite.controllers.deployment_util import (
    NO_DEADLINE, max_unavailable, replicas, status_count)
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery.timestamps import format_time, parse_rfc3339

PROGRESSING = "Progressing"
AVAILABLE = "Available"
REPLICA_FAILURE = "ReplicaFailure"
# reasons, as upstream's deploymentutil spells them
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
FAILED_RS_CREATE = "ReplicaSetCreateError"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


def new_condition(type_: str, status: str, reason: str, message: str,
                  now: datetime.datetime) -> Obj:
    stamp = format_time(now)
    return {"type": type_, "status": status, "lastUpdateTime": stamp,
            "lastTransitionTime": stamp, "reason": reason, "message": message}


def get_condition(status: Obj, type_: str) -> Obj | None:
    for condition in status.get("conditions") or ():
        if condition.get("type") == type_:
            return dict(condition)
    return None


def set_condition(status: Obj, condition: Obj) -> None:
    current = get_condition(status, condition["type"])
    if current is not None and (current.get("status"), current.get("reason")) == (
            condition["status"], condition["reason"]):
        return
    if current is not None and current.get("status") == condition["status"]:
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    status["conditions"] = [*(c for c in status.get("conditions") or ()
                              if c.get("type") != condition["type"]), condition]


def remove_condition(status: Obj, type_: str) -> None:
    kept = [c for c in status.get("conditions") or () if c.get("type") != type_]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


def has_progress_deadline(deployment: Obj) -> bool:
    deadline = (deployment.get("spec") or {}).get("progressDeadlineSeconds")
    return deadline is not None and int(deadline) != NO_DEADLINE


def calculate_status(all_rss: list[Obj], new_rs: Obj | None, deployment: Obj,
                     now: datetime.datetime) -> Obj:
    available = sum(status_count(rs, "availableReplicas") for rs in all_rss)
    wanted = sum(replicas(rs) for rs in all_rss)
    old = deployment.get("status") or {}
    status: Obj = {
        "observedGeneration": meta(deployment).get("generation", 0),
        "replicas": sum(status_count(rs, "replicas") for rs in all_rss),
        "updatedReplicas": status_count(new_rs, "replicas") if new_rs is not None else 0,
        "readyReplicas": sum(status_count(rs, "readyReplicas") for rs in all_rss),
        "availableReplicas": available,
        "unavailableReplicas": max(0, wanted - available),
    }
    if any("terminatingReplicas" in (rs.get("status") or {}) for rs in all_rss):
        status["terminatingReplicas"] = sum(status_count(rs, "terminatingReplicas")
                                            for rs in all_rss)
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if available >= replicas(deployment) - max_unavailable(deployment):
        set_condition(status, new_condition(AVAILABLE, "True", MIN_AVAILABLE,
                                            "Deployment has minimum availability.", now))
    else:
        set_condition(status, new_condition(AVAILABLE, "False", MIN_UNAVAILABLE,
                                             "Deployment does not have minimum availability.",
                                             now))
    return status


def deployment_complete(deployment: Obj, status: Obj) -> bool:
    want = replicas(deployment)
    return (int(status.get("updatedReplicas") or 0) == want
            and int(status.get("replicas") or 0) == want
            and int(status.get("availableReplicas") or 0) == want
            and int(status.get("observedGeneration") or 0)
            >= int(meta(deployment).get("generation") or 0))


def deployment_progressing(deployment: Obj, status: Obj) -> bool:
    old = deployment.get("status") or {}

    def count(s: Obj, field: str) -> int:
        return int(s.get(field) or 0)

    return (count(status, "updatedReplicas") > count(old, "updatedReplicas")
            or count(status, "replicas") - count(status, "updatedReplicas")
            < count(old, "replicas") - count(old, "updatedReplicas")
            or count(status, "readyReplicas") > count(old, "readyReplicas")
            or count(status, "availableReplicas") > count(old, "availableReplicas"))


def seconds_left(deployment: Obj, now: datetime.datetime) -> float | None:
    """Until the Progressing condition's deadline (None: no deadline to watch)."""
    condition = get_condition(deployment.get("status") or {}, PROGRESSING)
    if not has_progress_deadline(deployment) or condition is None:
        return None
    since = parse_rfc3339(str(condition.get("lastUpdateTime") or ""))
    if since is None:
        return None
    deadline = since + datetime.timedelta(
        seconds=int(deployment["spec"]["progressDeadlineSeconds"]))
    return (deadline - now).total_seconds()


def deployment_timed_out(deployment: Obj, now: datetime.datetime) -> bool:
    condition = get_condition(deployment.get("status") or {}, PROGRESSING)
    if not has_progress_deadline(deployment) or condition is None:
        return False
    if condition.get("reason") == NEW_RS_AVAILABLE:
        return False
    if condition.get("reason") == TIMED_OUT:
        return True
    left = seconds_left(deployment, now)
    return left is not None and left < 0


def _failure_of(rs: Obj) -> Obj | None:
    for c in (rs.get("status") or {}).get("conditions") or ():
        if c.get("type") == REPLICA_FAILURE:
            return {"type": REPLICA_FAILURE, "status": c.get("status"),
                    "lastUpdateTime": c.get("lastTransitionTime"),
                    "lastTransitionTime": c.get("lastTransitionTime"),
                    "reason": c.get("reason"), "message": c.get("message")}
    return None


def rollout_status(all_rss: list[Obj], new_rs: Obj | None, deployment: Obj,
                   now: datetime.datetime) -> Obj:
    """The status syncRolloutStatus writes: counts, Available, Progressing, failures."""
    status = calculate_status(all_rss, new_rs, deployment, now)
    name = meta(deployment).get("name")
    if not has_progress_deadline(deployment):
        remove_condition(status, PROGRESSING)
    current = get_condition(deployment.get("status") or {}, PROGRESSING)
    complete_before = (status["replicas"] == status["updatedReplicas"] and current is not None
                       and current.get("reason") == NEW_RS_AVAILABLE)
    subject = (f'ReplicaSet "{meta(new_rs)["name"]}"' if new_rs is not None
               else f'Deployment "{name}"')
    if has_progress_deadline(deployment) and not complete_before:
        if deployment_complete(deployment, status):
            set_condition(status, new_condition(
                PROGRESSING, "True", NEW_RS_AVAILABLE, f"{subject} has successfully progressed.",
                now))
        elif deployment_progressing(deployment, status):
            condition = new_condition(PROGRESSING, "True", RS_UPDATED,
                                      f"{subject} is progressing.", now)
            if current is not None:
                if current.get("status") == "True":
                    condition["lastTransitionTime"] = current.get("lastTransitionTime")
                remove_condition(status, PROGRESSING)
            set_condition(status, condition)
        elif deployment_timed_out(deployment, now):
            set_condition(status, new_condition(
                PROGRESSING, "False", TIMED_OUT, f"{subject} has timed out progressing.", now))
    failures = [f for f in ([_failure_of(new_rs)] if new_rs is not None else []) if f] or \
        [f for f in (_failure_of(rs) for rs in all_rss) if f]
    if failures:
        set_condition(status, failures[0])
    else:
        remove_condition(status, REPLICA_FAILURE)
    return status


def requeue_after(deployment: Obj, status: Obj, now: datetime.datetime) -> float | None:
    """When to look at a rollout again to notice its deadline pass (requeueStuckDeployment)."""
    current = get_condition(deployment.get("status") or {}, PROGRESSING)
    if not has_progress_deadline(deployment) or current is None:
        return None
    if deployment_complete(deployment, status) or current.get("reason") == TIMED_OUT:
        return None
    left = seconds_left(deployment, now)
    return None if left is None else max(left, 0.0) + 1.0
