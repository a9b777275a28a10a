from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler.events import (
    ASSIGNED_POD_DELETE,
    DEFAULT_PLUGIN_EVENTS,
    NODE_ADD,
    UNSCHEDULABLE_TIMEOUT,
    ActionType,
    ClusterEvent,
    Resource,
    node_update_action,
    pod_update_action,
)

Obj = dict[str, Any]
A = ActionType


def test_update_covers_every_update_bit_and_nothing_else() -> None:
    bits = [a for a in ActionType if a.name and a.name.startswith("UPDATE_")
            and a not in (A.UPDATE,)]
    combined = A(0)
    for bit in bits:
        combined |= bit
    assert combined == A.UPDATE
    assert not A.UPDATE & (A.ADD | A.DELETE)


@pytest.mark.parametrize(("registered", "incoming", "matches"), [
    (ClusterEvent(Resource.NODE, A.ADD | A.UPDATE_NODE_LABEL), NODE_ADD, True),
    (ClusterEvent(Resource.NODE, A.UPDATE), ClusterEvent(Resource.NODE, A.UPDATE_NODE_TAINT), True),
    (ClusterEvent(Resource.NODE, A.UPDATE_NODE_LABEL),
     ClusterEvent(Resource.NODE, A.UPDATE_NODE_TAINT), False),
    (ClusterEvent(Resource.NODE, A.ALL), ASSIGNED_POD_DELETE, False),
    (ClusterEvent(Resource.WILDCARD, A.ALL), ASSIGNED_POD_DELETE, True),
    (ClusterEvent(Resource.POD, A.DELETE), UNSCHEDULABLE_TIMEOUT, True),
], ids=["add-in-set", "update-covers-each-update", "other-update-bit", "other-resource",
        "registered-wildcard", "incoming-wildcard"])
def test_registered_event_matches_same_resource_and_intersecting_action(
        registered: ClusterEvent, incoming: ClusterEvent, matches: bool) -> None:
    assert registered.matches(incoming) is matches


NODE: Obj = {
    "metadata": {"name": "n1", "labels": {"zone": "a"}, "annotations": {"x": "1"},
                 "resourceVersion": "5"},
    "spec": {"taints": []},
    "status": {"allocatable": {"cpu": "4"},
               "conditions": [{"type": "Ready", "status": "True",
                               "lastHeartbeatTime": "2026-01-01T00:00:00Z"}]},
}


def changed(obj: Obj, section: str, **fields: Any) -> Obj:
    return {**obj, section: {**obj[section], **fields}}


@pytest.mark.parametrize(("new", "action"), [
    (changed(NODE, "metadata", resourceVersion="6"), A(0)),
    (changed(NODE, "status", conditions=[{"type": "Ready", "status": "True",
                                          "lastHeartbeatTime": "2026-01-01T00:00:10Z"}]), A(0)),
    (changed(NODE, "status", allocatable={"cpu": "8"}), A.UPDATE_NODE_ALLOCATABLE),
    (changed(NODE, "metadata", labels={"zone": "b"}), A.UPDATE_NODE_LABEL),
    (changed(NODE, "spec", taints=[{"key": "k", "effect": "NoSchedule"}]), A.UPDATE_NODE_TAINT),
    (changed(NODE, "spec", unschedulable=True), A.UPDATE_NODE_TAINT),
    (changed(NODE, "status", conditions=[{"type": "Ready", "status": "False"}]),
     A.UPDATE_NODE_CONDITION),
    (changed(NODE, "metadata", annotations={}), A.UPDATE_NODE_ANNOTATION),
    (changed(changed(NODE, "metadata", labels={}), "status", allocatable={}),
     A.UPDATE_NODE_LABEL | A.UPDATE_NODE_ALLOCATABLE),
], ids=["resource-version-only", "heartbeat-only", "allocatable", "labels", "taints",
        "cordoned", "condition-status", "annotations", "labels-and-allocatable"])
def test_node_update_names_only_scheduling_relevant_changes(new: Obj, action: A) -> None:
    assert node_update_action(NODE, new) == action


def pod(cpu: str = "1", **spec: Any) -> Obj:
    return {"metadata": {"name": "p", "labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}],
                     **spec}}


@pytest.mark.parametrize(("old", "new", "action"), [
    (pod(), {**pod(), "metadata": {"name": "p", "labels": {}}}, A.UPDATE_POD_LABEL),
    (pod("1"), pod("500m"), A.UPDATE_POD_SCALE_DOWN),
    (pod("1"), pod("2"), A.UPDATE_POD_OTHER),
    (pod(), pod(tolerations=[{"key": "k"}]), A.UPDATE_POD_TOLERATIONS),
    (pod(schedulingGates=[{"name": "g"}]), pod(schedulingGates=[]),
     A.UPDATE_POD_SCHEDULING_GATES_ELIMINATED),
    (pod("1"), pod("not-a-quantity"), A.UPDATE_POD_OTHER),
    (pod(), pod(), A.UPDATE_POD_OTHER),
], ids=["labels", "scale-down", "scale-up", "tolerations", "gates-removed",
        "bad-quantity-ignored", "no-scheduling-change"])
def test_pod_update_action(old: Obj, new: Obj, action: A) -> None:
    assert pod_update_action(old, new) == action


@pytest.mark.parametrize("incoming, wakes", [
    (ClusterEvent(Resource.PERSISTENT_VOLUME_CLAIM, A.ADD), True),
    (ClusterEvent(Resource.PERSISTENT_VOLUME_CLAIM, A.UPDATE), True),
    (ClusterEvent(Resource.PERSISTENT_VOLUME, A.UPDATE), True),
    (ClusterEvent(Resource.STORAGE_CLASS, A.ADD), True),
    (ClusterEvent(Resource.CSI_NODE, A.UPDATE), True),
    (NODE_ADD, True),
    (ClusterEvent(Resource.NODE, A.UPDATE_NODE_LABEL), True),
    (ClusterEvent(Resource.NODE, A.UPDATE_NODE_ALLOCATABLE), False),
    (ClusterEvent(Resource.PERSISTENT_VOLUME_CLAIM, A.DELETE), False),
    (ASSIGNED_POD_DELETE, False),
], ids=["claim-added", "claim-updated", "volume-updated", "class-added", "csinode-updated", "node-added",
        "node-relabelled", "node-allocatable", "claim-deleted", "pod-deleted"])
def test_volume_binding_registers_upstreams_events(incoming: ClusterEvent, wakes: bool) -> None:
    assert any(r.matches(incoming) for r in DEFAULT_PLUGIN_EVENTS["VolumeBinding"]) == wakes
