"""InterPodAffinity against upstream's filtering_test.go and scoring_test.go cases (kubelite's
pods live in "default" where upstream's use the empty namespace)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kubelite.client.store import Indexer, Lister
from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import Code, CycleState, Status
from kubelite.scheduler.node_table import NodeTable
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
