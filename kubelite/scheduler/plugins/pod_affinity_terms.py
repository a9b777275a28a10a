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

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
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
_EMPTY: Mapping[str, Any] = {}


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


def rows_selected(pods: Iterable[tuple[int, Obj]], terms: Sequence[AffinityTerm],
                  *, by_all: bool = False) -> list[list[int]]:
    """One pass over (row, pod): per term, the rows of the pods it selects; with `by_all`, a
    single list, the rows of the pods that every term selects.

    For the incoming pod's own terms, whose namespaceSelector is already resolved into names
    (or selects every namespace), so no pod's namespace labels are needed. This loop visits
    every counted pod, so it reads each pod's metadata once and tests the namespace first."""
    checks: list[tuple[list[int], frozenset[str], bool, Callable[[Mapping[str, str] | None], bool]]] = [
        ([], t.namespaces, t.namespace_selector.is_empty(), t.selector.matches) for t in terms]
    if by_all:
        selected: list[int] = []
        for row, pod in pods:
            meta: Mapping[str, Any] = pod.get("metadata") or _EMPTY
            namespace = meta.get("namespace", "")
            pod_labels: Mapping[str, str] | None = None
            for _, names, everywhere, selects in checks:
                if not (everywhere or namespace in names):
                    break
                if pod_labels is None:
                    pod_labels = meta.get("labels") or _EMPTY
                if not selects(pod_labels):
                    break
            else:
                selected.append(row)
        return [selected]
    for row, pod in pods:
        meta = pod.get("metadata") or _EMPTY
        namespace = meta.get("namespace", "")
        pod_labels = None
        for rows, names, everywhere, selects in checks:
            if everywhere or namespace in names:
                if pod_labels is None:
                    pod_labels = meta.get("labels") or _EMPTY
                if selects(pod_labels):
                    rows.append(row)
    return [check[0] for check in checks]
