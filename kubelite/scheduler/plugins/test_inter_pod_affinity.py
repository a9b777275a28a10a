"""InterPodAffinity against upstream's filtering_test.go and scoring_test.go cases (kubelite's
pods live in "default" where upstream's use the empty namespace)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from kubelite.client.store import Indexer, Lister
from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import Code, CycleState, Status
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.config_errors import ArgsError
from kubelite.scheduler.plugins.inter_pod_affinity import (
    AFFINITY_REASON, ANTI_AFFINITY_REASON, EXISTING_ANTI_AFFINITY_REASON, InterPodAffinity)

Obj = dict[str, Any]
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
BAD_VALUE = ('values[0][service]: Invalid value: "{{.bad-value.}}": a valid label must be an empty '
             "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end "
             "with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
             "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def expr(key: str, operator: str, *values: str) -> Obj:
    out: Obj = {"key": key, "operator": operator}
    if values:
        out["values"] = list(values)
    return out


def term(topology: str, *expressions: Obj, **extra: Any) -> Obj:
    return {"labelSelector": {"matchExpressions": list(expressions)}, "topologyKey": topology, **extra}


def affinity(required: tuple[Obj, ...] = (), anti: tuple[Obj, ...] = (),
             preferred: tuple[tuple[int, Obj], ...] = (),
             avoided: tuple[tuple[int, Obj], ...] = ()) -> Obj:
    out: Obj = {}
    for kind, hard, soft in (("podAffinity", required, preferred), ("podAntiAffinity", anti, avoided)):
        if hard or soft:
            out[kind] = {REQUIRED: list(hard),
                         PREFERRED: [{"weight": w, "podAffinityTerm": t} for w, t in soft]}
    return out


def pod(labels: dict[str, str] | None = None, *, node: str = "", namespace: str = "default",
        **affinity_args: Any) -> Obj:
    spec = {"affinity": affinity(**affinity_args)} if affinity_args else {}
    return make_pod(labels=labels or {}, node=node, namespace=namespace, **spec)


def namespaces() -> Lister:
    indexer = Indexer()
    for name, team in (("subteam1.team1", "team1"), ("subteam2.team1", "team1"),
                       ("subteam1.team2", "team2"), ("subteam2.team2", "team2")):
        indexer.add({"metadata": {"name": name, "labels": {"team": team}}})
    return Lister(indexer)


def plugin(**options: Any) -> InterPodAffinity:
    out = InterPodAffinity(**options)
    out.use_listers({"namespaces": namespaces()})
    return out


OUTCOMES = {"fits": None, "affinity": (Code.UNSCHEDULABLE_AND_UNRESOLVABLE, AFFINITY_REASON),
            "anti": (Code.UNSCHEDULABLE, ANTI_AFFINITY_REASON),
            "existing": (Code.UNSCHEDULABLE, EXISTING_ANTI_AFFINITY_REASON)}


def outcome(status: Status) -> Any:
    """The OUTCOMES name of a node's status, or the status itself if it is none of them."""
    for name, want in OUTCOMES.items():
        if (status.is_success() if want is None
                else (status.code, status.reasons) == (want[0], (want[1],))):
            return name
    return status


def filter_outcomes(incoming: Obj, nodes: NodeTable, ipa: InterPodAffinity | None = None) -> Any:
    """"skip", PreFilter's rejection, or each node's outcome."""
    ipa = ipa or plugin()
    state = CycleState()
    status = ipa.pre_filter(state, incoming, nodes)
    if not status.is_success():
        return "skip" if status.is_skip() else status
    verdict = ipa.filter(state, incoming, nodes)
    return [outcome(verdict.status_of(row, ipa.name)) for row in range(len(nodes))]


SERVICE = {"service": "securityscan"}
SECURITY = {"security": "S1"}
NODE1 = make_node("node1", labels={"region": "r1", "zone": "z11"})
ON_NODE1 = pod(SERVICE, node="node1")


