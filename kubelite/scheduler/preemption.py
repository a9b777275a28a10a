"""Preemption: which lower-priority pods to evict so a pod that fits nowhere fits somewhere
(upstream's Evaluator, pkg/scheduler/framework/preemption/preemption.go, with
DefaultPreemption's SelectVictimsOnNode).

    FitError's Diagnosis ─► potential rows: status Unschedulable (not ...AndUnresolvable)
        │                   and some pod of lower priority on them
        ├─ screen: every potential victim out of the table at once, one Filter pass;
        │          rows that still reject the pod are done (their status is kept)
        ├─ dry run, from a random offset, row by row until enough candidates:
        │    all victims out ─► fits? ─► put victims back one at a time, most important
        │    first, PDB-violating ones before the others, keeping those the pod fits with
        └─ pick one node: fewest PDB violations, lowest highest victim priority, lowest
           sum of priorities, fewest victims, latest start of the top victims, first

Filters are re-run exactly: victims are taken out of the NodeTable (remove_pod) and put
back (add_pod), PreFilter runs again on the changed table, and pods nominated to a node
with a priority at least the preemptor's count there (upstream's
RunFilterPluginsWithNominatedPods). Everything is restored before `preempt` returns, so
the table is unchanged for the next cycle. The screen is exact for plugins that judge
each node by its own pods; it is skipped when the pod has pod affinity or topology spread
constraints, whose verdicts depend on pods on other nodes.

Nothing here does I/O: the result names the node, the victims and the lower-priority
pods whose nomination to that node must be cleared; the scheduler's loop deletes them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from kubelite.machinery import labels
from kubelite.machinery.errors import StatusError
from kubelite.machinery.timestamps import parse_rfc3339
from kubelite.scheduler.diagnosis import Diagnosis, availability_message
from kubelite.scheduler.framework import Code, Obj, Status
from kubelite.scheduler.node_table import NodeTable, pod_key
from kubelite.scheduler.queued_pod import pod_priority

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
POLICY_NEVER = "not eligible due to preemptionPolicy=Never."
TERMINATING_ON_NOMINATED = "not eligible due to a terminating pod on the nominated node."
PREEMPTION_BY_SCHEDULER = "PreemptionByScheduler"  # v1.PodReasonPreemptionByScheduler

T = TypeVar("T")


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
    moment = parse_rfc3339(str((pod.get("status") or {}).get("startTime") or ""))
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


def _has_cross_node_constraints(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    affinity = spec.get("affinity") or {}
    return bool(affinity.get("podAffinity") or affinity.get("podAntiAffinity")
                or spec.get("topologySpreadConstraints"))


class Evaluator:
    def __init__(self, *, min_candidate_nodes_percentage: int = 10,
                 min_candidate_nodes_absolute: int = 100) -> None:
        self.min_candidate_nodes_percentage = min_candidate_nodes_percentage
        self.min_candidate_nodes_absolute = min_candidate_nodes_absolute

    def num_candidates(self, num_nodes: int) -> int:
        n = num_nodes * self.min_candidate_nodes_percentage // 100
        return min(max(n, self.min_candidate_nodes_absolute), num_nodes)

    def preempt(self, pod: Obj, nodes: NodeTable, diagnosis: Diagnosis,
                handle: PreemptionHandle, pdbs: Sequence[Obj]) -> tuple[PostFilterResult | None, Status]:
        """None and Unschedulable: not eligible, keep any nomination; a result naming
        no node and Unschedulable: preemption cannot help, clear it; a result naming a
        node and Success: evict its victims and nominate it."""
        eligible, why = self.eligible(pod, nodes, diagnosis, handle)
        if not eligible:
            return None, Status(Code.UNSCHEDULABLE, (why,))
        candidates, statuses = self.find_candidates(pod, nodes, diagnosis, handle, pdbs)
        if not candidates:
            reasons: Counter[str] = Counter()
            for status in statuses.values():
                reasons.update(status.reasons)
            if len(statuses) < len(nodes):
                reasons[NOT_HELPFUL] += len(nodes) - len(statuses)
            return PostFilterResult(""), Status(Code.UNSCHEDULABLE,
                                                (availability_message(len(nodes), reasons),))
        best = pick_one_node(candidates)
        priority = pod_priority(pod)
        lower = tuple(p for p in handle.nominated_pods_for_node(best.node)
                      if pod_priority(p) < priority and pod_key(p) != pod_key(pod))
        return PostFilterResult(best.node, best.victims, lower), Status.success()

    def eligible(self, pod: Obj, nodes: NodeTable, diagnosis: Diagnosis,
                 handle: PreemptionHandle) -> tuple[bool, str]:
        """Upstream's PodEligibleToPreemptOthers: never with preemptionPolicy Never, and not
        again while pods it preempted on its nominated node are still terminating."""
        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return False, POLICY_NEVER
        row = nodes.row_of.get(handle.nominated_node(pod))
        if row is None or diagnosis.codes()[row] == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            return True, ""
        priority = pod_priority(pod)
        for other in nodes.pods_on_row(row):
            if pod_priority(other) < priority and terminating_by_preemption(other):
                return False, TERMINATING_ON_NOMINATED
        return True, ""

    def find_candidates(self, pod: Obj, nodes: NodeTable, diagnosis: Diagnosis,
                        handle: PreemptionHandle, pdbs: Sequence[Obj],
                        ) -> tuple[list[Candidate], dict[int, Status]]:
        """Candidates (those violating no budget first) and the status of each row tried
        and found wanting (upstream's findCandidates + DryRunPreemption)."""
        potential = [int(r) for r in np.flatnonzero(diagnosis.codes() == Code.UNSCHEDULABLE)]
        statuses: dict[int, Status] = {}
        if not potential:
            return [], statuses
        offset = int(handle.rng.integers(len(potential)))
        wanted = self.num_candidates(len(potential))
        priority = pod_priority(pod)
        victims_on: dict[int, list[Obj]] = {}
        for row in potential[offset:] + potential[:offset]:
            lower = [p for p in nodes.pods_on_row(row) if pod_priority(p) < priority]
            if lower:
                victims_on[row] = lower
            else:
                statuses[row] = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (NO_VICTIMS,))
        if victims_on and not _has_cross_node_constraints(pod):
            screened = _without(nodes, [p for pods in victims_on.values() for p in pods],
                                lambda: handle.filter_nodes(pod, nodes))
            for row in list(victims_on):
                if not screened.feasible()[row]:
                    statuses[row] = screened.status_of(row)
                    del victims_on[row]
        clean: list[Candidate] = []
        violating: list[Candidate] = []
        for row, lower in victims_on.items():
            candidate, status = self.select_victims(pod, nodes, row, lower, handle, pdbs)
            if candidate is None:
                statuses[row] = status
                continue
            (violating if candidate.pdb_violations else clean).append(candidate)
            if clean and len(clean) + len(violating) >= wanted:
                break
        return clean + violating, statuses

    def select_victims(self, pod: Obj, nodes: NodeTable, row: int, lower: list[Obj],
                       handle: PreemptionHandle, pdbs: Sequence[Obj],
                       ) -> tuple[Candidate | None, Status]:
        """The fewest of `lower` (pods on `row`) to evict for the pod to fit there."""
        def fits() -> bool:
            return bool(handle.filter_nodes(pod, nodes).feasible()[row])

        def attempt() -> tuple[Candidate | None, Status]:
            without_all = handle.filter_nodes(pod, nodes)
            if not without_all.feasible()[row]:
                return None, without_all.status_of(row)
            ordered = sorted(lower, key=importance)
            violating, non_violating = split_by_pdb_violation(ordered, pdbs)
            victims: list[Obj] = []
            violations = 0
            for group, violates in ((violating, True), (non_violating, False)):
                for victim in group:
                    nodes.add_pod(victim)  # reprieved if the pod still fits with it back
                    if not fits():
                        nodes.remove_pod(pod_key(victim))
                        victims.append(victim)
                        violations += violates
            if violating and non_violating:
                victims.sort(key=importance)
            if not victims:  # upstream: a node that fits without preemption is a bug
                return None, Status(Code.ERROR, (
                    f'expected at least one victim pod on node "{nodes.names[row]}"',))
            return Candidate(nodes.names[row], tuple(victims), violations), Status.success()

        return _without(nodes, lower, attempt)


def _without(nodes: NodeTable, pods: Sequence[Obj], work: Callable[[], T]) -> T:
    """Run `work()` with `pods` taken out of the table, then count them again (those
    `work` put back already are left as they are)."""
    for pod in pods:
        nodes.remove_pod(pod_key(pod))
    try:
        return work()
    finally:
        for pod in pods:
            if nodes.pod(pod_key(pod)) is None:
                nodes.add_pod(pod)
