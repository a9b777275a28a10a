"""The node lifecycle's taints and the taint eviction's timing, against upstream's
cases (node_lifecycle_controller_test.go TestTaintsNodeByCondition,
taint_eviction_test.go TestGetMinTolerationTime and the tolerance tables)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.node_taints import (
    NO_EXECUTE_MANAGED, NO_SCHEDULE_MANAGED, eviction_delay, no_execute_taints,
    no_schedule_taints, reconciled_taints)

Obj = dict[str, Any]
NR, UR = "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"


def node(conditions: dict[str, str], unschedulable: bool = False) -> Obj:
    return {"spec": {"unschedulable": unschedulable},
            "status": {"conditions": [{"type": t, "status": s} for t, s in conditions.items()]}}


@pytest.mark.parametrize(("conditions", "unschedulable", "expected"), [
    ({"Ready": "True"}, False, set()),
    ({"Ready": "False"}, False, {(NR, "NoSchedule")}),
    ({"Ready": "Unknown"}, False, {(UR, "NoSchedule")}),
    ({"Ready": "True", "MemoryPressure": "True", "DiskPressure": "True", "PIDPressure": "True",
      "NetworkUnavailable": "True"}, False,
     {("node.kubernetes.io/memory-pressure", "NoSchedule"),
      ("node.kubernetes.io/disk-pressure", "NoSchedule"),
      ("node.kubernetes.io/pid-pressure", "NoSchedule"),
      ("node.kubernetes.io/network-unavailable", "NoSchedule")}),
    ({"Ready": "True", "MemoryPressure": "False"}, True,
     {("node.kubernetes.io/unschedulable", "NoSchedule")}),
], ids=["ready", "not-ready", "unknown", "pressures", "unschedulable"])
def test_no_schedule_taints_follow_conditions_and_spec(conditions: dict[str, str],
                                                       unschedulable: bool,
                                                       expected: set[tuple[str, str]]) -> None:
    assert no_schedule_taints(node(conditions, unschedulable)) == expected


@pytest.mark.parametrize(("ready", "expected"), [
    ("True", set()), ("False", {(NR, "NoExecute")}), ("Unknown", {(UR, "NoExecute")}),
    (None, set()),
], ids=["ready", "not-ready", "unknown", "no-condition"])
def test_no_execute_taint_follows_the_ready_condition(ready: str | None,
                                                      expected: set[tuple[str, str]]) -> None:
    assert no_execute_taints(node({} if ready is None else {"Ready": ready})) == expected


def test_reconciling_swaps_managed_taints_and_keeps_others() -> None:
    current = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
               {"key": NR, "effect": "NoExecute", "timeAdded": "t0"}]
    got = reconciled_taints(current, {(UR, "NoExecute")}, NO_EXECUTE_MANAGED, "t1")
    assert got == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
                   {"key": UR, "effect": "NoExecute", "timeAdded": "t1"}]


def test_reconciling_keeps_a_wanted_taint_as_it_is() -> None:
    current = [{"key": UR, "effect": "NoSchedule", "timeAdded": "t0"}]
    assert reconciled_taints(current, {(UR, "NoSchedule")}, NO_SCHEDULE_MANAGED, "t1") is None


def test_reconciling_leaves_the_other_effect_alone() -> None:
    current = [{"key": UR, "effect": "NoExecute", "timeAdded": "t0"}]
    assert reconciled_taints(current, set(), NO_SCHEDULE_MANAGED, "t1") is None
    assert reconciled_taints(current, set(), NO_EXECUTE_MANAGED, "t1") == []


TAINTS = [{"key": UR, "effect": "NoExecute"}, {"key": NR, "effect": "NoExecute"}]


def toleration(key: str, seconds: int | None = None) -> Obj:
    t: Obj = {"key": key, "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        t["tolerationSeconds"] = seconds
    return t


@pytest.mark.parametrize(("taints", "tolerations", "expected"), [
    ([], [], None),
    (TAINTS[:1], [], 0.0),
    (TAINTS[:1], [toleration(UR, 300)], 300.0),
    (TAINTS, [toleration(UR, 300), toleration(NR, 5)], 5.0),
    (TAINTS, [toleration(UR, 300)], 0.0),
    (TAINTS[:1], [toleration(UR)], None),
    (TAINTS, [toleration(UR), toleration(NR, 20)], 20.0),
    (TAINTS[:1], [toleration(UR, -5)], 0.0),
    (TAINTS, [{"operator": "Exists"}], None),
    (TAINTS[:1], [{"key": UR, "operator": "Exists", "effect": "NoSchedule"}], 0.0),
], ids=["no-taints", "untolerated", "tolerated-300s", "smallest-wins", "one-untolerated",
        "forever", "forever-and-20s", "negative-is-now", "tolerate-everything",
        "wrong-effect"])
def test_eviction_delay_is_the_smallest_used_toleration(taints: list[Obj],
                                                        tolerations: list[Obj],
                                                        expected: float | None) -> None:
    assert eviction_delay(taints, tolerations) == expected
