"""InterPodAffinity: pods placed by the labels of the pods already on each topology domain
(upstream's pkg/scheduler/framework/plugins/interpodaffinity).

Filter rejects a node when
- the pod's required affinity terms find no pod matching all of them in the node's domain of
  each term (UnschedulableAndUnresolvable, "node(s) didn't match pod affinity rules"); the
  first pod of a group with affinity to itself passes wherever the node has every topology
  key, provided no pod in the cluster matches yet and the pod matches its own terms;
- a pod matching one of its required anti-affinity terms sits in the node's domain of that
  term ("node(s) didn't match pod anti-affinity rules");
- an existing pod's required anti-affinity term selects the pod, and the node shares that
  pod's domain ("node(s) didn't satisfy existing pods anti-affinity rules").
A node gets only the first of these reasons, as upstream's Filter returns at the first one.

Score sums, per domain, the weights of the pod's preferred affinity terms matched by existing
pods there, minus those of its preferred anti-affinity terms, plus the weights of existing
pods' preferred terms (and hardPodAffinityWeight per required affinity term) that select the
pod; NormalizeScore scales min..max of the feasible nodes to 0..100.

Cost: the work is a pass over the pods that matter, then numpy over domains. A pod without
pod (anti-)affinity, in a cluster where no counted pod has any, makes PreFilter and PreScore
answer Skip after a few dict lookups, so the common case pays nothing. Otherwise PreFilter
reads every counted pod once (for the pod's own required terms) plus the pods with required
anti-affinity, and PreScore every counted pod when the pod has preferred terms, else only
the pods that have affinity; each match becomes a row, rows are counted per domain
(`topology_domains`), never per pair of nodes.

Namespaces: the pod's own terms resolve their namespaceSelector once per cycle into names,
through the namespace lister the scheduler hands over (`watches`); existing pods' terms
match the pod's namespace labels. Without a lister (unit tests) a non-empty
namespaceSelector adds no namespace, and the pod's namespace has no labels, as upstream
treats a namespace its lister does not know.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from kubelite.machinery import labels
from kubelite.scheduler.config_args import decode_args
from kubelite.scheduler.config_decode import Struct
from kubelite.scheduler.config_errors import ArgsError, invalid
from kubelite.scheduler.framework import (
    MAX_NODE_SCORE, Code, CycleState, Mask, Obj, Rows, Scores, Status, Verdict)
from kubelite.scheduler.node_table import NodeTable, pod_key
from kubelite.scheduler.plugins.pod_affinity_terms import (
    NO_TERMS, AffinityTerm, PodTerms, TermCache, parse_pod_terms, pod_affinity, rows_selected)
from kubelite.scheduler.plugins.topology_domains import TopologyDomains

if TYPE_CHECKING:
    from kubelite.client.store import Lister

AFFINITY_REASON = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY_REASON = "node(s) didn't satisfy existing pods anti-affinity rules"

_PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
_TERMS_KEY = "InterPodAffinity/terms"  # CycleState keys, built once rather than per cycle
_SCORE_KEY = "InterPodAffinity/score"
ARGS = Struct("v1.InterPodAffinityArgs", {"hardPodAffinityWeight": "int32",
                                          "ignorePreferredTermsOfExistingPods": "bool"})


@dataclass(frozen=True, slots=True)
class _Rejected:
    """PreFilter's answer for every row, each mask leaving out the rows an earlier one has."""

    affinity: Mask
    anti_affinity: Mask
    existing_anti_affinity: Mask


