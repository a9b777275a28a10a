"""PodTopologySpread: spread matching pods evenly over topology domains (zones, nodes, ...).

A constraint (see spread_constraints.py) counts, per domain of its topology key, the pods
matching its selector on the nodes that are eligible for counting: those carrying every
topology key of the pod's constraints and passing the constraint's node inclusion policies
(nodeAffinityPolicy Honor: the pod's nodeSelector and required node affinity;
nodeTaintsPolicy Honor: no untolerated NoSchedule/NoExecute taint).

Filter (DoNotSchedule), as upstream's filtering.go, for all nodes at once: a node lacking a
constraint's key is UnschedulableAndUnresolvable
("node(s) didn't match pod topology spread constraints (missing required label)"); otherwise
the skew `count(node's domain) + (1 if the pod matches itself) - global minimum` must not
exceed maxSkew, where the minimum is over the eligible domains, or 0 when there are fewer
than minDomains of them ("node(s) didn't match pod topology spread constraints").

Score (ScheduleAnyway), as upstream's scoring.go: per node, the sum over constraints of
`count × log(domains + 2) + maxSkew − 1` (for kubernetes.io/hostname the count is the node's
own), rounded; nodes lacking a key score 0, and NormalizeScore maps the fewest matching pods
to 100. Only the system default constraints let a node lack a key and still score on the
keys it has.

A pod with no constraint of the kind (and no default that applies) makes PreFilter/PreScore
answer Skip, so the plugin costs nothing for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from kubelite.machinery.errors import BadRequest
from kubelite.scheduler.config_args import decode_args
from kubelite.scheduler.config_decode import ListOf, Struct
from kubelite.scheduler.config_errors import ArgsError
from kubelite.scheduler.framework import (
    MAX_NODE_SCORE, Code, CycleState, Mask, Obj, Rows, Scores, Status, Verdict)
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.plugins.node_affinity import required_matches
from kubelite.scheduler.plugins.spread_constraints import (
    DO_NOT_SCHEDULE, HONOR, LABEL_HOSTNAME, LIST_DEFAULTING, SCHEDULE_ANYWAY, SELECTING_RESOURCES,
    SYSTEM_DEFAULT_CONSTRAINTS, SYSTEM_DEFAULTING, Constraint, constraints_for, default_constraints,
    validate_args)
from kubelite.scheduler.plugins.spread_counts import Domains, SpreadCache
from kubelite.scheduler.plugins.taint_toleration import HARD_EFFECTS, first_untolerated, present_sets

if TYPE_CHECKING:
    from kubelite.client.store import Lister

REASON = "node(s) didn't match pod topology spread constraints"
ARGS = Struct("v1.PodTopologySpreadArgs", {
    "defaultingType": "string",
    "defaultConstraints": ListOf(Struct("v1.TopologySpreadConstraint", {
        "maxSkew": "int32", "topologyKey": "string", "whenUnsatisfiable": "string",
        "labelSelector": "raw", "minDomains": "int32", "nodeAffinityPolicy": "string",
        "nodeTaintsPolicy": "string", "matchLabelKeys": ListOf("string")})),
})
REASON_MISSING_LABEL = REASON + " (missing required label)"
MAX_INT32 = 2**31 - 1
_FILTER, _SCORE = "PodTopologySpread/filter", "PodTopologySpread/score"


@dataclass(frozen=True, slots=True)
class _Hard:
    """One DoNotSchedule constraint, counted: what Filter compares each node with."""

    constraint: Constraint
    domains: Domains
    per_domain: Any  # int64 matching pods per domain number, eligible nodes only
    min_match: int
    self_match: int


@dataclass(frozen=True, slots=True)
class _Soft:
    raw: Scores  # per scored row
    ignored: Mask  # per scored row: lacks a topology key, scores 0


class _Inclusion:
    """Which rows the node inclusion policies let count, worked out at most once a cycle."""

    def __init__(self, pod: Obj, nodes: NodeTable) -> None:
        self.pod, self.nodes = pod, nodes
        self._affinity: Mask | None = None
        self._taints: Mask | None = None

    def of(self, constraint: Constraint) -> Mask:
        out = np.ones(len(self.nodes), dtype=np.bool_)
        if constraint.node_affinity_policy == HONOR:
            if self._affinity is None:
                self._affinity = required_matches(self.pod, self.nodes)
            out &= self._affinity
        if constraint.node_taints_policy == HONOR:
            if self._taints is None:
                self._taints = self._tolerated()
            out &= self._taints
        return out

    def _tolerated(self) -> Mask:
        ids = self.nodes.taint_set[: len(self.nodes)]
        tolerations = list((self.pod.get("spec") or {}).get("tolerations") or ())
        ok = np.ones(len(self.nodes.taint_sets), dtype=np.bool_)
        for set_id in present_sets(ids, len(self.nodes.taint_sets)):
            ok[set_id] = first_untolerated(self.nodes.taint_sets[set_id], tolerations, HARD_EFFECTS) is None
        return np.asarray(ok[ids], dtype=np.bool_)


def _namespace_and_labels(pod: Obj) -> tuple[str, dict[str, str]]:
    meta = pod.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("labels") or {}


class PodTopologySpread:
    name: ClassVar[str] = "PodTopologySpread"
    watches: ClassVar[tuple[str, ...]] = SELECTING_RESOURCES

    def __init__(self, default_constraints: tuple[Obj, ...] = SYSTEM_DEFAULT_CONSTRAINTS, *,
                 system_defaulted: bool = True) -> None:
        self.default_constraints = tuple(default_constraints)
        self.system_defaulted = system_defaulted
        # the kinds of default there are: a pod without constraints skips at a glance
        self._default_actions = frozenset(c.get("whenUnsatisfiable") for c in self.default_constraints)
        self._listers: Mapping[str, Lister] | None = None
        self._cache = SpreadCache()

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> PodTopologySpread:
        """From upstream's PodTopologySpreadArgs (defaultingType defaults to System, as the
        v1 API does); ArgsError with upstream's validation messages if they are wrong."""
        decode_args(args, ARGS)
        defaulting = args.get("defaultingType") or SYSTEM_DEFAULTING
        constraints = args.get("defaultConstraints")
        errors = validate_args(defaulting, constraints or [])
        if errors:
            raise ArgsError(errors)
        if defaulting == LIST_DEFAULTING:
            return cls(tuple(constraints or ()), system_defaulted=False)
        return cls()

    def use_listers(self, listers: Mapping[str, Lister]) -> None:
        self._listers = listers

    def _constraints(self, pod: Obj, action: str) -> list[Constraint]:
        own = (pod.get("spec") or {}).get("topologySpreadConstraints") or []
        if own:
            return constraints_for(own, _namespace_and_labels(pod)[1], action)
        if action not in self._default_actions or self._listers is None:
            return []  # no default of the kind, or nothing to read what selects the pod
        return default_constraints(pod, self.default_constraints, action, self._listers)

    # --- Filter ----------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status:
        try:
            constraints = self._constraints(pod, DO_NOT_SCHEDULE)
        except BadRequest as error:
            return Status(Code.ERROR, ("get constraints from pod: obtaining pod's hard topology "
                                       f"spread constraints: {error}",), self.name)
        if not constraints:
            return Status.skip()
        namespace, pod_labels = _namespace_and_labels(pod)
        self._cache.sync(nodes)
        counts = self._cache.counts(nodes, namespace, (c.selector for c in constraints))
        domains = [self._cache.domains(nodes, c.topology_key) for c in constraints]
        has_all_keys = np.logical_and.reduce([d.present for d in domains])
        inclusion = _Inclusion(pod, nodes)
        hard = []
        for constraint, domain in zip(constraints, domains, strict=True):
            eligible = has_all_keys & inclusion.of(constraint)
            present = domain.holding(eligible)
            per_domain = domain.total(eligible, counts[constraint.selector])
            min_match = int(per_domain[present].min()) if present.any() else MAX_INT32
            if int(present.sum()) < constraint.min_domains:
                min_match = 0  # too few domains: the global minimum is taken as 0
            hard.append(_Hard(constraint, domain, per_domain, min_match,
                              int(constraint.selector.matches(pod_labels))))
        state[_FILTER] = hard
        return Status.success()

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        n = len(nodes)
        missing_label = np.zeros(n, dtype=np.bool_)
        too_skewed = np.zeros(n, dtype=np.bool_)
        for hard in state[_FILTER]:
            # a node answers for the first constraint it fails, as upstream's loop returns
            undecided = ~(missing_label | too_skewed)
            missing_label |= undecided & ~hard.domains.present
            skew = hard.per_domain[hard.domains.ids] + hard.self_match - hard.min_match
            too_skewed |= undecided & hard.domains.present & (skew > hard.constraint.max_skew)
        verdict = Verdict(n)
        verdict.reject(missing_label, REASON_MISSING_LABEL, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        verdict.reject(too_skewed, REASON)
        return verdict

    # --- Score -----------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Status:
        try:
            constraints = self._constraints(pod, SCHEDULE_ANYWAY)
        except BadRequest as error:
            return Status(Code.ERROR, ("calculating preScoreState: obtaining pod's soft topology "
                                       f"spread constraints: {error}",), self.name)
        if not constraints:
            return Status.skip()
        # only the system defaults let a node lacking the zone still score on its hostname
        require_all = bool((pod.get("spec") or {}).get("topologySpreadConstraints")) or not self.system_defaulted
        namespace, _ = _namespace_and_labels(pod)
        self._cache.sync(nodes)
        counts = self._cache.counts(nodes, namespace, (c.selector for c in constraints))
        domains = [self._cache.domains(nodes, c.topology_key) for c in constraints]
        has_all_keys = np.logical_and.reduce([d.present for d in domains])
        countable = has_all_keys if require_all else np.ones(len(nodes), dtype=np.bool_)
        ignored = ~countable[rows]
        scored = rows[~ignored]
        inclusion = _Inclusion(pod, nodes)
        raw = np.zeros(rows.size, dtype=np.float64)
        for constraint, domain in zip(constraints, domains, strict=True):
            per_row = counts[constraint.selector]
            if constraint.topology_key == LABEL_HOSTNAME:
                matching = per_row[rows]  # the node's own pods, whatever the policies
                size = int(scored.size)
            else:
                candidate = np.zeros(domain.size, dtype=np.bool_)
                candidate[domain.ids[scored]] = True
                eligible = countable & inclusion.of(constraint) & candidate[domain.ids]
                matching = domain.total(eligible, per_row)[domain.ids[rows]]
                size = int(candidate.sum())
            weight = math.log(size + 2)
            raw += np.where(domain.present[rows], matching * weight + (constraint.max_skew - 1), 0.0)
        # Go's math.Round: halves away from zero (the sums are never negative)
        rounded = np.where(ignored, 0, np.floor(raw + 0.5)).astype(np.int64)
        state[_SCORE] = _Soft(rounded, ignored)
        return Status.success()

    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        soft: _Soft = state[_SCORE]
        return soft.raw.copy()

    def normalize_score(self, state: CycleState, pod: Obj, scores: Scores) -> Scores:
        """Fewest matching pods → 100: MAX × (max + min − score) / max over the nodes that
        have every key; the others 0."""
        ignored: Mask = state[_SCORE].ignored
        kept = scores[~ignored]
        if kept.size == 0:
            return np.zeros_like(scores)
        highest, lowest = int(kept.max()), int(kept.min())
        if highest == 0:
            out = np.full_like(scores, MAX_NODE_SCORE)
        else:
            out = MAX_NODE_SCORE * (highest + lowest - scores) // highest
        out[ignored] = 0
        return out
