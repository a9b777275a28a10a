"""Preemption's vocabulary (upstream's pkg/scheduler/framework/preemption): what a
candidate node is, what PostFilter answers, the order of victims' importance, which
victims a PodDisruptionBudget protects, and how one node is picked among candidates.

    FitError's Diagnosis ─► evaluator.py: eligible? potential rows, how many candidates
                            dry_run.py:   victims per row, by columns or by the table
                            here:         pick_one_node among the candidates

Nothing here does I/O: the result names the node, the victims and the lower-priority
pods whose nomination to that node must be cleared; the scheduler's loop (victims.py)
deletes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kubelite.machinery import labels
from kubelite.machinery.errors import StatusError
from kubelite.machinery.timestamps import parse_rfc3339
from kubelite.scheduler.diagnosis import Diagnosis
from kubelite.scheduler.framework import Obj, Status
from kubelite.scheduler.node_table import NodeTable, pod_key
from kubelite.scheduler.queued_pod import pod_priority

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
POLICY_NEVER = "not eligible due to preemptionPolicy=Never."
TERMINATING_ON_NOMINATED = "not eligible due to a terminating pod on the nominated node."
PREEMPTION_BY_SCHEDULER = "PreemptionByScheduler"  # v1.PodReasonPreemptionByScheduler


class PreemptionHandle(Protocol):
    """What preemption needs from the scheduler running the cycle (upstream's fwk.Handle)."""

    rng: np.random.Generator

    def filter_nodes(self, pod: Obj, nodes: NodeTable) -> Diagnosis:
        """PreFilter and Filter over the table as it is now, nominated pods counted."""
        ...

    def nominated_pods_for_node(self, node: str) -> list[Obj]: ...

    def nominated_node(self, pod: Obj) -> str:
        """status.nominatedNodeName, or the nomination the scheduler made and has not
        seen written back yet."""
        ...


class PostFilterPlugin(Protocol):
    """Called once after a cycle ends in FitError, with each row's status (upstream's
    PostFilterPlugin; framework.py holds the other extension points). Success with a
    result naming a node: nominate it (the loop evicts the result's victims); a rejection
    with a result naming no node: clear the pod's nomination; None: leave it. The
    status's message is appended to FitError's. Must leave the table as it found it."""

    name: str

    def post_filter(self, pod: Obj, nodes: NodeTable, diagnosis: Diagnosis,
                    handle: PreemptionHandle) -> tuple[PostFilterResult | None, Status]: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    node: str
    victims: tuple[Obj, ...]  # most important first
    pdb_violations: int = 0


@dataclass(frozen=True, slots=True)
class PostFilterResult:
    """The node nominated for the pod ("" clears its nomination), the pods to evict, and
    the lower-priority pods nominated to that node, whose nominations must go."""

    nominated_node: str
    victims: tuple[Obj, ...] = ()
    clear_nominations: tuple[Obj, ...] = ()


def start_time(pod: Obj) -> float:
    """status.startTime; a pod not started yet counts as starting now, after all others."""
    started = (pod.get("status") or {}).get("startTime")
    moment = parse_rfc3339(str(started)) if started else None
    return moment.timestamp() if moment is not None else math.inf


def importance(pod: Obj) -> tuple[int, float, str]:
    """Sort key, most important first: higher priority, then the one running longer
    (upstream's util.MoreImportantPod); then by key, where upstream's order is arbitrary,
    so that the same cluster always gives the same victims."""
    return -pod_priority(pod), start_time(pod), pod_key(pod)


def terminating_by_preemption(pod: Obj) -> bool:
    if not (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if isinstance(condition, dict) and condition.get("type") == "DisruptionTarget":
            return bool(condition.get("status") == "True"
                        and condition.get("reason") == PREEMPTION_BY_SCHEDULER)
    return False


def split_by_pdb_violation(pods: Sequence[Obj], pdbs: Sequence[Obj]) -> tuple[list[Obj], list[Obj]]:
    """(violating, non-violating), each in the order given: a pod violates a budget when
    evicting it and the pods before it that the budget covers exceeds
    status.disruptionsAllowed. Pods already in the budget's disruptedPods were counted by
    the API server and never violate (upstream's filterPodsWithPDBViolation)."""
    allowed = [int((pdb.get("status") or {}).get("disruptionsAllowed") or 0) for pdb in pdbs]
    selectors: list[labels.Selector | None] = []
    for pdb in pdbs:
        try:
            selector = labels.selector_from_label_selector((pdb.get("spec") or {}).get("selector"))
        except StatusError:
            selector = None  # an invalid selector matches no pod
        selectors.append(None if selector is None or selector.is_empty() else selector)
    violating: list[Obj] = []
    non_violating: list[Obj] = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        pod_labels = meta.get("labels") or {}
        violated = False
        for i, pdb in enumerate(pdbs):
            selector = selectors[i]
            if (not pod_labels or selector is None
                    or (pdb.get("metadata") or {}).get("namespace") != meta.get("namespace")
                    or not selector.matches(pod_labels)):
                continue
            if meta.get("name") in ((pdb.get("status") or {}).get("disruptedPods") or {}):
                continue
            allowed[i] -= 1
            violated = violated or allowed[i] < 0
        (violating if violated else non_violating).append(pod)
    return violating, non_violating


def pick_one_node(candidates: Sequence[Candidate]) -> Candidate:
    """Upstream's pickOneNodeForPreemption: each criterion keeps the best candidates, and
    the next one breaks their tie; the first candidate left wins."""
    def highest_victims_start(c: Candidate) -> float:
        top = pod_priority(c.victims[0])
        return min(start_time(v) for v in c.victims if pod_priority(v) == top)

    criteria = (
        lambda c: -c.pdb_violations,
        lambda c: -pod_priority(c.victims[0]),
        # + 2^31 keeps a few negative-priority victims from beating fewer of them
        lambda c: -sum(pod_priority(v) + 2**31 for v in c.victims),
        lambda c: -len(c.victims),
        highest_victims_start,
    )
    left = list(candidates)
    for score in criteria:
        if len(left) == 1:
            break
        best = max(score(c) for c in left)
        left = [c for c in left if score(c) == best]
    return left[0]
