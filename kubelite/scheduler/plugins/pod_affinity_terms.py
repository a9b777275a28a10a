"""Pod (anti-)affinity terms as InterPodAffinity reads them: upstream's framework.AffinityTerm
and the four term lists of its PodInfo (pkg/scheduler/framework/types.go).

A term is parsed once into its label selector, the namespaces it names (the owning pod's own
namespace when it names none and has no namespaceSelector), its namespaceSelector and its
topology key. A pod matches a term when its namespace is named, or its namespace's labels
match the namespaceSelector, and its labels match the selector.

matchLabelKeys / mismatchLabelKeys are merged into the selector as `key in (value)` /
`key notin (value)` with the owning pod's label values, as upstream's API server does when it
creates the pod (upstream's scheduler only ever sees merged selectors). kubelite's API server
does not merge them yet; should it start to, merging again here only repeats requirements the
selector already has, which selects the same pods.

Parse errors follow upstream's PodInfo: each of the four lists fails as a whole (an existing
pod keeps its other lists), and the messages read `requiredAffinityTerms: <selector error>`.
The terms of pods already counted in the node table are parsed once per pod object and kept
in `TermCache`, so a cycle re-reads only the pods that changed since the last one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.machinery import labels
from kubelite.machinery.errors import BadRequest
from kubelite.scheduler.framework import Obj


@dataclass(frozen=True, slots=True)
class AffinityTerm:
    selector: labels.Selector
    namespaces: frozenset[str]
    namespace_selector: labels.Selector
    topology_key: str
    weight: int = 0  # a preferred term's weight; 0 for a required term

    def matches(self, pod: Obj, namespace_labels: Mapping[str, str] | None) -> bool:
        """Whether `pod` (whose namespace carries `namespace_labels`) is selected by the term."""
        meta = pod.get("metadata") or {}
        if (meta.get("namespace", "") in self.namespaces
                or self.namespace_selector.matches(namespace_labels)):
            return self.selector.matches(meta.get("labels"))
        return False


@dataclass(frozen=True, slots=True)
class PodTerms:
    """A pod's four term lists, and what failed to parse (upstream's PodInfo)."""

    required_affinity: tuple[AffinityTerm, ...] = ()
    required_anti_affinity: tuple[AffinityTerm, ...] = ()
    preferred_affinity: tuple[AffinityTerm, ...] = ()
    preferred_anti_affinity: tuple[AffinityTerm, ...] = ()
    errors: tuple[str, ...] = ()

    def error(self) -> str:
        """utilerrors.NewAggregate(errs).Error(): one message alone, several in brackets."""
        unique = tuple(dict.fromkeys(self.errors))
        return unique[0] if len(unique) == 1 else f"[{', '.join(unique)}]"


NO_TERMS = PodTerms()


def pod_affinity(pod: Obj) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(spec.affinity.podAffinity, spec.affinity.podAntiAffinity), empty where absent."""
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    return affinity.get("podAffinity") or {}, affinity.get("podAntiAffinity") or {}


def _selector_with_label_keys(raw: Mapping[str, Any], pod_labels: Mapping[str, str]) -> Any:
    selector = raw.get("labelSelector")
    match_keys = raw.get("matchLabelKeys") or ()
    mismatch_keys = raw.get("mismatchLabelKeys") or ()
    if selector is None or not (match_keys or mismatch_keys):
        return selector  # a nil selector matches nothing, with or without keys
    extra = [{"key": key, "operator": "In", "values": [pod_labels[key]]}
             for key in match_keys if key in pod_labels]
    extra += [{"key": key, "operator": "NotIn", "values": [pod_labels[key]]}
              for key in mismatch_keys if key in pod_labels]
    return {**selector, "matchExpressions": [*(selector.get("matchExpressions") or ()), *extra]}


def _term(pod: Obj, raw: Mapping[str, Any], weight: int) -> AffinityTerm:
    meta = pod.get("metadata") or {}
    selector = labels.selector_from_label_selector(
        _selector_with_label_keys(raw, meta.get("labels") or {}))
    names = raw.get("namespaces") or ()
    raw_namespace_selector = raw.get("namespaceSelector")
    if not names and raw_namespace_selector is None:
        names = (meta.get("namespace", ""),)
    return AffinityTerm(selector, frozenset(names),
                        labels.selector_from_label_selector(raw_namespace_selector),
                        raw.get("topologyKey") or "", weight)


def _terms(pod: Obj, raws: Any, weighted: bool) -> tuple[AffinityTerm, ...]:
    if weighted:
        return tuple(_term(pod, item.get("podAffinityTerm") or {}, int(item.get("weight") or 0))
                     for item in raws or ())
    return tuple(_term(pod, raw, 0) for raw in raws or ())


def parse_pod_terms(pod: Obj) -> PodTerms:
    """The pod's terms; NO_TERMS at once for the many pods without pod (anti-)affinity."""
    affinity, anti_affinity = pod_affinity(pod)
    if not affinity and not anti_affinity:
        return NO_TERMS
    lists: list[tuple[AffinityTerm, ...]] = []
    errors: list[str] = []
    for name, raws, weighted in (
            ("requiredAffinityTerms", affinity.get("requiredDuringSchedulingIgnoredDuringExecution"), False),
            ("requiredAntiAffinityTerms", anti_affinity.get("requiredDuringSchedulingIgnoredDuringExecution"), False),
            ("preferredAffinityTerms", affinity.get("preferredDuringSchedulingIgnoredDuringExecution"), True),
            ("preferredAntiAffinityTerms", anti_affinity.get("preferredDuringSchedulingIgnoredDuringExecution"), True)):
        try:
            lists.append(_terms(pod, raws, weighted))
        except (BadRequest, AttributeError, TypeError, ValueError) as error:
            # a malformed list (a string for a selector) fails like a bad selector would
            lists.append(())
            errors.append(f"{name}: {error}")
    required, required_anti, preferred, preferred_anti = lists
    return PodTerms(required, required_anti, preferred, preferred_anti, tuple(errors))


class TermCache:
    """Parsed terms of the counted pods that use pod affinity, kept per pod key and parsed
    again only when the node table holds a different object for that pod."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Obj, PodTerms]] = {}

    def of(self, key: str, pod: Obj) -> PodTerms:
        entry = self._entries.get(key)
        if entry is None or entry[0] is not pod:
            entry = self._entries[key] = (pod, parse_pod_terms(pod))
        return entry[1]

    def prune(self, live: Collection[str]) -> None:
        """Forget deleted pods once they outnumber the live ones (amortized, not per cycle)."""
        if len(self._entries) > 2 * len(live) + 64:
            self._entries = {k: v for k, v in self._entries.items() if k in live}
