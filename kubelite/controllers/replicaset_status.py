"""A ReplicaSet's (or ReplicationController's) status, from the pods it owns (upstream's
replica_set_utils.go: calculateStatus, updateReplicaSetStatus).

- replicas: active pods claimed; fullyLabeledReplicas: those whose labels carry every
  label of the template; readyReplicas: Ready; availableReplicas: Ready for at least
  minReadySeconds; terminatingReplicas (ReplicaSets only, as 1.35's
  DeploymentReplicaSetTerminatingReplicas gate, on by default, has it): owned pods
  being deleted that have not finished.
- ReplicaFailure: set (True, reason FailedCreate or FailedDelete, the error as
  message) when managing replicas failed and no such condition is there yet; removed
  once a sync manages replicas without error.
- observedGeneration: the generation this status was computed for.
- Written only when something changed (the steady state costs no write), with one
  retry on a fresh read after a conflict.
"""

from __future__ import annotations

import datetime

from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.controllers.pods import Obj, is_available, is_ready, meta
from kubelite.controllers.status_writes import replaced, write_status
from kubelite.machinery import labels
from kubelite.machinery.timestamps import format_time

REPLICA_FAILURE = "ReplicaFailure"
_COUNTS = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas")


def calculate_status(owner: Obj, pods: list[Obj], manage_error: Exception | None,
                     now: datetime.datetime, terminating: list[Obj] | None = None) -> Obj:
    """`terminating` None: the kind has no terminatingReplicas field."""
    spec = owner.get("spec") or {}
    status: Obj = dict(owner.get("status") or {})
    template_labels = labels.selector_from_set(
        ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {})
    min_ready = int(spec.get("minReadySeconds") or 0)
    conditions = [c for c in status.get("conditions") or () if isinstance(c, dict)]
    failure = next((c for c in conditions if c.get("type") == REPLICA_FAILURE), None)
    if manage_error is not None and failure is None:
        diff = len(pods) - int(spec.get("replicas", 1))
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        conditions.append({"type": REPLICA_FAILURE, "status": "True",
                           "lastTransitionTime": format_time(now), "reason": reason,
                           "message": str(manage_error)})
    elif manage_error is None and failure is not None:
        conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    status["replicas"] = len(pods)
    fully_labeled = ready = available = 0
    for p in pods:  # one pass: a ReplicaSet may own thousands
        fully_labeled += template_labels.matches(meta(p).get("labels") or {})
        if is_ready(p):
            ready += 1
            available += min_ready <= 0 or is_available(p, min_ready, now)
    status["fullyLabeledReplicas"] = fully_labeled
    status["readyReplicas"] = ready
    status["availableReplicas"] = available
    if terminating is None:
        status.pop("terminatingReplicas", None)
    else:
        status["terminatingReplicas"] = len(terminating)
    return status


def status_unchanged(owner: Obj, status: Obj) -> bool:
    old = owner.get("status") or {}
    return (all(int(old.get(k) or 0) == int(status.get(k) or 0) for k in _COUNTS)
            and int(meta(owner).get("generation") or 0) == int(old.get("observedGeneration") or 0)
            and old.get("terminatingReplicas") == status.get("terminatingReplicas")
            and (old.get("conditions") or []) == (status.get("conditions") or []))


async def update_status(client: Client, resource: Resource, owner: Obj, status: Obj) -> Obj:
    """Write `status` (with observedGeneration) unless nothing changed; the object as
    written comes back."""
    if status_unchanged(owner, status):
        return owner
    # the generation acted on, even when the retry reads a newer one
    status = {**status, "observedGeneration": meta(owner).get("generation", 0)}
    return await write_status(client, resource, owner, status, replaced)