@pytest.mark.parametrize("incoming, existing, outcome", [
    (pod(), [], "skip"),
    (pod(SECURITY, required=(term("region", expr("service", "In", "securityscan", "value2")),)),
     [ON_NODE1], "fits"),
    (pod(SECURITY, required=(term("region", expr("service", "NotIn", "securityscan3", "value3")),)),
     [ON_NODE1], "fits"),
    (pod(SECURITY, required=(term("", expr("service", "In", "securityscan", "value2"),
                                  namespaces=["DiffNameSpace"]),)),
     [pod(SERVICE, node="node1", namespace="ns")], "affinity"),
    (pod(SERVICE, required=(term("", expr("service", "In", "antivirusscan", "value2")),)),
     [ON_NODE1], "affinity"),
    (pod(SECURITY, required=(term("region", expr("service", "Exists"), expr("wrongkey", "DoesNotExist")),
                             term("region", expr("service", "In", "securityscan"),
                                  expr("service", "NotIn", "WrongValue")))), [ON_NODE1], "fits"),
    (pod(SECURITY, required=(term("region", expr("service", "Exists"), expr("wrongkey", "DoesNotExist")),
                             term("region", expr("service", "In", "securityscan2"),
                                  expr("service", "NotIn", "WrongValue")))), [ON_NODE1], "affinity"),
    (pod(SECURITY, required=(term("region", expr("service", "In", "securityscan", "value2")),),
         anti=(term("node", expr("service", "In", "antivirusscan", "value2")),)), [ON_NODE1], "fits"),
    (pod(SECURITY, required=(term("region", expr("service", "In", "securityscan", "value2")),),
         anti=(term("node", expr("service", "In", "antivirusscan", "value2")),)),
     [pod(SERVICE, node="node1", anti=(term("node", expr("service", "In", "antivirusscan", "value2")),))],
     "fits"),
    (pod(SECURITY, required=(term("region", expr("service", "In", "securityscan", "value2")),),
         anti=(term("zone", expr("service", "In", "securityscan", "value2")),)), [ON_NODE1], "anti"),
    (pod(SERVICE, required=(term("region", expr("service", "In", "securityscan", "value2")),),
         anti=(term("node", expr("service", "In", "antivirusscan", "value2")),)),
     [pod(SERVICE, node="node1", anti=(term("zone", expr("service", "In", "securityscan", "value2")),))],
     "existing"),
    (pod(SERVICE, required=(term("region", expr("service", "NotIn", "securityscan", "value2")),)),
     [pod(SERVICE, node="node2")], "affinity"),
    (pod(SERVICE), [pod(SERVICE, node="node1", anti=(term("zone", expr("service", "In", "securityscan", "value2")),))],
     "existing"),
    (pod(SERVICE), [pod(SERVICE, node="node1", anti=(term("zone", expr("service", "NotIn", "securityscan", "value2")),))],
     "skip"),
    (pod(SERVICE, anti=(term("region", expr("service", "Exists")), term("region", expr("security", "Exists")))),
     [pod(SECURITY, node="node1", anti=(term("zone", expr("security", "Exists")),))], "anti"),
    (pod(SERVICE, anti=(term("zone", expr("service", "Exists")), term("zone", expr("security", "Exists")))),
     [pod(SECURITY, node="node1", anti=(term("zone", expr("security", "Exists")),))], "anti"),
    (pod(SECURITY, anti=(term("zone", expr("security", "Exists")),)),
     [pod(SERVICE, node="node1", anti=(term("zone", expr("service", "Exists")), term("zone", expr("security", "Exists"))))],
     "existing"),
    (pod({"abc": "", "xyz": ""}, anti=(term("zone", expr("abc", "Exists")), term("zone", expr("def", "Exists")))),
     [pod({"def": "", "xyz": ""}, node="node1",
          anti=(term("zone", expr("abc", "Exists")), term("zone", expr("def", "Exists"))))], "anti"),
    (pod(SECURITY, required=(term("region", expr("service", "In", "securityscan", "value2"),
                                  namespaceSelector={"matchExpressions": [expr("team", "In", "team1")]}),)),
     [pod(SERVICE, node="node1", namespace="subteam1.team1")], "fits"),
    (pod(SECURITY, required=(term("region", expr("service", "In", "securityscan", "value2"),
                                  namespaceSelector={"matchExpressions": [expr("team", "In", "team1")]}),)),
     [pod(SERVICE, node="node1", namespace="subteam1.team2")], "affinity"),
    (pod(SECURITY, namespace="subteam1.team1",
         anti=(term("zone", expr("service", "In", "securityscan", "value2"),
                    namespaceSelector={"matchExpressions": [expr("team", "In", "team1")]}),)),
     [pod(SERVICE, node="node1", namespace="subteam2.team1")], "anti"),
    (pod(SECURITY, namespace="subteam1.team1",
         anti=(term("zone", expr("service", "In", "securityscan", "value2"), namespaceSelector={}),)),
     [pod(SERVICE, node="node1", namespace="subteam2.team1")], "anti"),
    (pod(SECURITY, namespace="subteam1.team1",
         anti=(term("zone", expr("service", "In", "securityscan", "value2"),
                    namespaceSelector={"matchExpressions": [expr("team", "In", "team1")]}),)),
     [pod(SERVICE, node="node1", namespace="subteam1.team2")], "fits"),
], ids=["no-affinity-skips", "affinity-in", "affinity-not-in", "affinity-other-namespace",
        "affinity-selector-mismatch", "terms-with-several-operators", "expressions-are-anded",
        "affinity-and-anti-affinity", "anti-affinity-symmetry-satisfied", "anti-affinity-violated",
        "existing-anti-affinity-violated", "own-labels-do-not-match-own-terms",
        "existing-anti-affinity-without-own-terms", "existing-anti-affinity-not-selecting-skips",
        "anti-affinity-before-symmetry", "symmetry-a1", "symmetry-a2", "symmetry-b1",
        "namespace-selector-matches", "namespace-selector-mismatch", "anti-namespace-selector",
        "anti-empty-namespace-selector-is-all", "anti-namespace-selector-mismatch"])
