"""PodTopologySpread against upstream's filtering_test.go (TestSingleConstraint,
TestMultipleConstraints) and scoring_test.go (TestPodTopologySpreadScore) outcomes, plus the
defaults read from Services and controllers and PodTopologySpreadArgs validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kubelite.scheduler.config_errors import ArgsError

from kubelite.client.store import Indexer, Lister
from kubelite.machinery import labels
from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.events import DEFAULT_PLUGIN_EVENTS, ActionType, ClusterEvent, Resource
from kubelite.scheduler.framework import Code, CycleState
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.plugins.pod_topology_spread import (
    REASON, REASON_MISSING_LABEL, PodTopologySpread)
from kubelite.scheduler.plugins.spread_constraints import LABEL_HOSTNAME, SELECTING_RESOURCES, default_selector

Obj = dict[str, Any]
OK, NO, NEVER = Code.SUCCESS, Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE
FOO = {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}
BAR = {"matchExpressions": [{"key": "bar", "operator": "Exists"}]}
CORDONED = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]


def spread(skew: int, key: str, selector: Obj | None, when: str = "DoNotSchedule", **extra: Any) -> Obj:
    out: Obj = {"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": when, **extra}
    if selector is not None:
        out["labelSelector"] = selector
    return out


def incoming(*constraints: Obj, pod_labels: tuple[str, ...] = ("foo",), **spec: Any) -> Obj:
    return make_pod("p", labels=dict.fromkeys(pod_labels, ""),
                    topologySpreadConstraints=list(constraints), **spec)


def node(name: str, taints: list[Obj] | None = None, /, **node_labels: str) -> Obj:
    return make_node(name, labels=node_labels, taints=taints)


def zoned(name: str, zone: str) -> Obj:
    return node(name, zone=zone, node=name)


def pods(placement: str, *pod_labels: str, namespace: str = "default") -> tuple[Obj, ...]:
    """'a2 b1' → two pods on node-a and one on node-b, labelled `pod_labels` (default foo)."""
    out = []
    for item in placement.split():
        for _ in range(int(item[1:])):
            out.append(make_pod(labels=dict.fromkeys(pod_labels or ("foo",), ""),
                                node=f"node-{item[0]}", namespace=namespace))
    return tuple(out)


FOUR_ZONED = (zoned("node-a", "zone1"), zoned("node-b", "zone1"), zoned("node-x", "zone2"),
              zoned("node-y", "zone2"))


def filter_codes(pod: Obj, nodes: NodeTable) -> dict[str, Code]:
    plugin, state = PodTopologySpread(), CycleState()
    assert plugin.pre_filter(state, pod, nodes).is_success()
    verdict = plugin.filter(state, pod, nodes)
    return {name: verdict.status_of(row, plugin.name).code for row, name in enumerate(nodes.names)}


def codes(**by_letter: Code) -> dict[str, Code]:
    return {f"node-{letter}": code for letter, code in by_letter.items()}


@pytest.mark.parametrize("pod, nodes, existing, expected", [
    (incoming(spread(1, "zone", FOO)), FOUR_ZONED, (), codes(a=OK, b=OK, x=OK, y=OK)),
    (incoming(spread(1, "zone", BAR)), FOUR_ZONED, (), codes(a=OK, b=OK, x=OK, y=OK)),
    (incoming(spread(1, "zone", FOO)), FOUR_ZONED,
     (*pods("a1", namespace="ns1"), *pods("a1", namespace="ns2"), *pods("x1 y1")),
     codes(a=OK, b=OK, x=NO, y=NO)),
    (incoming(spread(1, "zone", None)), FOUR_ZONED, pods("x1 y1"), codes(a=OK, b=OK, x=OK, y=OK)),
    (incoming(spread(1, "zone", FOO)), FOUR_ZONED, pods("a2 b1 y3"), codes(a=OK, b=OK, x=OK, y=OK)),
    (incoming(spread(1, "zone", FOO)),
     (zoned("node-a", "zone1"), node("node-b", zon="zone1", node="node-b"), zoned("node-x", "zone2"),
      zoned("node-y", "zone2")),
     pods("a1 b1 x1 y1"), codes(a=OK, b=NEVER, x=NO, y=NO)),
    (incoming(spread(1, "rack", FOO)), (zoned("node-a", "zone1"), zoned("node-x", "zone2")), (),
     codes(a=NEVER, x=NEVER)),
    (incoming(spread(1, "node", FOO)), FOUR_ZONED, pods("a2 b1 y3"), codes(a=NO, b=NO, x=OK, y=NO)),
    (incoming(spread(2, "node", FOO)), FOUR_ZONED, pods("a2 b1 y3"), codes(a=NO, b=OK, x=OK, y=NO)),
    (incoming(spread(1, "node", FOO), pod_labels=("bar",)), FOUR_ZONED, pods("a2 b1 y3"),
     codes(a=NO, b=OK, x=OK, y=NO)),
    (incoming(spread(1, "node", FOO), affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "node", "operator": "In", "values": ["node-a", "node-y"]}]}]}}}),
     FOUR_ZONED, pods("a2 b1 y3"), codes(a=OK, b=OK, x=OK, y=NO)),
    (incoming(spread(1, "node", FOO)), (node("node-a", node="node-a"), node("node-b", node="node-b")),
     ({**make_pod(labels={"foo": ""}, node="node-a"),
       "metadata": {"name": "going", "namespace": "default", "labels": {"foo": ""},
                    "deletionTimestamp": "2026-01-01T00:00:00Z"}}, *pods("b1")),
     codes(a=OK, b=NO)),
    (incoming(spread(2, "node", FOO, minDomains=4)),
     tuple(node(f"node-{c}", node=f"node-{c}") for c in "abc"), pods("a2 b2 c1"), codes(a=NO, b=NO, c=OK)),
    (incoming(spread(2, "node", FOO, minDomains=2)),
     tuple(node(f"node-{c}", node=f"node-{c}") for c in "abc"), pods("a2 b2 c1"), codes(a=OK, b=OK, c=OK)),
    (incoming(spread(2, "zone", FOO, minDomains=3)), FOUR_ZONED, pods("a1 b1 y1"),
     codes(a=NO, b=NO, x=OK, y=OK)),
    (incoming(spread(1, "node", FOO), nodeSelector={"foo": ""}),
     (*(node(f"node-{c}", node=f"node-{c}", foo="") for c in "abx"), node("node-y", node="node-y")),
     pods("a1 b1 y1"), codes(a=NO, b=NO, x=OK, y=OK)),
    (incoming(spread(1, "node", FOO, nodeAffinityPolicy="Ignore"), nodeSelector={"foo": ""}),
     (*(node(f"node-{c}", node=f"node-{c}", foo="") for c in "abx"), node("node-y", node="node-y")),
     pods("a1 b1 y1"), codes(a=NO, b=NO, x=OK, y=NO)),
    (incoming(spread(1, "node", FOO, nodeTaintsPolicy="Honor")),
     (*(node(f"node-{c}", node=f"node-{c}") for c in "abx"), node("node-y", CORDONED, node="node-y")),
     pods("a1 b1 y1"), codes(a=NO, b=NO, x=OK, y=OK)),
    (incoming(spread(1, "node", FOO)),
     (*(node(f"node-{c}", node=f"node-{c}") for c in "abx"), node("node-y", CORDONED, node="node-y")),
     pods("a1 b1 y1"), codes(a=NO, b=NO, x=OK, y=NO)),
    # TestMultipleConstraints
    (incoming(spread(1, "zone", FOO), spread(1, "node", FOO)), FOUR_ZONED, pods("a2 b1 y3"),
     codes(a=NO, b=NO, x=OK, y=NO)),
    (incoming(spread(1, "zone", FOO), spread(1, "node", FOO)), FOUR_ZONED, pods("a2 b1 y4"),
     codes(a=NO, b=NO, x=NO, y=NO)),
    (incoming(spread(1, "zone", FOO), spread(1, "node", BAR), pod_labels=("foo", "bar")), FOUR_ZONED,
     (*pods("a1"), *pods("y1", "bar")), codes(a=NO, b=NO, x=OK, y=NO)),
    (incoming(spread(1, "zone", FOO), spread(1, "node", BAR), pod_labels=("foo", "bar")), FOUR_ZONED,
     (*pods("a1"), *pods("a1 y1", "foo", "bar"), *pods("y2")), codes(a=NO, b=OK, x=NO, y=NO)),
    (incoming(spread(1, "zone", FOO), spread(1, "node", BAR), pod_labels=("bar",)), FOUR_ZONED,
     (*pods("a1"), *pods("x1 y1", "bar")), codes(a=OK, b=OK, x=NO, y=NO)),
    (incoming(spread(1, "zone", FOO), spread(1, "node", FOO)),
     (zoned("node-a", "zone1"), zoned("node-b", "zone1"), node("node-x", zone="zone2"),
      zoned("node-y", "zone2")),
     pods("a1 y1"), codes(a=NO, b=OK, x=NEVER, y=NO)),
], ids=["no-existing-pods", "pod-does-not-match-itself", "other-namespaces-do-not-count",
        "null-selector-matches-no-pod", "zones-3-3-all-fit", "node-b-lacks-zone-label",
        "no-node-has-rack", "nodes-2-1-0-3-only-x", "max-skew-2-b-and-x",
        "nodes-2-1-0-3-pod-not-matching-itself", "node-affinity-narrows-the-domains",
        "terminating-pods-do-not-count", "fewer-domains-than-min-domains",
        "more-domains-than-min-domains", "zones-fewer-than-min-domains",
        "node-affinity-policy-honored", "node-affinity-policy-ignored", "node-taints-policy-honored",
        "node-taints-policy-ignored", "zone-and-node-only-x", "zone-and-node-no-node",
        "two-selectors-only-x", "two-selectors-only-b", "not-matching-itself-on-zone",
        "node-x-lacks-node-label"])
def test_filter_matches_upstream(pod: Obj, nodes: tuple[Obj, ...], existing: tuple[Obj, ...],
                                 expected: dict[str, Code]) -> None:
    assert filter_codes(pod, table(*nodes, pods=existing)) == expected


def test_filter_reasons_are_upstreams() -> None:
    nodes = table(zoned("node-a", "zone1"), node("node-b", node="node-b"), zoned("node-x", "zone2"),
                  pods=pods("a2"))
    plugin, state, pod = PodTopologySpread(), CycleState(), incoming(spread(1, "zone", FOO))
    plugin.pre_filter(state, pod, nodes)
    verdict = plugin.filter(state, pod, nodes)
    assert verdict.status_of(0, plugin.name).reasons == (REASON,)
    assert verdict.status_of(1, plugin.name).reasons == (REASON_MISSING_LABEL,)
    assert verdict.status_of(2, plugin.name).is_success()


def scores(pod: Obj, nodes: NodeTable, candidates: str, plugin: PodTopologySpread | None = None) -> dict[str, int]:
    plugin, state = plugin or PodTopologySpread(), CycleState()
    rows = np.array([nodes.row_of[f"node-{c}"] for c in candidates], dtype=np.intp)
    assert plugin.pre_score(state, pod, nodes, rows).is_success()
    normalized = plugin.normalize_score(state, pod, plugin.score(state, pod, nodes, rows))
    return {f"node-{c}": int(s) for c, s in zip(candidates, normalized, strict=True)}


def hosts(letters: str, **extra: str) -> tuple[Obj, ...]:
    return tuple(node(f"node-{c}", **{LABEL_HOSTNAME: f"node-{c}"}, **extra) for c in letters)


def zoned_hosts(zones: str) -> tuple[Obj, ...]:
    """'a1 b1 x2' → node-a and node-b in zone1, node-x in zone2, each with its hostname."""
    return tuple(node(f"node-{item[0]}", zone=f"zone{item[1]}", **{LABEL_HOSTNAME: f"node-{item[0]}"})
                 for item in zones.split())


HOST = LABEL_HOSTNAME
SOFT = "ScheduleAnyway"


@pytest.mark.parametrize("pod, nodes, existing, candidates, expected", [
    (incoming(spread(1, HOST, FOO, SOFT)), hosts("ab"), (), "ab", [100, 100]),
    (incoming(spread(1, HOST, FOO, SOFT)), hosts("ab"), pods("a1 b1"), "ab", [100, 100]),
    (incoming(spread(1, HOST, FOO, SOFT)), hosts("abcd"), pods("a2 b1 d3"), "abcd", [20, 60, 100, 0]),
    (incoming(spread(1, HOST, None, SOFT)), hosts("abcd"), pods("a2 b1 d3"), "abcd", [100, 100, 100, 100]),
    (incoming(spread(2, HOST, FOO, SOFT)), hosts("abcd"), pods("a2 b1 d3"), "abcd", [33, 66, 100, 16]),
    (incoming(spread(3, HOST, FOO, SOFT)), hosts("abcd"), pods("a4 b3 c2 d1"), "abcd", [44, 66, 77, 100]),
    (incoming(spread(1, HOST, FOO, SOFT)), hosts("abxy"), pods("a4 b2 x1 y3"), "abx", [33, 83, 100]),
    (incoming(spread(1, HOST, FOO, SOFT)), (*hosts("axy"), node("node-b", n="node-b")),
     pods("a4 b2 x1 y3"), "abx", [16, 0, 100]),
    (incoming(spread(1, "zone", FOO, SOFT)), zoned_hosts("a1 b1 x2 y2"), pods("a4 b2 x1 y3"), "abx",
     [75, 75, 100]),
    (incoming(spread(1, "zone", FOO, SOFT), spread(1, HOST, FOO, SOFT)), zoned_hosts("a1 b1 x2 y2"),
     pods("a2 b1 x2 y4"), "ax", [100, 63]),
    (incoming(spread(1, "zone", FOO, SOFT), spread(1, HOST, BAR, SOFT), pod_labels=("foo", "bar")),
     zoned_hosts("a1 b1 x2 y2"), (*pods("a1 y1"), *pods("b1", "foo", "bar"), *pods("y1", "bar")),
     "abxy", [60, 20, 100, 60]),
    (incoming(spread(1, "zone", FOO, SOFT), spread(1, HOST, BAR, SOFT), pod_labels=("foo", "bar")),
     zoned_hosts("a1 b1 x2 y2"), (*pods("b1", "bar"), *pods("x1"), *pods("y1", "foo", "bar")),
     "abxy", [100, 60, 40, 0]),
    (incoming(spread(1, "zone", FOO, SOFT), spread(1, HOST, BAR, SOFT), pod_labels=("foo", "bar")),
     zoned_hosts("a1 b1 x2 y2"), (*pods("a1 y1"), *pods("b1", "foo", "bar"), *pods("y1", "bar")),
     "abx", [50, 25, 100]),
    (incoming(spread(1, HOST, FOO, SOFT)), hosts("ab"), (*pods("a1", namespace="ns1"), *pods("a1 b2")),
     "ab", [100, 33]),
    (incoming(spread(2, "node", FOO, SOFT, minDomains=10)),
     tuple(node(f"node-{c}", node=f"node-{c}") for c in "abc"), pods("a2 b2 c1"), "abc", [75, 75, 100]),
    (incoming(spread(1, "node", FOO, SOFT), nodeSelector={"foo": ""}),
     (node("node-a", node="node-a", foo=""), node("node-b", node="node-b", foo=""), node("node-c", node="node-c")),
     pods("a2 b1 c1"), "abc", [0, 33, 100]),
    (incoming(spread(1, "node", FOO, SOFT, nodeAffinityPolicy="Ignore"), nodeSelector={"foo": ""}),
     (node("node-a", node="node-a", foo=""), node("node-b", node="node-b", foo=""), node("node-c", node="node-c")),
     pods("a2 b1 c1"), "abc", [66, 100, 100]),
    (incoming(spread(1, "node", FOO, SOFT, nodeTaintsPolicy="Honor")),
     (node("node-a", node="node-a"), node("node-b", node="node-b"), node("node-c", CORDONED, node="node-c")),
     pods("a2 b1 c1"), "abc", [0, 33, 100]),
    (incoming(spread(1, "node", FOO, SOFT)),
     (node("node-a", node="node-a"), node("node-b", node="node-b"), node("node-c", CORDONED, node="node-c")),
     pods("a2 b1 c1"), "abc", [66, 100, 100]),
    (incoming(spread(1, "zone", {}, SOFT, matchLabelKeys=["foo"]),
              spread(1, HOST, {}, SOFT, matchLabelKeys=["bar"]), pod_labels=("foo", "bar")),
     zoned_hosts("a1 b1 c2 d2"), (*pods("a1 c1"), *pods("b1", "foo", "bar"), *pods("c1", "bar")),
     "abcd", [60, 20, 60, 100]),
    (incoming(spread(1, "zone", FOO, SOFT), spread(1, HOST, BAR, SOFT, matchLabelKeys=["baz"]),
              pod_labels=("foo", "bar", "baz")),
     zoned_hosts("a1 b1 c2 d2"),
     (*pods("a1 c1"), *pods("b1", "foo", "bar", "baz"), *pods("c1", "bar"), *pods("c1", "bar", "baz")),
     "abcd", [60, 20, 60, 100]),
], ids=["no-existing-pods", "same-count-everywhere", "hostname-2-1-0-3", "hostname-null-selector",
        "hostname-max-skew-2", "hostname-max-skew-3", "three-of-four-candidates",
        "candidate-lacking-hostname-scores-0", "zone-three-of-four-candidates",
        "zone-and-hostname-two-candidates", "two-selectors", "two-selectors-some-nodes-empty",
        "two-selectors-three-candidates", "other-namespaces-do-not-count",
        "min-domains-ignored-when-scoring", "node-affinity-policy-honored",
        "node-affinity-policy-ignored", "node-taints-policy-honored", "node-taints-policy-ignored",
        "match-label-keys-with-empty-selector", "match-label-keys-anded-with-selector"])
def test_score_matches_upstream(pod: Obj, nodes: tuple[Obj, ...], existing: tuple[Obj, ...],
                                candidates: str, expected: list[int]) -> None:
    got = scores(pod, table(*nodes, pods=existing), candidates)
    assert list(got.values()) == expected


def test_terminating_pods_do_not_count_when_scoring() -> None:
    going = {**make_pod(labels={"foo": ""}, node="node-a"),
             "metadata": {"name": "going", "namespace": "default", "labels": {"foo": ""},
                          "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    nodes = table(*hosts("ab"), pods=(going, *pods("b1")))
    assert scores(incoming(spread(1, HOST, FOO, SOFT)), nodes, "ab") == {"node-a": 100, "node-b": 0}


@pytest.mark.parametrize("pod", [
    make_pod(labels={"foo": ""}),
    incoming(spread(1, "zone", FOO, SOFT)),
], ids=["no-constraints", "only-soft-constraints"])
def test_pre_filter_skips_without_hard_constraints(pod: Obj) -> None:
    assert PodTopologySpread().pre_filter(CycleState(), pod, table(*FOUR_ZONED)).is_skip()


def test_pre_score_skips_without_soft_constraints_or_anything_selecting_the_pod() -> None:
    nodes, rows = table(*FOUR_ZONED), np.arange(4, dtype=np.intp)
    plugin = PodTopologySpread()
    assert plugin.pre_score(CycleState(), incoming(spread(1, "zone", FOO)), nodes, rows).is_skip()
    assert plugin.pre_score(CycleState(), make_pod(labels={"foo": ""}), nodes, rows).is_skip()
    plugin.use_listers(listers(services=[obj("svc", {"selector": {"app": "other"}})]))
    assert plugin.pre_score(CycleState(), make_pod(labels={"foo": ""}), nodes, rows).is_skip()


def test_a_selector_that_does_not_parse_is_an_error() -> None:
    bad = spread(1, "zone", {"matchExpressions": [{"key": "foo", "operator": "Near"}]})
    status = PodTopologySpread().pre_filter(CycleState(), incoming(bad), table(*FOUR_ZONED))
    assert status.code == Code.ERROR and "not a valid label selector operator" in status.message()


# --- defaults: the selector comes from what selects the pod -----------------------------


def listers(**objects: list[Obj]) -> dict[str, Lister]:
    """The informer listers the scheduler hands the plugin, over caches holding `objects`."""
    out = {}
    for kind in SELECTING_RESOURCES:
        cache = Indexer()
        for item in objects.get(kind, []):
            cache.update(item)
        out[kind] = Lister(cache)
    return out


def owned(kind: str, api_version: str, name: str = "owner", **pod_labels: str) -> Obj:
    pod = make_pod(labels=pod_labels)
    pod["metadata"]["ownerReferences"] = [
        {"apiVersion": api_version, "kind": kind, "name": name, "controller": True}]
    return pod


def obj(name: str, spec: Obj, namespace: str = "default") -> Obj:
    return {"metadata": {"namespace": namespace, "name": name}, "spec": spec}


@pytest.mark.parametrize("pod, listers, expected", [
    (make_pod(labels={"foo": ""}), None, ""),
    (make_pod(labels={"foo": "", "bar": "1"}),
     listers(services=[obj("s1", {"selector": {"foo": ""}}), obj("s2", {"selector": {"bar": "1"}}),
                        obj("s3", {"selector": {"baz": "x"}}), obj("s4", {}),
                        obj("s5", {"selector": {"foo": ""}}, namespace="other")]),
     "bar=1,foo="),
    (owned("ReplicaSet", "apps/v1", app="web"),
     listers(replicasets=[obj("owner", {"selector": {"matchLabels": {"app": "web"}}})]), "app=web"),
    (owned("StatefulSet", "apps/v1", app="db"),
     listers(statefulsets=[obj("owner", {"selector": {"matchExpressions": [
         {"key": "app", "operator": "In", "values": ["db"]}]}})]), "app in (db)"),
    (owned("ReplicationController", "v1", app="old"),
     listers(replicationcontrollers=[obj("owner", {"selector": {"app": "old"}})]), "app=old"),
    (owned("Deployment", "apps/v1", app="web"),
     listers(replicasets=[obj("owner", {"selector": {"matchLabels": {"app": "web"}}})]), ""),
    (owned("ReplicaSet", "apps/v1", "gone", app="web"), listers(), ""),
], ids=["no-listers", "services-in-the-namespace", "replicaset", "statefulset",
        "replicationcontroller", "other-controller-kind", "controller-not-found"])
def test_default_selector_is_what_selects_the_pod(pod: Obj, listers: Any, expected: str) -> None:
    assert str(default_selector(pod, listers)) == expected


def test_system_defaults_spread_a_replicaset_by_hostname_when_nodes_have_no_zone() -> None:
    # upstream's "system defaulting, nodes don't have zone, pods match service"
    plugin = PodTopologySpread()
    plugin.use_listers(listers(services=[obj("svc", {"selector": {"foo": ""}})]))
    nodes = table(*hosts("abcd"), pods=pods("a4 b3 c2 d1"))
    assert list(scores(make_pod(labels={"foo": ""}), nodes, "abcd", plugin).values()) == [44, 66, 77, 100]


def test_list_defaults_can_filter() -> None:
    plugin = PodTopologySpread.from_args({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]})
    nodes = table(*FOUR_ZONED, pods=pods("a1 b1 x1"))
    state, pod = CycleState(), make_pod(labels={"foo": ""})
    assert plugin.pre_filter(state, pod, nodes).is_skip()  # nothing selects it yet
    plugin.use_listers(listers(services=[obj("svc", {"selector": {"foo": ""}})]))
    assert plugin.pre_filter(state, pod, nodes).is_success()
    verdict = plugin.filter(state, pod, nodes)
    assert [verdict.status_of(r, plugin.name).code for r in range(4)] == [NO, NO, OK, OK]


# --- PodTopologySpreadArgs ---------------------------------------------------------------


def test_from_args_defaults_to_the_system_constraints() -> None:
    assert PodTopologySpread.from_args({}).system_defaulted
    listed = PodTopologySpread.from_args({"defaultingType": "List"})
    assert (listed.system_defaulted, listed.default_constraints) == (False, ())


@pytest.mark.parametrize("args, message", [
    ({"defaultingType": "Sometimes"},
     'defaultingType: Unsupported value: "Sometimes": supported values: "System", "List"'),
    ({"defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]},
     'defaultingType: Invalid value: "System": when .defaultConstraints are not empty'),
    ({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": -1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]},
     "defaultConstraints[0].maxSkew: Invalid value: -1: not in valid range (0, inf)"),
    ({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"}]},
     "defaultConstraints[0].topologyKey: Required value: can not be empty"),
    ({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Sometimes"}]},
     'defaultConstraints[0].whenUnsatisfiable: Unsupported value: "Sometimes": supported values: '
     '"DoNotSchedule", "ScheduleAnyway"'),
    ({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {}}]},
     "defaultConstraints[0].labelSelector: Forbidden: constraint must not define a selector, "
     "as they deduced for each pod"),
    ({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
        {"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]},
     'defaultConstraints[1]: Duplicate value: "{zone, DoNotSchedule}"'),
    ({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 0, "topologyKey": "-zone", "whenUnsatisfiable": "ScheduleAnyway"}]},
     "[defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf), "
     "defaultConstraints[0].topologyKey: Invalid value: \"-zone\": name part must consist of "
     "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
     "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
     "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]"),
    ({"defaultingType": "List", "defaultConstraints": [{"maxSkew": "1"}]},
     "json: cannot unmarshal string into Go struct field TopologySpreadConstraint"
     ".defaultConstraints.maxSkew of type int32"),
], ids=["unknown-defaulting", "system-with-constraints", "max-skew-not-positive", "no-topology-key",
        "unknown-when-unsatisfiable", "selector-forbidden", "duplicate", "several-at-once",
        "mistyped"])
def test_from_args_rejects_what_upstream_rejects(args: Obj, message: str) -> None:
    with pytest.raises(ArgsError) as error:
        PodTopologySpread.from_args(args)
    assert str(error.value) == message


def test_match_label_keys_are_anded_into_the_selector() -> None:
    from kubelite.scheduler.plugins.spread_constraints import constraints_for
    [constraint] = constraints_for([spread(1, "zone", FOO, matchLabelKeys=["app", "missing"])],
                                   {"app": "web", "foo": ""}, "DoNotSchedule")
    assert constraint.selector == labels.parse("app=web,foo")
    assert (constraint.min_domains, constraint.node_affinity_policy, constraint.node_taints_policy) == (
        1, "Honor", "Ignore")


def test_counts_followed_across_cycles_agree_with_a_fresh_count() -> None:
    # one plugin lives across cycles (following assumptions, echoes, removals); a fresh one
    # counts anew every cycle
    nodes = table(*FOUR_ZONED, pods=pods("a1 y2"))
    kept = PodTopologySpread()
    for i in range(20):
        app = "web" if i % 3 else "db"
        pod = make_pod(f"p-{i}", labels={"foo": "", "app": app}, topologySpreadConstraints=[
            spread(2, "zone", {"matchLabels": {"app": app}}), spread(1, "node", FOO, SOFT)])
        answers = []
        for plugin in (kept, PodTopologySpread()):
            state = CycleState()
            assert plugin.pre_filter(state, pod, nodes).is_success()
            verdict = plugin.filter(state, pod, nodes)
            rows = np.flatnonzero(~verdict.rejected())
            assert plugin.pre_score(state, pod, nodes, rows).is_success()
            answers.append(([verdict.status_of(r, plugin.name).code for r in range(len(nodes))],
                            list(plugin.score(state, pod, nodes, rows)), rows))
        assert answers[0][:2] == answers[1][:2]
        chosen = nodes.names[int(answers[0][2][i % answers[0][2].size])]
        nodes.assume_pod(pod, chosen)
        if i % 4 == 1:  # the binding's echo replaces an assumed pod (followed)
            echoed = nodes.pod(f"default/p-{i - 1}")
            assert echoed is not None
            nodes.add_pod({**echoed, "status": {"phase": "Running"}})
        if i == 6:
            nodes.remove_pod("default/existing-0")  # not followed: counted afresh
        if i == 9:
            nodes.remove_pod("default/p-7")  # a followed pod deleted (followed)
        if i == 10:
            nodes.add_pod(make_pod("other", labels={"foo": "", "app": "web"}, node="node-b"))
        if i == 12:  # a followed pod relabelled and moved (followed)
            moved = nodes.pod("default/p-11")
            assert moved is not None
            nodes.add_pod({**moved, "metadata": {**moved["metadata"], "labels": {"app": "db"}},
                           "spec": {**moved["spec"], "nodeName": "node-x"}})
        if i == 13:  # a plain pod placed between spread pods (followed through PreFilter)
            plain = make_pod("plain", labels={"foo": "", "app": "web"})
            for plugin in (kept, PodTopologySpread()):
                assert plugin.pre_filter(CycleState(), plain, nodes).is_skip()
            nodes.assume_pod(plain, "node-y")
    # walks: only the first count of each of the three selectors; every later change
    # (assumptions, echoes, removals, a move, a plain pod) is followed from the journal
    assert kept._cache.walks <= 3


@pytest.mark.parametrize("incoming, moves", [
    (ClusterEvent(Resource.POD, ActionType.ADD), True),
    (ClusterEvent(Resource.POD, ActionType.UPDATE_POD_LABEL), True),
    (ClusterEvent(Resource.POD, ActionType.DELETE), True),
    (ClusterEvent(Resource.POD, ActionType.UPDATE_POD_SCALE_DOWN), False),
    (ClusterEvent(Resource.NODE, ActionType.ADD), True),
    (ClusterEvent(Resource.NODE, ActionType.DELETE), True),
    (ClusterEvent(Resource.NODE, ActionType.UPDATE_NODE_LABEL), True),
    (ClusterEvent(Resource.NODE, ActionType.UPDATE_NODE_TAINT), True),
    (ClusterEvent(Resource.NODE, ActionType.UPDATE_NODE_ALLOCATABLE), False),
], ids=["pod-add", "pod-label", "pod-delete", "pod-scale-down", "node-add", "node-delete",
        "node-label", "node-taint", "node-allocatable"])
def test_registered_events_are_upstreams(incoming: ClusterEvent, moves: bool) -> None:
    registered = DEFAULT_PLUGIN_EVENTS[PodTopologySpread.name]
    assert any(event.matches(incoming) for event in registered) is moves