class InterPodAffinity:
    name: ClassVar[str] = "InterPodAffinity"
    watches: ClassVar[tuple[str, ...]] = ("namespaces",)

    def __init__(self, *, hard_pod_affinity_weight: int = 1,
                 ignore_preferred_terms_of_existing_pods: bool = False) -> None:
        self.hard_pod_affinity_weight = hard_pod_affinity_weight
        self.ignore_preferred_terms_of_existing_pods = ignore_preferred_terms_of_existing_pods
        self._namespaces: Lister | None = None
        self._existing_terms = TermCache()
        self._domains = TopologyDomains()

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> InterPodAffinity:
        """From InterPodAffinityArgs, defaulted (hardPodAffinityWeight 1) and validated as
        upstream's ValidateInterPodAffinityArgs; ArgsError carries upstream's messages."""
        errors = decode_args(args, ARGS)
        weight = args.get("hardPodAffinityWeight")
        weight = 1 if weight is None else int(weight)
        if not 0 <= weight <= 100:
            errors.append(invalid("hardPodAffinityWeight", weight, "not in valid range [0, 100]"))
        if errors:
            raise ArgsError(errors)
        return cls(hard_pod_affinity_weight=weight,
                   ignore_preferred_terms_of_existing_pods=bool(args.get("ignorePreferredTermsOfExistingPods")))

    def use_listers(self, listers: Mapping[str, Lister]) -> None:
        self._namespaces = listers.get("namespaces")

    # --- Filter ---------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status:
        own = self._own_terms(state, pod)
        if own is None:
            if not nodes.with_required_anti_affinity:
                return Status.skip()  # the common case: nobody uses required pod affinity
            own = NO_TERMS
        if own.errors:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (f"parsing pod: {own.error()}",),
                          self.name)
        required = [self._resolve_namespaces(t) for t in own.required_affinity]
        anti = [self._resolve_namespaces(t) for t in own.required_anti_affinity]
        existing = self._existing_anti_affinity(pod, nodes)
        if not required and not anti and not existing.any():
            return Status.skip()
        affinity = self._affinity_unsatisfied(pod, required, nodes)
        anti_affinity = self._anti_affinity_unsatisfied(anti, nodes) & ~affinity
        state[self.name] = _Rejected(affinity, anti_affinity, existing & ~(affinity | anti_affinity))
        return Status.success()

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        rejected: _Rejected = state[self.name]
        verdict = Verdict(len(nodes))
        verdict.reject(rejected.affinity, AFFINITY_REASON, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        verdict.reject(rejected.anti_affinity, ANTI_AFFINITY_REASON)
        verdict.reject(rejected.existing_anti_affinity, EXISTING_ANTI_AFFINITY_REASON)
        return verdict

    def _affinity_unsatisfied(self, pod: Obj, terms: Sequence[AffinityTerm],
                              nodes: NodeTable) -> Mask:
        if not terms:
            return np.zeros(len(nodes), dtype=np.bool_)
        # one pod must match every term (upstream's podMatchesAllAffinityTerms)
        [rows] = rows_selected(_candidates(nodes, terms), terms, by_all=True)
        has_keys = np.ones(len(nodes), dtype=np.bool_)
        found = np.ones(len(nodes), dtype=np.bool_)
        for term in terms:
            has_keys &= self._domains.has_label(nodes, term.topology_key)
            found &= self._domains.spread(nodes, term.topology_key, rows) > 0
        counted_anywhere = any(self._domains.any_inside(nodes, t.topology_key, rows) for t in terms)
        if not counted_anywhere and all(t.matches(pod, None) for t in terms):
            # the first of a group with affinity to itself must not wait forever
            return ~has_keys
        return ~(has_keys & found)

    def _anti_affinity_unsatisfied(self, terms: Sequence[AffinityTerm], nodes: NodeTable) -> Mask:
        out = np.zeros(len(nodes), dtype=np.bool_)
        if not terms:
            return out
        for term, matched in zip(terms, rows_selected(_candidates(nodes, terms), terms)):
            if matched:
                out |= self._domains.spread(nodes, term.topology_key, matched) > 0
        return out

    def _existing_anti_affinity(self, pod: Obj, nodes: NodeTable) -> Mask:
        out = np.zeros(len(nodes), dtype=np.bool_)
        if not nodes.with_required_anti_affinity:
            return out
        namespace_labels = self._namespace_labels(pod)
        rows_by_key: dict[str, list[int]] = {}
        for row, other in nodes.assigned_pods(nodes.with_required_anti_affinity):
            for term in self._existing_terms.of(pod_key(other), other).required_anti_affinity:
                if term.matches(pod, namespace_labels):
                    rows_by_key.setdefault(term.topology_key, []).append(row)
        self._existing_terms.prune(nodes.with_affinity)
        for key, rows in rows_by_key.items():
            out |= self._domains.spread(nodes, key, rows) > 0
        return out

    # --- Score ----------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Status:
        own = self._own_terms(state, pod)
        affinity, anti_affinity = pod_affinity(pod)
        has_preferences = bool(affinity.get(_PREFERRED) or anti_affinity.get(_PREFERRED))
        if rows.size == 0 or (not has_preferences and (
                self.ignore_preferred_terms_of_existing_pods or not nodes.with_affinity)):
            return Status.skip()
        if own is not None and own.errors:
            return Status(Code.ERROR, (f"failed to parse pod: {own.error()}",), self.name)
        weights = self._weights_by_domain(pod, own, nodes)
        if weights is None:
            return Status.skip()  # no pod anywhere said anything about this one
        state[_SCORE_KEY] = weights
        return Status.success()

    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        weights: Scores = state[_SCORE_KEY]
        return weights[rows]

    def normalize_score(self, state: CycleState, pod: Obj, scores: Scores) -> Scores:
        if scores.size == 0:
            return scores
        lowest, highest = int(scores.min()), int(scores.max())
        if highest == lowest:
            return np.zeros_like(scores)
        # Go: int64(float64(MaxNodeScore) * (float64(s-min) / float64(max-min)))
        scaled = float(MAX_NODE_SCORE) * ((scores - lowest).astype(np.float64) / float(highest - lowest))
        return scaled.astype(np.int64)

    def _weights_by_domain(self, pod: Obj, own: PodTerms | None, nodes: NodeTable) -> Scores | None:
        """Every row's summed weight over the domains it belongs to, None if no term of
        either side matched on a node with its topology key (upstream's Skip)."""
        preferred = [self._resolve_namespaces(t) for t in own.preferred_affinity] if own else []
        avoided = [self._resolve_namespaces(t) for t in own.preferred_anti_affinity] if own else []
        namespace_labels = self._namespace_labels(pod)
        hard = self.hard_pod_affinity_weight
        found: dict[str, tuple[list[int], list[int]]] = {}

        def add(term: AffinityTerm, row: int, weight: int) -> None:
            rows, weights = found.setdefault(term.topology_key, ([], []))
            rows.append(row)
            weights.append(weight)

        mine = [*preferred, *avoided]
        if mine:  # the pod's own preferences read every counted pod
            signs = [1] * len(preferred) + [-1] * len(avoided)
            for term, sign, rows in zip(mine, signs, rows_selected(_candidates(nodes, mine), mine)):
                for row in rows:
                    add(term, row, sign * term.weight)
        # what the pods with affinity of their own think of this one
        for row, other in nodes.assigned_pods(nodes.with_affinity):
            theirs = self._existing_terms.of(pod_key(other), other)
            if hard > 0:
                for term in theirs.required_affinity:
                    if term.matches(pod, namespace_labels):
                        add(term, row, hard)
            for term in theirs.preferred_affinity:
                if term.matches(pod, namespace_labels):
                    add(term, row, term.weight)
            for term in theirs.preferred_anti_affinity:
                if term.matches(pod, namespace_labels):
                    add(term, row, -term.weight)
        self._existing_terms.prune(nodes.with_affinity)
        live = {key: entry for key, entry in found.items()
                if self._domains.any_inside(nodes, key, entry[0])}
        if not live:
            return None
        total = np.zeros(len(nodes), dtype=np.int64)
        for key, (rows, weights) in live.items():
            total += self._domains.spread(nodes, key, rows, weights)
        return total

    # --- the pod's own terms and namespaces ---------------------------------------------

    def _own_terms(self, state: CycleState, pod: Obj) -> PodTerms | None:
        """The pod's parsed terms, once per cycle; None when it has no pod (anti-)affinity."""
        if _TERMS_KEY not in state:
            state[_TERMS_KEY] = parse_pod_terms(pod) if any(pod_affinity(pod)) else None
        terms: PodTerms | None = state[_TERMS_KEY]
        return terms

    def _resolve_namespaces(self, term: AffinityTerm) -> AffinityTerm:
        """The namespaceSelector of one of the pod's own terms turned into names (upstream's
        mergeAffinityTermNamespacesIfNotEmpty); `{}` stays, as it selects every namespace."""
        if term.namespace_selector.is_empty():
            return term
        names = set(term.namespaces)
        if self._namespaces is not None and not term.namespace_selector.matches_nothing():
            names.update((ns.get("metadata") or {}).get("name", "")
                         for ns in self._namespaces.list(selector=term.namespace_selector))
        return replace(term, namespaces=frozenset(names), namespace_selector=labels.nothing())

    def _namespace_labels(self, pod: Obj) -> Mapping[str, str]:
        if self._namespaces is None:
            return {}
        namespace = self._namespaces.get("", (pod.get("metadata") or {}).get("namespace", ""))
        return ((namespace or {}).get("metadata") or {}).get("labels") or {}


def _candidates(nodes: NodeTable, terms: Sequence[AffinityTerm]) -> Iterator[tuple[int, Obj]]:
    """The counted pods the terms could select: those of the terms' namespaces, or every
    pod when a term's namespaceSelector is empty (all namespaces)."""
    if any(t.namespace_selector.is_empty() for t in terms):
        return nodes.assigned_pods()
    return nodes.assigned_pods(nodes.keys_in(set().union(*(t.namespaces for t in terms))))
