"""NodeAffinity: spec.nodeSelector and required/preferred node affinity, over label columns.

A requirement is evaluated for all nodes at once on the column of its label key:
In/NotIn/Exists/DoesNotExist compare values, Gt/Lt compare integers (a node whose label is
not an integer does not match, nor does a requirement whose value is not one), and
matchFields knows only `metadata.name`, as upstream. Terms of nodeSelectorTerms are ORed,
requirements inside a term ANDed; a term with no requirement matches no node. Score sums the
weights of the preferred terms a node matches, normalized so the best node scores 100.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np

from kubelite.scheduler.framework import (
    Code, CycleState, Mask, Obj, Rows, Scores, Status, Verdict, default_normalize_score)
from kubelite.scheduler.node_table import NodeTable

REASON = "node(s) didn't match Pod's node affinity/selector"


_GO_INT64 = re.compile(r"[+-]?[0-9]+\Z")


def _as_int(value: Any) -> int | None:
    """strconv.ParseInt(value, 10, 64): Python's int() would also take " 5" and "1_000"."""
    if not isinstance(value, str) or not _GO_INT64.match(value):
        return None
    number = int(value)
    return number if -(2**63) <= number < 2**63 else None


def _requirement(column: Any, operator: str, values: list[str]) -> Mask:
    present = column != None  # noqa: E711 - elementwise over an object column
    if operator == "In":
        return np.asarray(np.isin(column, values) & present, dtype=np.bool_)
    if operator == "NotIn":
        return np.asarray(~(np.isin(column, values) & present), dtype=np.bool_)
    if operator == "Exists":
        return np.asarray(present, dtype=np.bool_)
    if operator == "DoesNotExist":
        return ~np.asarray(present, dtype=np.bool_)
    if operator in ("Gt", "Lt") and len(values) == 1 and (bound := _as_int(values[0])) is not None:
        numbers = np.array([_as_int(v) for v in column], dtype=object)
        known = numbers != None  # noqa: E711
        out = np.zeros(len(column), dtype=np.bool_)
        ints = numbers[known].astype(np.int64)
        out[known] = ints > bound if operator == "Gt" else ints < bound
        return out
    return np.zeros(len(column), dtype=np.bool_)  # unknown operator or bad values: no match


def term_matches(term: dict[str, Any], nodes: NodeTable) -> Mask:
    """Rows matching one NodeSelectorTerm (every requirement of it)."""
    out = np.ones(len(nodes), dtype=np.bool_)
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return np.zeros(len(nodes), dtype=np.bool_)
    for expr in expressions:
        out &= _requirement(nodes.label(expr.get("key", "")), expr.get("operator", ""),
                            list(expr.get("values") or ()))
    for expr in fields:
        if expr.get("key") != "metadata.name" or expr.get("operator") not in ("In", "NotIn"):
            return np.zeros(len(nodes), dtype=np.bool_)
        out &= _requirement(nodes.name_column(), expr["operator"], list(expr.get("values") or ()))
    return out


def required_matches(pod: Obj, nodes: NodeTable) -> Mask:
    spec = pod.get("spec") or {}
    out = np.ones(len(nodes), dtype=np.bool_)
    for key, value in (spec.get("nodeSelector") or {}).items():
        out &= nodes.label(key) == value
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is not None:
        any_term = np.zeros(len(nodes), dtype=np.bool_)
        for term in required.get("nodeSelectorTerms") or ():
            any_term |= term_matches(term, nodes)
        out &= any_term
    return out


def _preferred(pod: Obj) -> list[dict[str, Any]]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    return [t for t in affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or ()
            if t.get("weight")]


class NodeAffinity:
    name: ClassVar[str] = "NodeAffinity"

    def pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status:
        spec = pod.get("spec") or {}
        has_required = spec.get("nodeSelector") or (
            ((spec.get("affinity") or {}).get("nodeAffinity") or {})
            .get("requiredDuringSchedulingIgnoredDuringExecution") is not None)
        return Status.success() if has_required else Status.skip()

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        verdict = Verdict(len(nodes))
        verdict.reject(~required_matches(pod, nodes), REASON, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        return verdict

    def pre_score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Status:
        return Status.success() if _preferred(pod) else Status.skip()

    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        total = np.zeros(len(nodes), dtype=np.int64)
        for term in _preferred(pod):
            total += term_matches(term.get("preference") or {}, nodes) * int(term["weight"])
        return total[rows]

    def normalize_score(self, state: CycleState, pod: Obj, scores: Scores) -> Scores:
        return default_normalize_score(scores, reverse=False)


