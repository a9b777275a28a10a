"""The ownerReference graph's rules (upstream's graph_builder.go processGraphChanges):
which nodes exist, who depends on whom, and what each event queues for deletion or
orphaning, checked against upstream's outcomes in garbagecollector_test.go."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.gc_graph import Graph, Identity

Obj = dict[str, Any]


def cm(name: str, *owners: str, block: bool = False, finalizers: tuple[str, ...] = (),
       deleting: bool = False, namespace: str = "ns") -> Obj:
    meta: Obj = {"name": name, "uid": f"uid-{name}", "namespace": namespace,
                 "ownerReferences": [
                     {"apiVersion": "v1", "kind": "ConfigMap", "name": o, "uid": f"uid-{o}",
                      **({"blockOwnerDeletion": True} if block else {})} for o in owners]}
    if finalizers:
        meta["finalizers"] = list(finalizers)
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta}


class Recorder:
    def __init__(self) -> None:
        self.delete: list[str] = []
        self.orphan: list[str] = []
        self.graph = Graph(self.delete.append, self.orphan.append)

    def add(self, obj: Obj) -> None:
        self.graph.observe(obj, "v1", "ConfigMap")

    def gone(self, obj: Obj) -> None:
        self.graph.observe_deleted(obj, "v1", "ConfigMap")

    def dependents(self, name: str) -> set[str]:
        return {d.identity.name for d in self.graph.nodes[f"uid-{name}"].dependents}

    def drain(self) -> tuple[set[str], set[str]]:
        out = ({u.removeprefix("uid-") for u in self.delete},
               {u.removeprefix("uid-") for u in self.orphan})
        self.delete.clear()
        self.orphan.clear()
        return out


def test_an_owner_not_seen_yet_is_a_virtual_node_queued_for_a_live_check() -> None:
    r = Recorder()
    r.add(cm("child", "parent"))
    parent = r.graph.nodes["uid-parent"]
    assert not parent.observed and parent.identity == Identity(
        "v1", "ConfigMap", "parent", "uid-parent", "ns")
    assert r.dependents("parent") == {"child"}
    assert r.drain() == ({"parent"}, set())
    # the owner shows up: the same node, now observed, nothing queued
    r.add(cm("parent"))
    assert r.graph.nodes["uid-parent"] is parent and parent.observed
    assert r.drain() == (set(), set())


def test_a_confirmed_absent_virtual_owner_goes_and_its_dependents_are_queued() -> None:
    r = Recorder()
    r.add(cm("child", "parent"))
    r.drain()
    r.graph.virtual_delete(Identity("v1", "ConfigMap", "parent", "uid-parent", "ns"))
    assert "uid-parent" not in r.graph.nodes
    assert r.drain() == ({"child"}, set())
    assert r.graph.known_absent("uid-parent", "ns")


def test_a_virtual_delete_leaves_a_real_node_seen_under_other_coordinates() -> None:
    r = Recorder()
    r.add(cm("parent"))
    r.graph.virtual_delete(Identity("v1", "ConfigMap", "other-name", "uid-parent", "ns"))
    assert "uid-parent" in r.graph.nodes


def test_deleting_an_owner_queues_its_dependents() -> None:
    r = Recorder()
    r.add(cm("parent"))
    r.add(cm("a", "parent"))
    r.add(cm("b", "parent"))
    r.drain()
    r.gone(cm("parent"))
    assert r.drain() == ({"a", "b"}, set())
    assert "uid-parent" not in r.graph.nodes


@pytest.mark.parametrize("finalizers, queued", [
    pytest.param(("orphan",), (set(), {"parent"}), id="orphan-finalizer-orphans"),
    pytest.param(("foregroundDeletion",), ({"parent", "a"}, set()),
                 id="foreground-queues-owner-and-dependents"),
    pytest.param((), (set(), set()), id="background-waits-for-the-delete-event"),
    pytest.param(("orphan", "foregroundDeletion"), ({"parent", "a"}, {"parent"}), id="both"),
])
def test_an_owner_being_deleted_queues_by_its_finalizers(
        finalizers: tuple[str, ...], queued: tuple[set[str], set[str]]) -> None:
    r = Recorder()
    r.add(cm("parent"))
    r.add(cm("a", "parent"))
    r.drain()
    r.add(cm("parent", finalizers=finalizers, deleting=True))
    assert r.drain() == queued
    node = r.graph.nodes["uid-parent"]
    assert node.being_deleted
    assert node.deleting_dependents == ("foregroundDeletion" in finalizers)


def test_a_finalizer_without_deletion_timestamp_does_nothing() -> None:
    r = Recorder()
    r.add(cm("parent", finalizers=("foregroundDeletion", "orphan")))
    assert r.drain() == (set(), set())
    assert not r.graph.nodes["uid-parent"].deleting_dependents


@pytest.mark.parametrize("child, blocking", [
    pytest.param(cm("a", "parent", block=True), {"a"}, id="blockOwnerDeletion-blocks"),
    pytest.param(cm("a", "parent"), set(), id="plain-reference-does-not-block"),
])
def test_only_blocking_dependents_hold_a_foreground_owner(child: Obj, blocking: set[str]) -> None:
    r = Recorder()
    r.add(cm("parent"))
    r.add(child)
    assert {d.identity.name for d in r.graph.nodes["uid-parent"].blocking_dependents()} \
        == blocking


def test_a_foreground_owner_looks_again_when_a_dependent_goes_or_stops_blocking() -> None:
    r = Recorder()
    r.add(cm("parent"))
    r.add(cm("a", "parent", block=True))
    r.add(cm("b", "parent", block=True))
    r.add(cm("parent", finalizers=("foregroundDeletion",), deleting=True))
    r.drain()
    r.add(cm("a", "parent"))  # blockOwnerDeletion dropped
    assert r.drain() == ({"parent"}, set())
    r.gone(cm("b", "parent", block=True))
    assert r.drain() == ({"parent"}, set())
    assert r.graph.nodes["uid-parent"].blocking_dependents() == []


def test_a_new_dependent_of_a_foreground_owner_is_queued() -> None:
    r = Recorder()
    r.add(cm("parent", finalizers=("foregroundDeletion",), deleting=True))
    r.drain()
    r.add(cm("late", "parent", block=True))
    assert r.drain() == ({"late"}, set())


def test_a_removed_reference_leaves_the_owners_dependents() -> None:
    r = Recorder()
    r.add(cm("p1"))
    r.add(cm("p2"))
    r.add(cm("child", "p1", "p2"))
    r.add(cm("child", "p2"))
    assert (r.dependents("p1"), r.dependents("p2")) == (set(), {"child"})
    assert r.graph.nodes["uid-child"].owners[0]["uid"] == "uid-p2"


def test_a_virtual_node_seen_with_other_coordinates_requeues_its_dependents() -> None:
    r = Recorder()
    r.add(cm("child", "parent"))
    r.drain()
    real = cm("renamed")
    real["metadata"]["uid"] = "uid-parent"
    r.add(real)
    assert r.drain() == ({"child"}, set())
    assert r.graph.nodes["uid-parent"].identity.name == "renamed"


def test_the_absent_owner_cache_is_bounded() -> None:
    graph = Graph(lambda _uid: None, lambda _uid: None, absent_cache_size=2)
    for uid in ("a", "b", "c"):
        graph.mark_absent(uid, "ns")
    assert [graph.known_absent(u, "ns") for u in ("a", "b", "c")] == [False, True, True]


def test_an_object_without_uid_is_ignored() -> None:
    r = Recorder()
    r.graph.observe({"metadata": {"name": "x"}}, "v1", "ConfigMap")
    assert r.graph.nodes == {}
