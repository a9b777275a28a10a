"""Turning a Service's desired endpoints into EndpointSlice writes: at most 100 per
slice, grouped by port set, kept slices updated in place, a placeholder when empty."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.controllers.endpointslice_reconcile import Plan, new_slice, reconcile

Obj = dict[str, Any]
SERVICE = {"metadata": {"name": "web", "namespace": "default", "uid": "u1",
                        "labels": {"team": "a"}},
           "spec": {"selector": {"app": "web"}}}
HTTP = [{"name": "http", "port": 8080, "protocol": "TCP"}]
OTHER = [{"name": "http", "port": 9090, "protocol": "TCP"}]


def endpoint(i: int, ready: bool = True) -> Obj:
    return {"addresses": [f"10.0.{i // 250}.{i % 250}"],
            "conditions": {"ready": ready, "serving": ready, "terminating": False},
            "targetRef": {"kind": "Pod", "namespace": "default", "name": f"p{i}", "uid": f"u{i}"}}


def stored(name: str, ports: list[Obj], endpoints: list[Obj]) -> Obj:
    s = new_slice(SERVICE, "IPv4", ports, endpoints)
    s["metadata"]["name"] = name
    return s


def sizes(plan: Plan) -> tuple[list[int], list[int], list[str]]:
    return ([len(s["endpoints"]) for s in plan.create], [len(s["endpoints"]) for s in plan.update],
            [s["metadata"]["name"] for s in plan.delete])


@pytest.mark.parametrize("count, expected", [
    pytest.param(3, [3], id="three"),
    pytest.param(100, [100], id="exactly-one-full"),
    pytest.param(150, [100, 50], id="one-and-a-half"),
    pytest.param(201, [100, 100, 1], id="three-slices"),
])
def test_new_endpoints_are_cut_into_slices_of_a_hundred(count: int, expected: list[int]) -> None:
    plan = reconcile(SERVICE, "IPv4", [(HTTP, endpoint(i)) for i in range(count)], [])
    assert sizes(plan) == (expected, [], [])
    created = plan.create[0]
    assert created["metadata"]["labels"] == {
        "team": "a", "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    assert created["metadata"]["generateName"] == "web-"
    assert created["ports"] == HTTP


def test_an_unchanged_slice_is_not_written() -> None:
    current = stored("web-a", HTTP, [endpoint(i) for i in range(3)])
    assert sizes(reconcile(SERVICE, "IPv4", [(HTTP, endpoint(i)) for i in range(3)],
                           [current])) == ([], [], [])


def test_a_changed_endpoint_is_updated_in_its_slice() -> None:
    current = stored("web-a", HTTP, [endpoint(i) for i in range(3)])
    plan = reconcile(SERVICE, "IPv4", [(HTTP, endpoint(0)), (HTTP, endpoint(1, ready=False)),
                                       (HTTP, endpoint(2))], [current])
    assert sizes(plan) == ([], [3], [])
    assert plan.update[0]["metadata"]["name"] == "web-a"
    assert plan.update[0]["endpoints"][1]["conditions"]["ready"] is False


def test_new_endpoints_fill_a_slice_with_room_before_a_new_one() -> None:
    current = stored("web-a", HTTP, [endpoint(i) for i in range(90)])
    plan = reconcile(SERVICE, "IPv4", [(HTTP, endpoint(i)) for i in range(120)], [current])
    assert sizes(plan) == ([20], [100], [])


def test_removed_endpoints_leave_and_an_emptied_slice_is_deleted() -> None:
    full = stored("web-a", HTTP, [endpoint(i) for i in range(100)])
    rest = stored("web-b", HTTP, [endpoint(i) for i in range(100, 110)])
    plan = reconcile(SERVICE, "IPv4", [(HTTP, endpoint(i)) for i in range(50)], [full, rest])
    assert sizes(plan) == ([], [50], ["web-b"])


def test_an_emptied_slice_takes_new_endpoints_of_its_ports() -> None:
    placeholder = stored("web-p", [], [])
    plan = reconcile(SERVICE, "IPv4", [([], endpoint(0)), ([], endpoint(1))], [placeholder])
    assert sizes(plan) == ([], [2], [])
    assert plan.update[0]["metadata"]["name"] == "web-p"


def test_a_port_change_replaces_the_slices() -> None:
    current = stored("web-a", HTTP, [endpoint(i) for i in range(3)])
    plan = reconcile(SERVICE, "IPv4", [(OTHER, endpoint(i)) for i in range(3)], [current])
    assert sizes(plan) == ([3], [], ["web-a"])
    assert plan.create[0]["ports"] == OTHER


def test_pods_resolving_ports_differently_get_separate_slices() -> None:
    plan = reconcile(SERVICE, "IPv4", [(HTTP, endpoint(0)), (OTHER, endpoint(1)),
                                       ([], endpoint(2))], [])
    assert sorted(str(s["ports"]) for s in plan.create) == sorted([str(HTTP), str(OTHER), "[]"])


def test_no_endpoints_keep_one_placeholder_slice() -> None:
    plan = reconcile(SERVICE, "IPv4", [], [])
    assert sizes(plan) == ([0], [], [])
    assert plan.create[0]["ports"] == []
    placeholder = stored("web-p", [], [])
    used = stored("web-a", HTTP, [endpoint(0)])
    assert sizes(reconcile(SERVICE, "IPv4", [], [placeholder, used])) == ([], [], ["web-a"])


def test_labels_and_owner_are_put_right_on_a_kept_slice() -> None:
    current = stored("web-a", HTTP, [endpoint(0)])
    relabelled = copy.deepcopy(SERVICE)
    relabelled["metadata"]["labels"] = {"team": "b"}
    plan = reconcile(relabelled, "IPv4", [(HTTP, endpoint(0))], [current])
    assert sizes(plan) == ([], [1], [])
    assert plan.update[0]["metadata"]["labels"]["team"] == "b"


def test_a_headless_service_marks_its_slices() -> None:
    headless = copy.deepcopy(SERVICE)
    headless["spec"]["clusterIP"] = "None"
    plan = reconcile(headless, "IPv4", [([], endpoint(0))], [])
    assert plan.create[0]["metadata"]["labels"]["service.kubernetes.io/headless"] == ""