def test_filter_on_one_node_as_upstream(incoming: Obj, existing: list[Obj], outcome: str) -> None:
    got = filter_outcomes(incoming, table(NODE1, pods=tuple(existing)))
    assert got == (outcome if outcome == "skip" else [outcome])


@pytest.mark.parametrize("terms", [
    {"required": (term("region", expr("service", "In", "{{.bad-value.}}")),
                  term("node", expr("service", "In", "antivirusscan", "value2")))},
    {"preferred": ((1, term("region", expr("service", "In", "{{.bad-value.}}"))),)},
], ids=["required", "preferred-fails-too"])
def test_pre_filter_rejects_a_selector_that_does_not_parse(terms: Obj) -> None:
    status = filter_outcomes(pod(SERVICE, **terms), table(NODE1))
    field = "requiredAffinityTerms" if "required" in terms else "preferredAffinityTerms"
    assert status == Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (f"parsing pod: {field}: {BAD_VALUE}",),
                            "InterPodAffinity")


CHINA, CHINA_AZ1, INDIA = {"region": "China"}, {"region": "China", "az": "az1"}, {"region": "India"}


def hosts(*zones: str, region: str = "r1") -> tuple[Obj, ...]:
    return tuple(make_node(f"node{chr(65 + i)}", labels={"region": region, "zone": zone,
                                                          "hostname": f"node{chr(65 + i)}"})
                 for i, zone in enumerate(zones))


