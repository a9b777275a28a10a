import numpy as np
import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.node_table import CPU, MEMORY, POD_JOURNAL, PODS, NodeTable


def test_assume_and_forget_pod_move_its_requests() -> None:
    nodes = table(make_node("a"), make_node("b"))
    pod = make_pod(requests=[{"cpu": "1500m", "memory": "1Gi"}])
    nodes.assume_pod(pod, "b")
    row = nodes.row_of["b"]
    assert nodes.requested[row, CPU] == 1500 and nodes.requested[row, MEMORY] == 2**30
    assert nodes.requested[row, PODS] == 1
    nodes.forget_pod("default/p")
    assert not nodes.requested[: len(nodes)].any()


def test_pod_bound_before_its_node_counts_when_node_appears() -> None:
    nodes = NodeTable()
    nodes.add_pod(make_pod(requests=[{"cpu": "1"}], node="late"))
    nodes.set_node(make_node("late"))
    assert nodes.requested[nodes.row_of["late"], CPU] == 1000


def test_remove_node_keeps_other_rows_and_label_columns_consistent() -> None:
    nodes = table(*(make_node(f"n{i}", labels={"i": str(i)}) for i in range(5)))
    assert list(nodes.label("i")) == ["0", "1", "2", "3", "4"]
    nodes.remove_node("n1")
    assert sorted(nodes.names) == ["n0", "n2", "n3", "n4"]
    assert [nodes.label("i")[nodes.row_of[n]] for n in ("n0", "n2", "n3", "n4")] == ["0", "2", "3", "4"]
    nodes.set_node(make_node("n2", labels={"i": "two"}))
    assert nodes.label("i")[nodes.row_of["n2"]] == "two"


def test_table_grows_past_its_capacity() -> None:
    nodes = table(*(make_node(f"n{i}", cpu=str(i + 1)) for i in range(40)))
    assert np.array_equal(nodes.allocatable[: len(nodes), CPU], np.arange(1, 41) * 1000)


def test_malformed_quantity_is_rejected_before_any_change() -> None:
    nodes = table(make_node("a"))
    with pytest.raises(ValueError):
        nodes.set_node(make_node("b", cpu="lots"))
    assert nodes.names == ["a"]


def test_counted_pods_are_listed_by_row_and_affinity_users_are_tracked() -> None:
    nodes = table(make_node("a"), make_node("b"))
    plain = make_pod(name="plain", node="a")
    anti = make_pod(name="anti", node="b")
    anti["spec"]["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {}}]}}
    before = nodes.pods_version
    nodes.add_pod(plain)
    nodes.add_pod(anti)
    assert nodes.pods_version == before + 2
    assert sorted((nodes.names[row], pod["metadata"]["name"]) for row, pod in nodes.assigned_pods()) == [
        ("a", "plain"), ("b", "anti")]
    assert [p["metadata"]["name"] for p in nodes.pods_on_row(nodes.row_of["b"])] == ["anti"]
    assert nodes.with_affinity == nodes.with_required_anti_affinity == {"default/anti"}
    nodes.remove_pod("default/anti")
    assert not nodes.with_affinity and not nodes.with_required_anti_affinity
    assert nodes.pod("default/anti") is None and nodes.pod("default/plain") is plain
    assert list(nodes.keys_in(["default", "other"])) == ["default/plain"]


def test_pods_of_a_missing_node_are_kept_but_not_listed() -> None:
    nodes = table(make_node("a"))
    nodes.add_pod(make_pod(name="early", node="later"))
    assert list(nodes.assigned_pods()) == []
    version = nodes.nodes_version
    nodes.set_node(make_node("later"))
    assert nodes.nodes_version == version + 1
    assert [(nodes.names[r], p["metadata"]["name"]) for r, p in nodes.assigned_pods()] == [("later", "early")]


def test_pod_changes_are_journalled_until_the_journal_is_outgrown() -> None:
    nodes = NodeTable()
    nodes.set_node({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "1", "pods": "10"}}})
    start = nodes.pods_version
    first = {"metadata": {"name": "a", "namespace": "ns"}, "spec": {"nodeName": "n"}}
    nodes.add_pod(first)
    replaced = {**first, "status": {"phase": "Running"}}
    nodes.add_pod(replaced)
    nodes.remove_pod("ns/a")
    assert nodes.pod_changes_since(start) == [
        (None, first), (first, None), (None, replaced), (replaced, None)]
    assert nodes.pod_changes_since(nodes.pods_version) == []
    assert nodes.pod_changes_since(nodes.pods_version + 1) is None  # from a future table
    for _ in range(POD_JOURNAL):
        nodes.add_pod(first)
    assert nodes.pod_changes_since(start) is None  # too far behind: count afresh


@pytest.mark.parametrize("change, cpu", [
    pytest.param(lambda pod: {**pod, "status": {"phase": "Running"}}, 1500, id="status-only"),
    pytest.param(lambda pod: {**pod, "metadata": {**pod["metadata"], "labels": {"a": "b"}}}, 1500,
                 id="labels-only"),
    pytest.param(lambda pod: make_pod(requests=[{"cpu": "2"}], node="b"), 2000, id="new-requests"),
    pytest.param(lambda pod: make_pod(requests=[{"cpu": "1500m"}], node="a"), 0, id="other-node"),
])
def test_a_new_version_of_a_counted_pod_is_counted_once_as_it_is_now(change, cpu) -> None:
    # The informer's bound pod confirming an assumption, or any later version of it.
    nodes = table(make_node("a"), make_node("b"))
    assumed = make_pod(requests=[{"cpu": "1500m"}])
    nodes.assume_pod(assumed, "b")
    version = nodes.pods_version
    confirmed = change(nodes.pod("default/p"))
    nodes.add_pod(confirmed)
    assert nodes.requested[nodes.row_of["b"], CPU] == cpu
    assert nodes.requested[: len(nodes), PODS].sum() == 1
    assert nodes.pod("default/p") is confirmed
    changes = nodes.pod_changes_since(version)
    assert changes is not None and [(old is None, new) for old, new in changes] == [
        (False, None), (True, confirmed)]
