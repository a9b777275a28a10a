"""A pending pod as the scheduling queue holds it, and the pure rules about it: how the
queue orders pods, how long a pod backs off, which updates count, and whether a pod
waits on another through required pod affinity (upstream's framework.QueuedPodInfo,
PrioritySort's Less, calculateBackoffDuration, isPodUpdated and
getUnschedulablePodsWithMatchingAffinityTerm).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubelite.machinery.errors import BadRequest
from kubelite.machinery.labels import selector_from_label_selector

Obj = dict[str, Any]

INITIAL_BACKOFF = 1.0  # podInitialBackoffDuration
MAX_BACKOFF = 10.0  # podMaxBackoffDuration


def pod_priority(pod: Obj) -> int:
    priority = (pod.get("spec") or {}).get("priority")
    return priority if isinstance(priority, int) else 0


@dataclass(slots=True, eq=False)
class QueuedPodInfo:
    """A pending pod and its scheduling history (framework.QueuedPodInfo)."""

    key: str
    pod: Obj
    timestamp: float  # when it entered the queue, or last failed
    initial_attempt_timestamp: float | None = None  # first pop
    attempts: int = 0
    unschedulable_plugins: set[str] = field(default_factory=set)
    pending_plugins: set[str] = field(default_factory=set)
    gated: bool = False
    gating_reason: str | None = None
    # read on every heap comparison, so kept beside the pod rather than looked up in it
    priority: int = field(init=False)
    # read for every unschedulable pod on every binding (AssignedPodAdd), so kept too
    affinity_terms: list[Obj] = field(init=False)

    def __post_init__(self) -> None:
        self.update_pod(self.pod)

    def update_pod(self, pod: Obj) -> None:
        self.pod = pod
        self.priority = pod_priority(pod)
        self.affinity_terms = required_affinity_terms(pod)


Less = Callable[[QueuedPodInfo, QueuedPodInfo], bool]
PreEnqueueCheck = Callable[[Obj], str | None]  # None admits, a reason gates


def priority_less(a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
    """PrioritySort's ordering: higher priority first, then the earlier timestamp."""
    return a.priority > b.priority or (a.priority == b.priority and a.timestamp < b.timestamp)


def backoff_duration(attempts: int, initial: float = INITIAL_BACKOFF,
                     maximum: float = MAX_BACKOFF) -> float:
    """Initial backoff doubled per attempt after the first, capped (upstream's
    calculateBackoffDuration); a pod never attempted owes no backoff."""
    if attempts == 0:
        return 0.0
    duration = initial
    for _ in range(1, attempts):
        if duration > maximum - duration:
            return maximum
        duration += duration
    return duration


def backoff_expiry(info: QueuedPodInfo, initial: float = INITIAL_BACKOFF,
                   maximum: float = MAX_BACKOFF) -> float:
    return info.timestamp + backoff_duration(info.attempts, initial, maximum)


def _stripped(pod: Obj) -> Obj:
    """The pod without what changes on every write (upstream's isPodUpdated strip)."""
    meta = {k: v for k, v in (pod.get("metadata") or {}).items()
            if k not in ("resourceVersion", "generation", "managedFields", "finalizers")}
    status = {k: v for k, v in (pod.get("status") or {}).items() if k == "resourceClaimStatuses"}
    return {**pod, "metadata": meta, "status": status}


def is_pod_updated(old: Obj, new: Obj) -> bool:
    return _stripped(old) != _stripped(new)


def required_affinity_terms(pod: Obj) -> list[Obj]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("podAffinity") or {}
    terms = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or []
    return [t for t in terms if isinstance(t, dict)]


def term_matches(term: Obj, pod: Obj, assigned: Obj) -> bool:
    meta = assigned.get("metadata") or {}
    namespaces = term.get("namespaces") or []
    ns_selector = term.get("namespaceSelector")
    if ns_selector is not None and not ns_selector.get("matchLabels") \
            and not ns_selector.get("matchExpressions"):
        in_namespace = True  # `{}` selects every namespace
    elif namespaces or ns_selector is not None:
        # Namespace labels are not known here; a labelled namespaceSelector counts only
        # the namespaces listed by name.
        in_namespace = meta.get("namespace") in namespaces
    else:
        in_namespace = meta.get("namespace") == (pod.get("metadata") or {}).get("namespace")
    try:
        selector = selector_from_label_selector(term.get("labelSelector"))
    except BadRequest:  # a bad selector cannot match; validation reports it elsewhere
        return False
    return in_namespace and selector.matches(meta.get("labels") or {})