@pytest.mark.parametrize("incoming, existing, nodes, outcomes", [
    (pod(required=(term("region", expr("foo", "In", "bar")),)), [pod({"foo": "bar"}, node="nodeA")],
     (make_node("nodeA", labels=CHINA), make_node("nodeB", labels=CHINA_AZ1), make_node("nodeC", labels=INDIA)),
     ["fits", "fits", "affinity"]),
    (pod({"foo": "bar", "service": "securityscan"},
         required=(term("zone", expr("foo", "In", "bar")), term("zone", expr("service", "In", "securityscan")))),
     [pod({"foo": "bar"}, node="nodeA")], hosts("az1", "az2"), ["fits", "fits"]),
    (pod({"foo": "bar", "service": "securityscan"},
         required=(term("zoneLabel", expr("foo", "In", "bar")), term("zoneLabel", expr("service", "In", "securityscan")))),
     [pod({"foo": "bar"}, node="nodeA")], hosts("az1", "az2"), ["affinity", "affinity"]),
    (pod(anti=(term("region", expr("foo", "In", "abc")),)), [pod({"foo": "abc"}, node="nodeA")],
     hosts("z1", "z2"), ["anti", "anti"]),
    (pod(anti=(term("region", expr("foo", "In", "abc")),)), [pod({"foo": "abc"}, node="nodeA")],
     (make_node("nodeA", labels=CHINA), make_node("nodeB", labels=CHINA_AZ1), make_node("nodeC", labels=INDIA)),
     ["anti", "anti", "fits"]),
    (pod({"foo": "123"}, namespace="NS1", anti=(term("region", expr("foo", "In", "bar")),)),
     [pod({"foo": "bar"}, node="nodeA", namespace="NS1"),
      pod(node="nodeC", namespace="NS2", anti=(term("region", expr("foo", "In", "123")),))],
     (make_node("nodeA", labels=CHINA), make_node("nodeB", labels=CHINA_AZ1), make_node("nodeC", labels=INDIA)),
     ["anti", "anti", "fits"]),
    (pod({"foo": ""}), [pod(node="nodeA", anti=(term("invalid-node-label", expr("foo", "Exists")),))],
     hosts("z1", "z1"), "skip"),
    (pod({"foo": "", "bar": ""}), [pod(node="nodeA", anti=(term("zone", expr("foo", "Exists")),)),
                                   pod(node="nodeA", anti=(term("region", expr("bar", "Exists")),))],
     hosts("z1", "z2"), ["existing", "existing"]),
    (pod(anti=(term("zone", expr("foo", "Exists")), term("region", expr("bar", "Exists")))),
     [pod({"foo": ""}, node="nodeA"), pod({"bar": ""}, node="nodeB")], hosts("z1", "z2"), ["anti", "anti"]),
    (pod({"foo": "", "bar": ""}),
     [pod(node="nodeA", anti=(term("invalid-node-label", expr("foo", "Exists")), term("zone", expr("bar", "Exists"))))],
     hosts("z1", "z2"), ["existing", "fits"]),
    (pod(anti=(term("invalid-node-label", expr("foo", "Exists")), term("zone", expr("bar", "Exists")))),
     [pod({"foo": "", "bar": ""}, node="nodeA")], hosts("z1", "z2"), ["anti", "fits"]),
    (pod({"foo": "", "bar": ""}),
     [pod(node="nodeA", anti=(term("zone", expr("foo", "Exists")), term("zone", expr("labelA", "Exists")))),
      pod(node="nodeB", anti=(term("zone", expr("bar", "Exists")), term("zone", expr("labelB", "Exists"))))],
     hosts("z1", "z2", "z3"), ["existing", "existing", "fits"]),
    (pod(required=(term("region", expr("foo", "Exists")), term("zone", expr("bar", "Exists")))),
     [pod({"foo": "", "bar": ""}, node="nodeA")], hosts("z1", "z1"), ["fits", "fits"]),
    (pod(required=(term("region", expr("foo", "Exists")), term("zone", expr("bar", "Exists")))),
     [pod({"foo": ""}, node="nodeA"), pod({"bar": ""}, node="nodeB")], hosts("z1", "z2"),
     ["affinity", "affinity"]),
], ids=["affinity-spans-the-domain", "first-of-a-group-goes-anywhere", "first-needs-the-topology-keys",
        "anti-affinity-spans-the-domain", "anti-affinity-other-region-fits", "anti-affinity-per-namespace",
        "existing-term-without-topology-key-skips", "existing-terms-each-block",
        "any-anti-term-blocks", "existing-term-needs-topology-key", "own-term-needs-topology-key",
        "existing-pods-on-two-nodes", "one-pod-matches-all-terms", "terms-met-by-different-pods-fail"])
