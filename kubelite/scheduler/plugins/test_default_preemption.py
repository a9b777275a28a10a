"""DefaultPreemption through a whole cycle of the default profile: FitError, then PostFilter
over the node table. Cases are upstream's (default_preemption_test.go TestPostFilter,
TestDryRunPreemption, TestPodEligibleToPreemptOthers, TestValidateDefaultPreemptionArgs)
in node-table form: `Capacity(onePodRes)` is a node allowing one pod."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler.config_errors import ArgsError

from kubelite.client.store import Indexer, Lister
from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import Code
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.plugins.default_preemption import DefaultPreemption
from kubelite.scheduler.preemption import Candidate, PostFilterResult
from kubelite.scheduler.schedule_one import FitError, Profile, Scheduler

Obj = dict[str, Any]
NEG, LOW, MID, HIGH, VERY_HIGH = -100, 0, 100, 1000, 10000
SMALL = {"cpu": "100m", "memory": "100"}
MEDIUM = {"cpu": "200m", "memory": "200"}
LARGE = {"cpu": "300m", "memory": "300"}
VERY_LARGE = {"cpu": "500m", "memory": "500"}


def one_pod_node(name: str, **kw: Any) -> Obj:
    return make_node(name, pods="1", **kw)


def pdb(name: str, match: dict[str, str], allowed: int, disrupted: tuple[str, ...] = ()) -> Obj:
    return {"metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": match}},
            "status": {"disruptionsAllowed": allowed,
                       "disruptedPods": {p: "2026-01-01T00:00:00Z" for p in disrupted}}}


def plugin_with(pdbs: tuple[Obj, ...] = (), **args: Any) -> DefaultPreemption:
    plugin = DefaultPreemption.from_args(args)
    budgets = Indexer()
    for budget in pdbs:
        budgets.update(budget)
    plugin.use_listers({"poddisruptionbudgets": Lister(budgets)})
    return plugin


def fail(pod: Obj, nodes: NodeTable, pdbs: tuple[Obj, ...] = (), **args: Any) -> FitError:
    scheduler = Scheduler(Profile.default(DefaultPreemption=plugin_with(pdbs, **args)), seed=0)
    with pytest.raises(FitError) as caught:
        scheduler.schedule_one(pod, nodes)
    return caught.value


def names(pods: tuple[Obj, ...]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


POST_FILTER_CASES = [
    ("pod with higher priority can be made schedulable",
     make_pod(priority=HIGH), [one_pod_node("node1")], [make_pod("p1", node="node1")],
     "node1", ["p1"], ""),
    ("pod with tied priority is still unschedulable",
     make_pod(), [one_pod_node("node1")], [make_pod("p1", node="node1")],
     "", [], "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."),
    ("preemption should respect filteredNodesStatuses",
     make_pod(priority=HIGH, nodeSelector={"zone": "b"}),
     [one_pod_node("node1", labels={"zone": "a"})], [make_pod("p1", node="node1")],
     "", [], "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."),
    ("pod can be made schedulable on one node",
     make_pod(priority=MID), [one_pod_node("node1"), one_pod_node("node2")],
     [make_pod("p1", node="node1", priority=HIGH), make_pod("p2", node="node2", priority=LOW)],
     "node2", ["p2"], ""),
    ("no candidate nodes found, no enough resource after removing low priority pods",
     make_pod(priority=HIGH, requests=[LARGE]),
     [make_node("node1", cpu="200m", memory="400"), make_node("node2", cpu="200m", memory="400")],
     [make_pod("p1", node="node1"), make_pod("p2", node="node2")],
     "", [], "preemption: 0/2 nodes are available: 2 Insufficient cpu."),
    ("no candidate nodes found with mixed reasons, no lower priority pod and no enough CPU resource",
     make_pod(priority=HIGH, requests=[LARGE]),
     [one_pod_node("node1"), make_node("node2", cpu="200m", memory="400"), one_pod_node("node3")],
     [make_pod("p1", node="node1", priority=HIGH), make_pod("p2", node="node2"),
      make_pod("p3", node="node3", priority=HIGH)],
     "", [], "preemption: 0/3 nodes are available: 1 Insufficient cpu, "
             "2 No preemption victims found for incoming pod."),
    ("no candidate nodes found with mixed reason, 2 UnschedulableAndUnresolvable nodes and 2 nodes "
     "don't have enough CPU resource",
     make_pod(priority=HIGH, requests=[LARGE], nodeSelector={"pool": "small"}),
     [make_node(f"node{i}", cpu="200m", memory="400", labels={"pool": "small" if i < 3 else "big"})
      for i in (1, 2, 3, 4)],
     [make_pod("p1", node="node1"), make_pod("p2", node="node2")],
     "", [], "preemption: 0/4 nodes are available: 2 Insufficient cpu, "
             "2 Preemption is not helpful for scheduling."),
]


@pytest.mark.parametrize("case, pod, nodes, pods, node, victims, message", POST_FILTER_CASES,
                         ids=[c[0].replace(" ", "-") for c in POST_FILTER_CASES])
def test_post_filter_as_upstream(case: str, pod: Obj, nodes: list[Obj], pods: list[Obj],
                                 node: str, victims: list[str], message: str) -> None:
    nodes_table = table(*nodes, pods=tuple(pods), keep_names=True)
    counted = {name: nodes_table.pods_on(name) for name in nodes_table.names}
    requested = nodes_table.requested[:len(nodes_table)].copy()
    error = fail(pod, nodes_table)
    assert error.post_filter is not None
    assert (error.post_filter.nominated_node, names(error.post_filter.victims)) == (node, victims)
    assert error.post_filter_message == message
    if message:
        assert str(error).endswith(f". {message}")
    # the dry run put every pod back where it was
    assert {name: nodes_table.pods_on(name) for name in nodes_table.names} == counted
    assert (nodes_table.requested[:len(nodes_table)] == requested).all()


def test_min_highest_priority_node_wins_between_equal_pdb_violations() -> None:
    # upstream's "pod can be made schedulable on minHighestPriority node"
    key = "test.kubernetes.io/is-violating-pdb"
    nodes = table(one_pod_node("node1"), one_pod_node("node2"), keep_names=True, pods=(
        make_pod("p1", node="node1", priority=HIGH, labels={key: "non-violating"}),
        make_pod("p2", node="node1", priority=LOW, labels={key: "violating"}),
        make_pod("p3", node="node2", priority=MID, labels={key: "violating"})))
    budgets = (pdb("violating-pdb", {key: "violating"}, 0),
               pdb("non-violating-pdb", {key: "non-violating"}, 2**31 - 1))
    error = fail(make_pod(priority=VERY_HIGH), nodes, budgets)
    assert error.post_filter == PostFilterResult("node2", (nodes.pod("default/p3"),))


def dry_run(pod: Obj, nodes: NodeTable, pdbs: tuple[Obj, ...] = (), **args: Any) -> list[Candidate]:
    plugin = plugin_with(pdbs, **args)
    scheduler = Scheduler(Profile.default(DefaultPreemption=plugin), seed=0)
    with pytest.raises(FitError) as caught:
        scheduler.schedule_one({**pod, "spec": {**pod["spec"], "preemptionPolicy": "Never"}}, nodes)
    assert caught.value.diagnosis is not None
    candidates, _ = plugin.evaluator.find_candidates(
        pod, nodes, caught.value.diagnosis, scheduler, [p for p in pdbs])
    return candidates


def same_pdb_node(*extra: str) -> NodeTable:
    pods = [make_pod(f"p1.{i}", node="node1", labels={"app": "foo"}, priority=MID, requests=[MEDIUM])
            for i in range(1, 3 + len(extra))]
    return table(make_node("node1", cpu="500m", memory="500"), pods=tuple(pods), keep_names=True)


@pytest.mark.parametrize("pods, disrupted, victims, violations", [
    (2, (), ["p1.1", "p1.2"], 1),
    (2, ("p2",), ["p1.1", "p1.2"], 1),
    (2, ("p1.2",), ["p1.1", "p1.2"], 0),
    (3, ("p1.3",), ["p1.1", "p1.2", "p1.3"], 1),
], ids=["violation-of-same-pdb", "disrupted-pod-is-another", "victim-in-disrupted-pods",
        "disrupted-victim-is-non-violating"])
def test_dry_run_counts_pdb_violations_as_upstream(pods: int, disrupted: tuple[str, ...],
                                                   victims: list[str], violations: int) -> None:
    nodes = same_pdb_node(*(["x"] * (pods - 2)))
    budget = pdb("foo", {"app": "foo"}, 1, disrupted)
    [candidate] = dry_run(make_pod(priority=HIGH, requests=[VERY_LARGE]), nodes, (budget,))
    assert (candidate.node, names(candidate.victims), candidate.pdb_violations) == (
        "node1", victims, violations)


def test_dry_run_finds_a_candidate_on_each_node_a_victim_frees() -> None:
    # upstream's "a pod that fits on both nodes when lower priority pods are preempted"
    nodes = table(*(make_node(n, cpu="500m", memory="500") for n in ("node1", "node2")), pods=(
        make_pod("p1", node="node1", priority=MID, requests=[LARGE]),
        make_pod("p2", node="node2", priority=MID, requests=[LARGE])), keep_names=True)
    candidates = dry_run(make_pod(priority=HIGH, requests=[LARGE]), nodes)
    assert sorted((c.node, names(c.victims)) for c in candidates) == [
        ("node1", ["p1"]), ("node2", ["p2"])]


def test_reprieves_the_most_important_victims_first() -> None:
    # 300m needed, 100m free: the mid pod is reprieved first, then neither low pod fits back
    nodes = table(make_node("node1", cpu="500m", memory="1Gi"), keep_names=True, pods=(
        make_pod("low-old", node="node1", priority=LOW, requests=[SMALL],
                 status={"startTime": "2026-01-01T00:00:00Z"}),
        make_pod("low-new", node="node1", priority=LOW, requests=[SMALL],
                 status={"startTime": "2026-01-02T00:00:00Z"}),
        make_pod("mid", node="node1", priority=MID, requests=[MEDIUM])))
    [candidate] = dry_run(make_pod(priority=HIGH, requests=[LARGE]), nodes)
    assert names(candidate.victims) == ["low-old", "low-new"]
    nodes2 = table(make_node("node1", cpu="400m", memory="1Gi"), keep_names=True, pods=(
        make_pod("low-old", node="node1", priority=LOW, requests=[SMALL],
                 status={"startTime": "2026-01-01T00:00:00Z"}),
        make_pod("low-new", node="node1", priority=LOW, requests=[SMALL],
                 status={"startTime": "2026-01-02T00:00:00Z"}),
        make_pod("mid", node="node1", priority=MID, requests=[MEDIUM])))
    # 100m needed, nothing free: the mid pod and the older low pod are reprieved, the newer goes
    [candidate] = dry_run(make_pod(priority=HIGH, requests=[SMALL]), nodes2)
    assert names(candidate.victims) == ["low-new"]


def terminating_victim(node: str) -> Obj:
    victim = make_pod("victim", node=node, priority=LOW, status={"conditions": [
        {"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}]})
    victim["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return victim


@pytest.mark.parametrize("pod, nominated_elsewhere, message", [
    (make_pod(priority=HIGH, preemptionPolicy="Never"), False,
     "preemption: not eligible due to preemptionPolicy=Never."),
    (make_pod(priority=HIGH, status={"nominatedNodeName": "node1"}), False,
     "preemption: not eligible due to a terminating pod on the nominated node."),
    (make_pod(priority=HIGH, status={"nominatedNodeName": "node1"}, nodeSelector={"zone": "b"}),
     True, "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
           "1 Preemption is not helpful for scheduling."),
], ids=["preemption-policy-never", "terminating-victim-on-nominated-node",
        "nominated-node-now-unresolvable"])
def test_eligibility_to_preempt_as_upstream(pod: Obj, nominated_elsewhere: bool,
                                            message: str) -> None:
    nodes = table(one_pod_node("node1", labels={"zone": "a"}),
                  one_pod_node("node2", labels={"zone": "b"}),
                  pods=(terminating_victim("node1"), make_pod("peer", node="node2", priority=HIGH)),
                  keep_names=True)
    error = fail(pod, nodes)
    assert error.post_filter_message == message
    # not eligible: the nomination is left as it is; no help: it is cleared
    assert error.post_filter == (PostFilterResult("") if nominated_elsewhere else None)


@pytest.mark.parametrize("args, message", [
    ({}, ""),
    ({"minCandidateNodesPercentage": 50, "minCandidateNodesAbsolute": 500}, ""),
    ({"minCandidateNodesPercentage": -1},
     "minCandidateNodesPercentage: Invalid value: -1: not in valid range [0, 100]"),
    ({"minCandidateNodesPercentage": 900},
     "minCandidateNodesPercentage: Invalid value: 900: not in valid range [0, 100]"),
    ({"minCandidateNodesAbsolute": -1},
     "minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)"),
    ({"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0},
     "[minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as "
     "minCandidateNodesAbsolute, minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at "
     "the same time as minCandidateNodesPercentage]"),
    ({"minCandidateNodesPercentage": -1, "minCandidateNodesAbsolute": -2},
     "[minCandidateNodesPercentage: Invalid value: -1: not in valid range [0, 100], "
     "minCandidateNodesAbsolute: Invalid value: -2: not in valid range [0, inf)]"),
], ids=["defaults", "valid", "negative-percentage", "percentage-over-100", "negative-absolute",
        "all-zero", "both-negative"])
def test_args_are_validated_as_upstream(args: Obj, message: str) -> None:
    if not message:
        plugin = DefaultPreemption.from_args(args)
        assert plugin.evaluator.min_candidate_nodes_percentage == args.get(
            "minCandidateNodesPercentage", 10)
        return
    with pytest.raises(ArgsError) as caught:
        DefaultPreemption.from_args(args)
    assert str(caught.value) == message


@pytest.mark.parametrize("num_nodes, percentage, absolute, expected", [
    (0, 10, 100, 0), (50, 10, 100, 50), (1000, 10, 100, 100), (5000, 10, 100, 500),
    (5, 40, 1, 2), (10, 40, 1, 4), (50, 0, 20, 20), (50, 100, 0, 50),
], ids=["no-nodes", "fewer-than-absolute", "absolute-wins", "percentage-wins",
        "small-percentage", "percentage-of-ten", "percentage-zero", "all-nodes"])
def test_num_candidates_as_upstream(num_nodes: int, percentage: int, absolute: int,
                                    expected: int) -> None:
    plugin = DefaultPreemption(min_candidate_nodes_percentage=percentage,
                               min_candidate_nodes_absolute=absolute)
    assert plugin.evaluator.num_candidates(num_nodes) == expected


def test_status_code_of_a_pod_that_cannot_preempt_is_unschedulable() -> None:
    nodes = table(one_pod_node("node1"), pods=(make_pod("p1", node="node1"),), keep_names=True)
    error = fail(make_pod(priority=HIGH, preemptionPolicy="Never"), nodes)
    assert error.diagnosis is not None
    assert error.diagnosis.codes().tolist() == [Code.UNSCHEDULABLE]


AGREEMENT_CASES = [
    (make_pod(priority=HIGH, requests=[VERY_LARGE]), same_pdb_node("x"),
     (pdb("foo", {"app": "foo"}, 1, ("p1.3",)),)),
    (make_pod(priority=HIGH, requests=[SMALL]), table(
        make_node("node1", cpu="400m", memory="1Gi"), make_node("node2", cpu="300m", memory="1Gi"),
        make_node("node3", cpu="1", memory="1Gi", pods="2"), keep_names=True, pods=(
            make_pod("a", node="node1", priority=LOW, requests=[SMALL]),
            make_pod("b", node="node1", priority=MID, requests=[LARGE]),
            make_pod("c", node="node2", priority=NEG, requests=[MEDIUM]),
            make_pod("d", node="node2", priority=VERY_HIGH, requests=[SMALL]),
            make_pod("e", node="node3", priority=LOW), make_pod("f", node="node3", priority=MID))),
     ()),
    (make_pod(priority=MID, requests=[LARGE]), table(
        *(make_node(f"node{i}", cpu="500m", memory="1Gi") for i in range(1, 6)), keep_names=True,
        pods=tuple(make_pod(f"p{i}", node=f"node{i}", priority=LOW if i % 2 else HIGH,
                            requests=[LARGE], labels={"app": "foo"}) for i in range(1, 6))),
     (pdb("foo", {"app": "foo"}, 1),)),
]


@pytest.mark.parametrize("pod, nodes, pdbs", AGREEMENT_CASES,
                         ids=["pdb-disrupted-pods", "mixed-priorities-and-pod-counts",
                              "budget-spread-over-nodes"])
def test_dry_run_by_columns_and_by_table_agree(pod: Obj, nodes: NodeTable,
                                               pdbs: tuple[Obj, ...]) -> None:
    from kubelite.scheduler import dry_run
    from kubelite.scheduler.queued_pod import pod_priority

    scheduler = Scheduler(Profile.default(DefaultPreemption=plugin_with(pdbs)), seed=0)
    never = {**pod, "spec": {**pod["spec"], "preemptionPolicy": "Never"}}
    with pytest.raises(FitError) as caught:
        scheduler.schedule_one(never, nodes)
    assert caught.value.diagnosis is not None
    index = dry_run.PodIndex()
    index.refresh(nodes)
    lower = index.below(pod_priority(pod), len(nodes))
    rows = [r for r in range(len(nodes)) if lower.counts[r]]
    before = nodes.requested[:len(nodes)].copy()
    by_columns = dry_run.by_columns(pod, nodes, rows, lower, len(rows), scheduler, list(pdbs))
    assert (nodes.requested[:len(nodes)] == before).all()
    by_table = dry_run.by_table(pod, nodes, rows, lower, len(rows), scheduler, list(pdbs),
                                screen=True)
    assert (nodes.requested[:len(nodes)] == before).all()
    assert by_columns == by_table
    assert by_columns[0]  # each case has at least one candidate


def test_a_pod_with_host_ports_evicts_the_pod_holding_its_port() -> None:
    # NodePorts depends on the victims: the dry run takes pods out of the table itself
    port = [{"containerPort": 80, "hostPort": 8080}]

    def with_port(name: str, **kw: Any) -> Obj:
        p = make_pod(name, **kw)
        p["spec"]["containers"][0]["ports"] = port
        return p

    nodes = table(make_node("node1"), keep_names=True, pods=(
        with_port("web", node="node1", priority=LOW), make_pod("other", node="node1", priority=LOW)))
    error = fail(with_port("urgent", priority=HIGH), nodes)
    assert error.post_filter is not None
    assert (error.post_filter.nominated_node, names(error.post_filter.victims)) == ("node1", ["web"])
    assert nodes.pods_on("node1") == {"default/web", "default/other"}


def test_lower_priority_pods_nominated_to_the_chosen_node_lose_their_nomination() -> None:
    from kubelite.scheduler.nominator import Nominator

    nodes = table(one_pod_node("node1"), pods=(make_pod("p1", node="node1"),), keep_names=True)
    scheduler = Scheduler(Profile.default(DefaultPreemption=plugin_with()), seed=0)
    scheduler.nominator = Nominator()
    waiting = make_pod("waiting", priority=MID)
    senior = make_pod("senior", priority=VERY_HIGH, requests=[SMALL])
    scheduler.nominator.add(waiting, "node1")
    scheduler.nominator.add(senior, "elsewhere")
    with pytest.raises(FitError) as caught:
        scheduler.schedule_one(make_pod(priority=HIGH), nodes)
    assert caught.value.post_filter == PostFilterResult(
        "node1", (nodes.pod("default/p1"),), (waiting,))
