"""The shape of a quota evaluator and what every kind shares
(k8s.io/apiserver/pkg/quota/v1/interfaces.go and generic/evaluator.go upstream): a
quota's scopes, whether a quota applies to an object, and the summed usage of a
namespace's objects. The kinds are in evaluators.py and pods.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.api.quota.resources import ResourceList, add
from kubelite.machinery.quantity import Quantity

Obj = dict[str, Any]
ONE = Quantity(1)


@dataclass(frozen=True, slots=True)
class ScopeRequirement:
    """One scope a quota is restricted to: spec.scopes give Exists requirements,
    spec.scopeSelector.matchExpressions the rest."""

    scope_name: str
    operator: str = "Exists"
    values: tuple[str, ...] = ()


def quota_scopes(quota: Obj) -> list[ScopeRequirement]:
    spec = quota.get("spec") or {}
    out = [ScopeRequirement(str(scope)) for scope in spec.get("scopes") or ()]
    for expr in (spec.get("scopeSelector") or {}).get("matchExpressions") or ():
        out.append(ScopeRequirement(str(expr.get("scopeName") or ""),
                                    str(expr.get("operator") or ""),
                                    tuple(str(v) for v in expr.get("values") or ())))
    return out


def object_count_name(group: str, plural: str) -> str:
    return f"count/{plural}.{group}" if group else f"count/{plural}"


class Evaluator(Protocol):
    group: str
    plural: str

    def handles(self, operation: str, subresource: str) -> bool:
        """Whether a write (CREATE/UPDATE, and its subresource) can change usage."""

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        """The names among `names` this evaluator measures."""

    def matches_scope(self, scope: ScopeRequirement, obj: Obj) -> bool:
        """Whether obj falls in the scope (never, for kinds without scopes)."""

    def constraints(self, required: Iterable[str], obj: Obj) -> str:
        """Why obj may not be admitted under a quota on `required`, or ""."""

    def usage(self, obj: Obj, now: datetime.datetime) -> ResourceList:
        """What obj costs."""


class Unscoped:
    """What the kinds without quota scopes share (all but pods, upstream too): the
    resources they measure are `names`, no scope ever matches them and nothing
    constrains their admission beyond the quota's arithmetic."""

    names: tuple[str, ...] = ()

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if name in self.names]

    def matches_scope(self, scope: ScopeRequirement, obj: Obj) -> bool:
        return False

    def constraints(self, required: Iterable[str], obj: Obj) -> str:
        return ""


def matches(evaluator: Evaluator, quota: Obj, obj: Obj) -> bool:
    """generic.Matches: the quota limits something this evaluator measures, and obj
    falls in every scope of the quota."""
    hard = (quota.get("status") or {}).get("hard") or {}
    if not evaluator.matching_resources(hard):
        return False
    return all(evaluator.matches_scope(scope, obj) for scope in quota_scopes(quota))


def usage_stats(evaluator: Evaluator, objects: Iterable[Obj], quota: Obj,
                resources: Iterable[str], now: datetime.datetime) -> ResourceList:
    """CalculateUsageStats: the summed usage of the objects in the quota's scopes,
    each of `resources` present (zero when nothing uses it)."""
    used: ResourceList = {name: Quantity(0) for name in resources}
    scopes = quota_scopes(quota)
    for obj in objects:
        if all(evaluator.matches_scope(scope, obj) for scope in scopes):
            used = add(used, evaluator.usage(obj, now))
    return used