def test_filter_over_several_nodes_as_upstream(incoming: Obj, existing: list[Obj], nodes: tuple[Obj, ...],
                                               outcomes: Any) -> None:
    assert filter_outcomes(incoming, table(*nodes, pods=tuple(existing))) == outcomes


def test_a_node_gets_only_the_first_failing_rule() -> None:
    incoming = pod({"app": "web"}, required=(term("zone", expr("app", "In", "db")),),
                   anti=(term("zone", expr("app", "In", "web")),))
    existing = (pod({"app": "web"}, node="nodeA", anti=(term("zone", expr("app", "In", "web")),)),
                pod({"app": "db"}, node="nodeB"), pod({"app": "web"}, node="nodeB"))
    assert filter_outcomes(incoming, table(*hosts("z1", "z2"), pods=existing)) == ["affinity", "anti"]


def test_without_a_namespace_lister_a_selector_adds_no_namespace() -> None:
    incoming = pod(SECURITY, required=(term("region", expr("service", "Exists"), namespaces=["named"],
                                            namespaceSelector={"matchLabels": {"team": "team1"}}),))
    nodes = table(NODE1, make_node("node2", labels={"region": "r2"}),
                  pods=(pod(SERVICE, node="node1", namespace="subteam1.team1"),
                        pod(SERVICE, node="node2", namespace="named")))
    assert filter_outcomes(incoming, nodes, InterPodAffinity()) == ["affinity", "fits"]
    assert filter_outcomes(incoming, nodes, plugin()) == ["fits", "fits"]


