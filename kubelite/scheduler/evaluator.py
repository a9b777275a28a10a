"""Preemption from start to finish for one pod that fits nowhere (upstream's
Evaluator.Preempt, pkg/scheduler/framework/preemption/preemption.go):

    1. eligible? not with preemptionPolicy Never, nor while pods it preempted on its
       nominated node are still terminating (unless that node can no longer help)
    2. potential rows: status Unschedulable in the FitError's Diagnosis (not
       ...AndUnresolvable), with some pod of lower priority on them, starting at a
       random offset; the others say why not
    3. dry run (dry_run.py) until max(minCandidateNodesPercentage of the potential
       rows, minCandidateNodesAbsolute) candidates, one of them breaking no budget
    4. none: "0/N nodes are available: ..." over the dry run's statuses, the rows it
       never tried counted as "Preemption is not helpful for scheduling", and the
       nomination cleared; else pick_one_node, and the lower-priority pods nominated to
       that node lose their nomination

The counted pods' priorities and requests come from a PodIndex kept across cycles, so a
pod that keeps failing does not re-read every pod of the cluster while nothing changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from kubelite.scheduler import dry_run
from kubelite.scheduler.diagnosis import Diagnosis, availability_message
from kubelite.scheduler.framework import Code, Obj, Status
from kubelite.scheduler.node_table import NodeTable, pod_key
from kubelite.scheduler.preemption import (
    NO_VICTIMS,
    NOT_HELPFUL,
    POLICY_NEVER,
    TERMINATING_ON_NOMINATED,
    Candidate,
    PostFilterResult,
    PreemptionHandle,
    pick_one_node,
    terminating_by_preemption,
)
from kubelite.scheduler.queued_pod import pod_priority


class RowStatuses(dict[int, Status]):
    """The dry run's status per row tried, and how many rows had no lower-priority pod
    (each "No preemption victims found for incoming pod", kept as a count)."""

    without_victims: int = 0


class Evaluator:
    def __init__(self, *, min_candidate_nodes_percentage: int = 10,
                 min_candidate_nodes_absolute: int = 100) -> None:
        self.min_candidate_nodes_percentage = min_candidate_nodes_percentage
        self.min_candidate_nodes_absolute = min_candidate_nodes_absolute
        self.index = dry_run.PodIndex()

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
            if statuses.without_victims:
                reasons[NO_VICTIMS] += statuses.without_victims
            judged = len(statuses) + statuses.without_victims
            if judged < len(nodes):
                reasons[NOT_HELPFUL] += len(nodes) - judged
            return PostFilterResult(""), Status(Code.UNSCHEDULABLE,
                                                (availability_message(len(nodes), reasons),))
        best = pick_one_node(candidates)
        priority = pod_priority(pod)
        lower = tuple(p for p in handle.nominated_pods_for_node(best.node)
                      if pod_priority(p) < priority and pod_key(p) != pod_key(pod))
        return PostFilterResult(best.node, best.victims, lower), Status.success()

    def eligible(self, pod: Obj, nodes: NodeTable, diagnosis: Diagnosis,
                 handle: PreemptionHandle) -> tuple[bool, str]:
        """Upstream's PodEligibleToPreemptOthers."""
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
                        ) -> tuple[list[Candidate], RowStatuses]:
        """Candidates (those breaking no budget first) and the status of each row tried
        and found wanting (upstream's findCandidates + DryRunPreemption); the rows with
        no lower-priority pod at all are only counted, never looked at one by one."""
        statuses = RowStatuses()
        potential = np.flatnonzero(diagnosis.codes() == Code.UNSCHEDULABLE)
        if not potential.size:
            return [], statuses
        offset = int(handle.rng.integers(potential.size))
        in_order = np.concatenate((potential[offset:], potential[:offset]))
        self.index.refresh(nodes)
        lower = self.index.below(pod_priority(pod), len(nodes))
        has_victims = np.asarray(lower.counts)[in_order] > 0
        statuses.without_victims = int(in_order.size - np.count_nonzero(has_victims))
        rows = [int(r) for r in in_order[has_victims]]
        if not rows:
            return [], statuses
        wanted = self.num_candidates(int(potential.size))
        if dry_run.by_columns_is_exact(pod, nodes):
            candidates, tried = dry_run.by_columns(pod, nodes, rows, lower, wanted, handle, pdbs)
        else:
            spread = (pod.get("spec") or {}).get("topologySpreadConstraints")
            affinity = (pod.get("spec") or {}).get("affinity") or {}
            cross_node = bool(spread or affinity.get("podAffinity")
                              or affinity.get("podAntiAffinity"))
            candidates, tried = dry_run.by_table(pod, nodes, rows, lower, wanted, handle, pdbs,
                                                 screen=not cross_node)
        statuses.update(tried)
        clean = [c for c in candidates if not c.pdb_violations]
        return clean + [c for c in candidates if c.pdb_violations], statuses
