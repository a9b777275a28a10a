"""NodeAffinity against upstream's node_affinity_test.go cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import CycleState
from kubelite.scheduler.plugins.node_affinity import REASON, REASON_ENFORCED, NodeAffinity


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values)}


@pytest.mark.parametrize("spec, labels, fits", [
    ({}, {"foo": "bar"}, True),
    ({"nodeSelector": {"foo": "bar"}}, {"foo": "bar"}, True),
    ({"nodeSelector": {"foo": "bar"}}, {"foo": "baz"}, False),
    ({"affinity": required({"matchExpressions": [expr("foo", "In", "bar", "value2")]})}, {"foo": "bar"}, True),
    ({"affinity": required({"matchExpressions": [expr("kernel-version", "Gt", "0204")]})},
     {"kernel-version": "0206"}, True),
    ({"affinity": required({"matchExpressions": [expr("kernel-version", "Gt", "0204")]})},
     {"kernel-version": "v0206"}, False),
    ({"affinity": required({"matchExpressions": [expr("kernel-version", "Lt", "5000")]})},
     {"kernel-version": "1_000"}, False),
    ({"affinity": required({"matchExpressions": [expr("mem-type", "NotIn", "DDR", "DDR2")]})},
     {"mem-type": "DDR3"}, True),
    ({"affinity": required({"matchExpressions": [expr("GPU", "Exists")]})}, {"GPU": "NVIDIA-GRID-K1"}, True),
    ({"affinity": required({"matchExpressions": [expr("foo", "In", "value1", "value2")]})}, {"foo": "bar"}, False),
    ({"affinity": required({"matchExpressions": [expr("foo", "DoesNotExist")]})}, {"bar": "x"}, True),
    ({"affinity": required()}, {"foo": "bar"}, False),
    ({"affinity": required({})}, {"foo": "bar"}, False),
    ({"affinity": required({"matchExpressions": [expr("foo", "In", "bar")]},
                           {"matchExpressions": [expr("diffkey", "In", "wrong")]})}, {"foo": "bar"}, True),
    ({"affinity": required({"matchExpressions": [expr("foo", "In", "bar"), expr("GPU", "Exists")]})},
     {"foo": "bar"}, False),
    ({"nodeSelector": {"foo": "bar"}, "affinity": required({"matchExpressions": [expr("foo", "Exists")]})},
     {"foo": "bar"}, True),
    ({"affinity": required({"matchFields": [expr("metadata.name", "In", "node1")]})}, {}, True),
    ({"affinity": required({"matchFields": [expr("metadata.name", "In", "node2")]})}, {}, False),
    ({"affinity": required({"matchFields": [expr("metadata.name", "In", "node1")],
                            "matchExpressions": [expr("foo", "In", "bar")]})}, {"foo": "baz"}, False),
], ids=["no-selector", "selector-matches", "selector-mismatch", "in", "gt", "gt-not-integer", "lt-not-a-go-integer", "not-in",
        "exists", "in-mismatch", "does-not-exist", "no-terms-match-nothing", "empty-term-matches-nothing",
        "terms-are-ored", "expressions-are-anded", "selector-and-affinity", "match-fields-name",
        "match-fields-other-name", "fields-and-expressions-anded"])
def test_filter_matches_selector_and_required_affinity(spec, labels, fits) -> None:
    nodes = table(make_node("node1", labels=labels))
    plugin = NodeAffinity()
    verdict = plugin.filter(CycleState(), make_pod(**spec), nodes)
    assert verdict.status_of(0, plugin.name).reasons == (() if fits else (REASON,))


def test_score_sums_preferred_weights_and_normalizes() -> None:
    preferred = [
        {"weight": 2, "preference": {"matchExpressions": [expr("foo", "In", "bar")]}},
        {"weight": 4, "preference": {"matchExpressions": [expr("key", "In", "value")]}},
        {"weight": 5, "preference": {"matchExpressions": [expr("foo", "In", "bar"), expr("key", "In", "value"),
                                                          expr("az", "In", "az1")]}},
    ]
    nodes = table(make_node("m1", labels={"foo": "bar"}),
                  make_node("m2", labels={"key": "value"}),
                  make_node("m3", labels={"foo": "bar", "key": "value", "az": "az1"}))
    plugin = NodeAffinity()
    pod = make_pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}})
    rows = np.arange(3)
    assert plugin.pre_score(CycleState(), pod, nodes, rows).is_success()
    raw = plugin.score(CycleState(), pod, nodes, rows)
    assert raw.tolist() == [2, 4, 11]
    assert plugin.normalize_score(CycleState(), pod, raw).tolist() == [18, 36, 100]


def test_pod_without_preferences_is_not_scored() -> None:
    nodes = table(make_node("m1"))
    assert NodeAffinity().pre_score(CycleState(), make_pod(), nodes, np.arange(1)).is_skip()


ADDED = {"requiredDuringSchedulingIgnoredDuringExecution": {
    "nodeSelectorTerms": [{"matchExpressions": [expr("foo", "In", "bar")]}]}}


@pytest.mark.parametrize("spec, labels, reasons", [
    ({"affinity": required({"matchExpressions": [expr("zone", "In", "foo")]})},
     {"zone": "foo", "foo": "bar"}, ()),
    ({"affinity": required({"matchExpressions": [expr("zone", "In", "foo")]})},
     {"zone": "bar", "foo": "bar"}, (REASON,)),
    ({"affinity": required({"matchExpressions": [expr("zone", "In", "foo")]})},
     {"zone": "foo"}, (REASON_ENFORCED,)),
    ({}, {"zone": "foo"}, (REASON_ENFORCED,)),
], ids=["matches-added-and-pods", "matches-added-not-pods", "misses-added", "misses-added-no-pod-affinity"])
def test_added_affinity_from_args_is_enforced_first(spec, labels, reasons) -> None:
    nodes = table(make_node("node1", labels=labels))
    plugin = NodeAffinity.from_args({"addedAffinity": ADDED})
    pod = make_pod(**spec)
    assert plugin.pre_filter(CycleState(), pod, nodes).is_success()  # never skipped: args apply
    assert plugin.filter(CycleState(), pod, nodes).status_of(0, plugin.name).reasons == reasons


def test_added_preferred_terms_add_to_the_pods() -> None:
    plugin = NodeAffinity.from_args({"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 3, "preference": {"matchExpressions": [expr("foo", "In", "bar")]}},
        {"weight": 0, "preference": {"matchExpressions": [expr("key", "Exists")]}}]}})
    nodes = table(make_node("m1", labels={"foo": "bar"}), make_node("m2", labels={"key": "v"}))
    rows = np.arange(2)
    pod = make_pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 2, "preference": {"matchExpressions": [expr("key", "Exists")]}}]}})
    assert plugin.pre_score(CycleState(), make_pod(), nodes, rows).is_success()
    assert plugin.score(CycleState(), pod, nodes, rows).tolist() == [3, 2]
