"""NodeAffinity: spec.nodeSelector and required/preferred node affinity, over label columns.

A requirement is evaluated for all nodes at once on the column of its label key:
In/NotIn/Exists/DoesNotExist compare values, Gt/Lt compare integers (a node whose label is
not an integer does not match, nor does a requirement whose value is not one), and
matchFields knows only `metadata.name`, as upstream. Terms of nodeSelectorTerms are ORed,
requirements inside a term ANDed; a term with no requirement matches no node. Score sums the
weights of the preferred terms a node matches, normalized so the best node scores 100.

Args (NodeAffinityArgs, `from_args`): addedAffinity, applied to every pod on top of its
own: its required terms reject a node with "node(s) didn't match scheduler-enforced node
affinity", its preferred terms add to the pod's when scoring.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np

from kubelite.machinery.validation import is_qualified_name, is_valid_label_value
from kubelite.scheduler.config_args import ArgsError, Struct, decode_args
from kubelite.scheduler.config_decode import ListOf
from kubelite.scheduler.config_errors import FieldError, invalid, not_supported
from kubelite.scheduler.framework import (
    Code, CycleState, Mask, Obj, Rows, Scores, Status, Verdict, default_normalize_score)
from kubelite.scheduler.node_table import NodeTable

REASON = "node(s) didn't match Pod's node affinity/selector"
REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"

_REQUIREMENT = Struct("v1.NodeSelectorRequirement",
                      {"key": "string", "operator": "string", "values": ListOf("string")})
_TERM = Struct("v1.NodeSelectorTerm",
               {"matchExpressions": ListOf(_REQUIREMENT), "matchFields": ListOf(_REQUIREMENT)})
ARGS = Struct("v1.NodeAffinityArgs", {"addedAffinity": Struct("v1.NodeAffinity", {
    "requiredDuringSchedulingIgnoredDuringExecution": Struct(
        "v1.NodeSelector", {"nodeSelectorTerms": ListOf(_TERM)}),
    "preferredDuringSchedulingIgnoredDuringExecution": ListOf(Struct(
        "v1.PreferredSchedulingTerm", {"weight": "int32", "preference": _TERM})),
})})


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


def selector_matches(selector: Obj, nodes: NodeTable) -> Mask:
    """Rows matching a NodeSelector: any of its terms."""
    any_term = np.zeros(len(nodes), dtype=np.bool_)
    for term in selector.get("nodeSelectorTerms") or ():
        any_term |= term_matches(term, nodes)
    return any_term


def required_matches(pod: Obj, nodes: NodeTable) -> Mask:
    spec = pod.get("spec") or {}
    out = np.ones(len(nodes), dtype=np.bool_)
    for key, value in (spec.get("nodeSelector") or {}).items():
        out &= nodes.label(key) == value
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is not None:
        out &= selector_matches(required, nodes)
    return out


def _preferred(pod: Obj) -> list[dict[str, Any]]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    return [t for t in affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or ()
            if t.get("weight")]


class NodeAffinity:
    name: ClassVar[str] = "NodeAffinity"

    def __init__(self, *, added_affinity: Obj | None = None) -> None:
        added = added_affinity or {}
        self.added_required: Obj | None = added.get("requiredDuringSchedulingIgnoredDuringExecution")
        self.added_preferred = [t for t in added.get("preferredDuringSchedulingIgnoredDuringExecution")
                                or () if t.get("weight")]

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Self:
        """NodeAffinityArgs, checked as ValidateNodeAffinityArgs (nodeaffinity.NewNodeSelector
        and NewPreferredSchedulingTerms with their paths)."""
        errors = decode_args(args, ARGS)
        added = args.get("addedAffinity") or {}
        path = "addedAffinity"
        required = added.get("requiredDuringSchedulingIgnoredDuringExecution")
        if required is not None:
            for i, term in enumerate(required.get("nodeSelectorTerms") or ()):
                errors += _term_errors(
                    term, f"{path}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]")
        for i, term in enumerate(added.get("preferredDuringSchedulingIgnoredDuringExecution") or ()):
            if term.get("weight"):  # a zero weight term is ignored, so not checked
                errors += _term_errors(
                    term.get("preference") or {},
                    f"{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}].preference")
        if errors:
            raise ArgsError(errors)
        return cls(added_affinity=dict(added))

    def pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status:
        spec = pod.get("spec") or {}
        has_required = spec.get("nodeSelector") or (
            ((spec.get("affinity") or {}).get("nodeAffinity") or {})
            .get("requiredDuringSchedulingIgnoredDuringExecution") is not None)
        if has_required or self.added_required is not None:
            return Status.success()
        return Status.skip()

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        verdict = Verdict(len(nodes))
        allowed = np.ones(len(nodes), dtype=np.bool_)
        if self.added_required is not None:  # checked first, and its reason alone, as upstream
            allowed = selector_matches(self.added_required, nodes)
            verdict.reject(~allowed, REASON_ENFORCED, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        verdict.reject(allowed & ~required_matches(pod, nodes), REASON,
                       Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        return verdict

    def pre_score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Status:
        return Status.success() if _preferred(pod) or self.added_preferred else Status.skip()

    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        total = np.zeros(len(nodes), dtype=np.int64)
        for term in [*self.added_preferred, *_preferred(pod)]:
            total += term_matches(term.get("preference") or {}, nodes) * int(term["weight"])
        return total[rows]

    def normalize_score(self, state: CycleState, pod: Obj, scores: Scores) -> Scores:
        return default_normalize_score(scores, reverse=False)


_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")


def _term_errors(term: Obj, path: str) -> list[FieldError]:
    """newNodeSelectorTerm's errors: label requirements (labels.NewRequirement's checks)
    and field requirements (only metadata.name, In/NotIn, one value)."""
    errors: list[FieldError] = []
    for i, expr in enumerate(term.get("matchExpressions") or ()):
        at = f"{path}.matchExpressions[{i}]"
        key, operator = str(expr.get("key") or ""), str(expr.get("operator") or "")
        values = [str(v) for v in expr.get("values") or ()]
        if operator not in _OPERATORS:
            errors.append(not_supported(f"{at}.operator", operator, ()))
            continue
        errors += [invalid(f"{at}.key", key, m) for m in is_qualified_name(key)]
        if operator in ("In", "NotIn") and not values:
            errors.append(invalid(f"{at}.values", values,
                                  "for 'in', 'notin' operators, values set can't be empty"))
        elif operator in ("Exists", "DoesNotExist") and values:
            errors.append(invalid(f"{at}.values", values,
                                  "values set must be empty for exists and does not exist"))
        elif operator in ("Gt", "Lt"):
            if len(values) != 1:
                errors.append(invalid(f"{at}.values", values,
                                      "for 'Gt', 'Lt' operators, exactly one value is required"))
            errors += [invalid(f"{at}.values[{j}]", v,
                               "for 'Gt', 'Lt' operators, the value must be an integer")
                       for j, v in enumerate(values) if _as_int(v) is None]
        for j, value in enumerate(values):
            errors += [invalid(f"{at}.values[{j}]", value, m) for m in is_valid_label_value(value)]
    for i, expr in enumerate(term.get("matchFields") or ()):
        at = f"{path}.matchFields[{i}]"
        values = [str(v) for v in expr.get("values") or ()]
        if len(values) != 1:
            errors.append(invalid(f"{at}.values", values, "must have one element"))
        elif expr.get("operator") not in ("In", "NotIn"):
            errors.append(not_supported(f"{at}.operator", expr.get("operator") or "", ("In", "NotIn")))
        elif expr.get("key") != "metadata.name":
            errors.append(invalid(f"{at}.key", expr.get("key") or "", "not a valid field selector key"))
    return errors