@pytest.mark.parametrize("keys, outcomes", [
    ({"matchLabelKeys": ["version"]}, ["fits", "anti"]),
    ({"mismatchLabelKeys": ["version"]}, ["anti", "fits"]),
    ({}, ["anti", "anti"]),
], ids=["match-label-keys", "mismatch-label-keys", "selector-alone"])
def test_label_keys_merge_the_pods_own_values(keys: Obj, outcomes: list[str]) -> None:
    incoming = pod({"app": "web", "version": "v2"},
                   anti=({"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "hostname", **keys},))
    existing = (pod({"app": "web", "version": "v1"}, node="nodeA"),
                pod({"app": "web", "version": "v2"}, node="nodeB"))
    assert filter_outcomes(incoming, table(*hosts("z1", "z1"), pods=existing)) == outcomes


def test_changed_pods_and_node_labels_are_read_again() -> None:
    guard = pod({"app": "guard"}, node="nodeA", anti=(term("zone", expr("app", "In", "web")),))
    nodes = table(*hosts("z1", "z2"), pods=(guard,))
    ipa = plugin()
    assert filter_outcomes(pod({"app": "web"}), nodes, ipa) == ["existing", "fits"]
    nodes.set_node(make_node("nodeB", labels={"zone": "z1", "hostname": "nodeB"}))
    assert filter_outcomes(pod({"app": "web"}), nodes, ipa) == ["existing", "existing"]
    relaxed = pod({"app": "guard"}, node="nodeA", anti=(term("zone", expr("app", "In", "db")),))
    nodes.add_pod({**relaxed, "metadata": {**relaxed["metadata"], "name": "existing-0"}})
    assert filter_outcomes(pod({"app": "web"}), nodes, ipa) == "skip"


S1, S2 = {"security": "S1"}, {"security": "S2"}
AZ1, AZ2 = {"az": "az1"}, {"az": "az2"}
STAY_WITH_S1 = {"preferred": ((5, term("region", expr("security", "In", "S1"))),)}
STAY_WITH_S2 = {"preferred": ((6, term("region", expr("security", "In", "S2"))),)}
MIXED_OPERATORS = {"preferred": (
    (8, term("region", expr("security", "NotIn", "S1"), expr("security", "In", "S2"))),
    (2, term("region", expr("security", "Exists"), expr("wrongkey", "DoesNotExist"))))}
HARD = {"required": (term("region", expr("security", "In", "S1", "value2")),
                     term("region", expr("security", "Exists"), expr("wrongkey", "DoesNotExist")))}
AWAY_FROM_S1 = {"avoided": ((5, term("az", expr("security", "In", "S1"))),)}
AWAY_FROM_S2 = {"avoided": ((5, term("az", expr("security", "In", "S2"))),)}
STAY_S1_AWAY_S2 = {"preferred": ((8, term("region", expr("security", "In", "S1"))),),
                   "avoided": ((5, term("az", expr("security", "In", "S2"))),)}
TEAM1 = {"namespaces": ["subteam2.team2"], "namespaceSelector": {"matchExpressions": [expr("team", "In", "team1")]}}
STAY_TEAM1 = {"preferred": ((5, term("region", expr("security", "In", "S1"), **TEAM1)),)}
AWAY_TEAM1 = {"avoided": ((5, term("region", expr("security", "In", "S1"), **TEAM1)),)}


def nodes_with(*node_labels: dict[str, str]) -> tuple[Obj, ...]:
    return tuple(make_node(f"node{i + 1}", labels=labels) for i, labels in enumerate(node_labels))


def scores(incoming: Obj, nodes: NodeTable, ipa: InterPodAffinity | None = None) -> Any:
    """Normalized scores of every node, "skip", or PreScore's failure."""
    ipa = ipa or plugin()
    state = CycleState()
    rows = np.arange(len(nodes))
    status = ipa.pre_score(state, incoming, nodes, rows)
    if not status.is_success():
        return "skip" if status.is_skip() else status
    return ipa.normalize_score(state, incoming, ipa.score(state, incoming, nodes, rows)).tolist()


def on(node: str, labels: dict[str, str] | None = None, namespace: str = "default", **terms: Any) -> Obj:
    return pod(labels, node=node, namespace=namespace, **terms)


@pytest.mark.parametrize("incoming, existing, nodes, expected", [
    (pod(S1), [], nodes_with(CHINA, INDIA, AZ1), "skip"),
    (pod(S1, **STAY_WITH_S1), [on("node1", S1), on("node2", S2), on("node3", S1)],
     nodes_with(CHINA, INDIA, AZ1), [100, 0, 0]),
    (pod(**STAY_WITH_S1), [on("node1", S1)], nodes_with(CHINA, CHINA_AZ1, INDIA), [100, 100, 0]),
    (pod(S1, **STAY_WITH_S2), [on("node1", S2), on("node1", S2), on("node2", S2), on("node3", S2),
                               on("node4", S2), on("node5", S2)],
     nodes_with(CHINA, INDIA, CHINA, CHINA, INDIA), [100, 0, 100, 100, 0]),
    (pod(S1, **MIXED_OPERATORS), [on("node1", S1), on("node2", S2), on("node3", S1)],
     nodes_with(CHINA, INDIA, AZ1), [20, 100, 0]),
    (pod(S2), [on("node1", S1, **STAY_WITH_S1), on("node2", S2, **STAY_WITH_S2)],
     nodes_with(CHINA, INDIA, AZ1), [0, 100, 0]),
    (pod(S1, namespace="subteam1.team1"), [on("node1", S1, **STAY_TEAM1), on("node2", S2, **STAY_WITH_S2)],
     nodes_with(CHINA, INDIA, AZ1), [100, 0, 0]),
    (pod(S1, namespace="subteam1.team1"), [on("node1", S1, **AWAY_TEAM1), on("node2", S2, **STAY_WITH_S2)],
     nodes_with(CHINA, INDIA, AZ1), [0, 100, 100]),
    (pod(S1), [on("node1", S1, **HARD), on("node2", S2, **HARD)], nodes_with(CHINA, INDIA, AZ1), [100, 100, 0]),
    (pod(S1, **AWAY_FROM_S1), [on("node1", S1), on("node2", S2)], nodes_with(AZ1, CHINA), [0, 100]),
    (pod(S1, **AWAY_FROM_S1), [on("node1", S1), on("node2", S1)], nodes_with(AZ1, CHINA), [0, 100]),
    (pod(S1, **AWAY_FROM_S1), [on("node1", S1), on("node1", S1), on("node2", S2)],
     nodes_with(AZ1, INDIA), [0, 100]),
    (pod(S2), [on("node1", S1, **AWAY_FROM_S2), on("node2", S2, **AWAY_FROM_S1)], nodes_with(AZ1, AZ2), [0, 100]),
    (pod(S1, **STAY_S1_AWAY_S2), [on("node1", S1), on("node2", S1)], nodes_with(CHINA, AZ1), [100, 0]),
    (pod(S1, **STAY_S1_AWAY_S2), [on("node1", S1), on("node1", S1), on("node2", S1), on("node3", S1),
                                  on("node3", S1), on("node4", S1), on("node5", S1)],
     nodes_with(CHINA_AZ1, INDIA, CHINA, CHINA, INDIA), [100, 0, 100, 100, 0]),
    (pod(S1, **STAY_S1_AWAY_S2), [on("node1", S1), on("node2", S2), on("node3", **STAY_S1_AWAY_S2),
                                  on("node4", **AWAY_FROM_S1)],
     nodes_with(CHINA, AZ1, INDIA, AZ2), [100, 0, 100, 0]),
    (pod(S1), [on("node1", S1), on("node2", **STAY_S1_AWAY_S2)], nodes_with(CHINA, CHINA), [0, 0]),
    (pod(S1, namespace="subteam1.team1", **STAY_TEAM1),
     [on("node1", S1, "subteam1.team1"), on("node1", S1, "subteam1.team1"), on("node1", S1, "subteam1.team2"),
      on("node2", S1, "subteam2.team1")], nodes_with(CHINA, INDIA), [100, 0]),
    (pod(S1, namespace="subteam1.team1", **STAY_TEAM1),
     [on("node1", S1, "subteam1.team1"), on("node1", S1, "subteam1.team1"), on("node1", S1, "subteam2.team2"),
      on("node2", S1, "subteam2.team1")], nodes_with(CHINA, INDIA), [100, 0]),
    (pod(S1, namespace="subteam1.team1", **AWAY_TEAM1),
     [on("node1", S1, "subteam1.team1"), on("node1", S1, "subteam1.team1"), on("node1", S1, "subteam1.team2"),
      on("node2", S1, "subteam2.team1")], nodes_with(CHINA, INDIA), [0, 100]),
    (pod(S2), [on("node1", S1, **STAY_S1_AWAY_S2), on("node2", S2, **STAY_WITH_S2)], nodes_with(CHINA, INDIA),
     [0, 100]),
    (pod(S2), [], (), "skip"),
], ids=["no-affinity-skips", "matching-pods-in-domain-win", "whole-domain-scores", "more-matches-score-higher",
        "mixed-operators", "symmetry-preferred", "symmetry-namespace-selector",
        "anti-symmetry-namespace-selector", "symmetry-required-hard-weight", "anti-affinity",
        "anti-affinity-without-topology-key", "anti-affinity-more-matches", "anti-affinity-symmetry",
        "affinity-and-anti-affinity", "together-in-region-apart-in-az", "all-four-directions",
        "partial-domain-with-affinity", "namespace-selector", "namespace-selector-and-names",
        "anti-namespace-selector", "existing-preferred-terms-count", "no-nodes"])
def test_score_as_upstream(incoming: Obj, existing: list[Obj], nodes: tuple[Obj, ...], expected: Any) -> None:
    assert scores(incoming, table(*nodes, pods=tuple(existing))) == expected


def test_ignoring_existing_pods_preferences_skips_a_pod_without_its_own() -> None:
    nodes = table(*nodes_with(CHINA, INDIA), pods=(on("node1", S1, **STAY_S1_AWAY_S2), on("node2", S2, **STAY_WITH_S2)))
    assert scores(pod(S2), nodes, plugin(ignore_preferred_terms_of_existing_pods=True)) == "skip"
    assert scores(pod(S2, **STAY_WITH_S2), nodes, plugin(ignore_preferred_terms_of_existing_pods=True)) == [0, 100]


HARD_TEAM1 = {"required": (term("region", expr("service", "In", "S1"), namespaces=["default", "subteam2.team2"],
                                namespaceSelector={"matchExpressions": [expr("team", "In", "team1")]}),)}


@pytest.mark.parametrize("weight, namespace, expected", [
    (1, "default", [100, 100, 0]),
    (0, "default", "skip"),
    (1, "subteam1.team2", "skip"),
    (1, "subteam1.team1", [100, 100, 0]),
    (1, "subteam2.team2", [100, 100, 0]),
], ids=["default-weight", "zero-weight", "no-matching-namespace", "matching-namespace-selector",
        "matching-namespaces"])
def test_existing_required_affinity_scores_with_hard_weight(weight: int, namespace: str, expected: Any) -> None:
    nodes = table(*nodes_with(CHINA, INDIA, AZ1), pods=(on("node1", **HARD_TEAM1), on("node2", **HARD_TEAM1)))
    got = scores(pod({"service": "S1"}, namespace=namespace), nodes, plugin(hard_pod_affinity_weight=weight))
    assert got == expected


def test_pre_score_fails_on_a_selector_that_does_not_parse() -> None:
    bad = {"preferred": ((8, term("region", expr("security", "In", "{{.bad-value.}}"))),)}
    status = scores(pod(**bad), table(*nodes_with(CHINA, CHINA)))
    assert status.code == Code.ERROR and 'Invalid value: "{{.bad-value.}}"' in status.message()


def test_normalize_scales_min_to_max_as_go_truncates() -> None:
    got = plugin().normalize_score(CycleState(), pod(), np.array([-5, 0, 1, 10], dtype=np.int64))
    assert got.tolist() == [0, 33, 40, 100]
    assert plugin().normalize_score(CycleState(), pod(), np.array([7, 7], dtype=np.int64)).tolist() == [0, 0]


@pytest.mark.parametrize("args, weight, ignore", [
    ({}, 1, False),
    ({"hardPodAffinityWeight": None}, 1, False),
    ({"hardPodAffinityWeight": 0, "ignorePreferredTermsOfExistingPods": True}, 0, True),
    ({"hardPodAffinityWeight": 100}, 100, False),
], ids=["defaults", "null-is-default", "set", "upper-bound"])
def test_from_args_defaults_as_upstream(args: Obj, weight: int, ignore: bool) -> None:
    built = InterPodAffinity.from_args(args)
    assert (built.hard_pod_affinity_weight, built.ignore_preferred_terms_of_existing_pods) == (weight, ignore)


@pytest.mark.parametrize("args, message", [
    ({"hardPodAffinityWeight": -1}, "hardPodAffinityWeight: Invalid value: -1: not in valid range [0, 100]"),
    ({"hardPodAffinityWeight": 101}, "hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]"),
    ({"hardPodAffinityWeight": "5"}, "json: cannot unmarshal string into Go struct field "
                                     "InterPodAffinityArgs.hardPodAffinityWeight of type int32"),
    ({"hardPodAffinityWeight": 2**31}, "json: cannot unmarshal number 2147483648 into Go struct field "
                                       "InterPodAffinityArgs.hardPodAffinityWeight of type int32"),
    ({"ignorePreferredTermsOfExistingPods": "yes"}, "json: cannot unmarshal string into Go struct field "
                                                    "InterPodAffinityArgs.ignorePreferredTermsOfExistingPods of type bool"),
    ({"hardPodAffinityWeigth": 1}, 'unknown field "hardPodAffinityWeigth"'),
], ids=["below-range", "above-range", "string", "beyond-int32", "not-a-bool", "unknown-field"])
def test_from_args_rejects_what_upstream_rejects(args: Obj, message: str) -> None:
    with pytest.raises(ArgsError, match=re.escape(message)):
        InterPodAffinity.from_args(args)
