import numpy as np
import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.node_table import CPU, MEMORY, PODS, NodeTable


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
