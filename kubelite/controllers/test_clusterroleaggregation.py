"""Which rules an aggregated ClusterRole gathers (upstream's
clusterroleaggregation_controller_test.go cases)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.clusterroleaggregation import aggregated_rules

Obj = dict[str, Any]
GET_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
LIST_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}
GET_NODES = {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}


def role(name: str, rules: list[Obj], labels: dict[str, str] | None = None,
         selectors: list[Obj] | None = None) -> Obj:
    obj: Obj = {"metadata": {"name": name, "labels": labels or {}}, "rules": rules}
    if selectors is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": selectors}
    return obj


AGGREGATE = role("agg", [GET_NODES], selectors=[{"matchLabels": {"team": "a"}}])


@pytest.mark.parametrize("target, others, rules", [
    (role("plain", [GET_PODS]), [], None),
    (AGGREGATE, [], []),
    (AGGREGATE, [role("b", [LIST_PODS], {"team": "a"}), role("a", [GET_PODS], {"team": "a"})],
     [GET_PODS, LIST_PODS]),
    (AGGREGATE, [role("a", [GET_PODS], {"team": "a"}), role("b", [GET_PODS], {"team": "a"})],
     [GET_PODS]),
    (AGGREGATE, [role("a", [GET_PODS], {"team": "b"})], []),
    (role("agg", [], {"team": "a"}, [{"matchLabels": {"team": "a"}}]),
     [role("a", [GET_PODS], {"team": "a"})], [GET_PODS]),
    (role("agg", [], selectors=[{"matchLabels": {"team": "a"}},
                                {"matchExpressions": [{"key": "x", "operator": "Exists"}]}]),
     [role("a", [GET_PODS], {"team": "a"}), role("c", [LIST_PODS], {"x": "1"})],
     [GET_PODS, LIST_PODS]),
], ids=["not-aggregated", "nothing-selected-empties", "name-order", "each-rule-once",
        "other-labels", "not-itself", "several-selectors"])
def test_aggregated_rules(target: Obj, others: list[Obj], rules: list[Obj] | None) -> None:
    assert aggregated_rules(target, [target, *others]) == rules
