"""From a custom Endpoints to the endpoints, ports and metadata its mirrored
EndpointSlices carry, as upstream's endpointslicemirroring reconciler computes them."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.endpointslice_reconcile import reconcile_slices
from kubelite.controllers.endpointslicemirroring_rules import (
    address_identity, address_type_and_ip, desired_endpoints, should_mirror, slice_owner,
    slice_ports)

Obj = dict[str, Any]


def endpoints(*subsets: Obj, labels: Obj | None = None, annotations: Obj | None = None) -> Obj:
    metadata: Obj = {"name": "ext", "namespace": "default", "uid": "e1"}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": metadata, "subsets": list(subsets)}


def ips(n: int, base: str = "10.1") -> list[Obj]:
    return [{"ip": f"{base}.{i // 250}.{i % 250 + 1}"} for i in range(n)]


@pytest.mark.parametrize("labels, annotations, expected", [
    pytest.param(None, None, True, id="plain"),
    pytest.param({"endpointslice.kubernetes.io/skip-mirror": "true"}, None, False, id="skip-mirror"),
    pytest.param({"endpointslice.kubernetes.io/skip-mirror": "false"}, None, True,
                 id="skip-mirror-false"),
    pytest.param(None, {"control-plane.alpha.kubernetes.io/leader": "{}"}, False,
                 id="leader-election-lock"),
])
def test_which_endpoints_are_mirrored(labels: Obj | None, annotations: Obj | None,
                                      expected: bool) -> None:
    assert should_mirror(endpoints(labels=labels, annotations=annotations)) is expected


@pytest.mark.parametrize("ip, expected", [
    pytest.param("10.0.0.1", ("IPv4", "10.0.0.1"), id="ipv4"),
    pytest.param("2001:DB8::1", ("IPv6", "2001:db8::1"), id="ipv6-lowercased"),
    pytest.param("::ffff:10.0.0.2", ("IPv4", "10.0.0.2"), id="ipv4-mapped"),
    pytest.param("example.com", None, id="hostname"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="missing"),
])
def test_an_address_type_is_its_ip_family(ip: object, expected: tuple[str, str] | None) -> None:
    assert address_type_and_ip(ip) == expected


def test_ports_get_upstream_defaults() -> None:
    assert slice_ports([{"port": 80}, {"name": "dns", "port": 53, "protocol": "UDP",
                                       "appProtocol": "dns"}]) == [
        {"name": "", "port": 80, "protocol": "TCP"},
        {"name": "dns", "port": 53, "protocol": "UDP", "appProtocol": "dns"}]


def test_ready_and_not_ready_addresses_become_conditions() -> None:
    ref = {"kind": "Pod", "name": "p", "namespace": "default"}
    desired = desired_endpoints(endpoints({
        "addresses": [{"ip": "10.0.0.1", "hostname": "h", "nodeName": "n1", "targetRef": ref}],
        "notReadyAddresses": [{"ip": "10.0.0.2"}],
        "ports": [{"name": "http", "port": 80}]}))
    assert (desired.invalid, desired.skipped) == (0, 0)
    ports = [{"name": "http", "port": 80, "protocol": "TCP"}]
    assert desired.by_type == {"IPv4": [
        (ports, {"addresses": ["10.0.0.1"], "conditions": {"ready": True}, "hostname": "h",
                 "nodeName": "n1", "targetRef": ref}),
        (ports, {"addresses": ["10.0.0.2"], "conditions": {"ready": False}})]}


def test_both_families_in_one_subset_split_by_address_type() -> None:
    desired = desired_endpoints(endpoints({"addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
                                           "ports": [{"port": 80}]}))
    assert sorted(desired.by_type) == ["IPv4", "IPv6"]


@pytest.mark.parametrize("ready, not_ready, invalid, limit, mirrored, skipped", [
    pytest.param(3, 0, 0, 1000, 3, 0, id="under"),
    pytest.param(1000, 0, 0, 1000, 1000, 0, id="exactly-at-limit"),
    pytest.param(1000, 5, 0, 1000, 1000, 5, id="not-ready-over-limit"),
    pytest.param(1200, 0, 0, 1000, 1000, 200, id="ready-over-limit"),
    pytest.param(2, 0, 2, 1000, 2, 2, id="invalid-skipped"),
    pytest.param(4, 2, 0, 5, 5, 1, id="small-limit"),
])
def test_at_most_the_limit_is_mirrored_per_subset(ready: int, not_ready: int, invalid: int,
                                                   limit: int, mirrored: int, skipped: int) -> None:
    subset = {"addresses": [*ips(ready), *({"ip": f"bad-{i}"} for i in range(invalid))],
              "notReadyAddresses": ips(not_ready, base="10.2"), "ports": [{"port": 80}]}
    desired = desired_endpoints(endpoints(subset, subset), max_per_subset=limit)
    assert len(desired.by_type["IPv4"]) == 2 * mirrored  # the limit counts per subset
    assert (desired.invalid, desired.skipped) == (2 * invalid, 2 * skipped)


def test_slices_carry_the_endpoints_labels_and_annotations_but_trigger_time() -> None:
    owner = slice_owner(endpoints(
        labels={"team": "a", "kubernetes.io/service-name": "other"},
        annotations={"note": "x", "endpoints.kubernetes.io/last-change-trigger-time": "t",
                     "kubectl.kubernetes.io/last-applied-configuration": "{}"}))
    assert owner.labels == {
        "team": "a", "kubernetes.io/service-name": "ext",
        "endpointslice.kubernetes.io/managed-by": "endpointslicemirroring-controller.k8s.io"}
    assert owner.annotations == {"note": "x"}
    assert owner.owner == {"apiVersion": "v1", "kind": "Endpoints", "name": "ext", "uid": "e1",
                           "controller": True, "blockOwnerDeletion": True}
    assert owner.generate_name == "ext-"


def test_a_subset_is_one_slice_updated_in_place_with_its_metadata() -> None:
    before = endpoints({"addresses": ips(3), "ports": [{"port": 80}]})
    owner = slice_owner(before)
    (created,) = reconcile_slices(owner, "IPv4", desired_endpoints(before).by_type["IPv4"], [],
                                  max_per_slice=1000, identity=address_identity).create
    created["metadata"]["name"] = "ext-abcde"
    assert "annotations" not in created["metadata"]
    assert created["ports"] == [{"name": "", "port": 80, "protocol": "TCP"}]

    unchanged = reconcile_slices(owner, "IPv4", desired_endpoints(before).by_type["IPv4"],
                                 [created], max_per_slice=1000, identity=address_identity)
    assert (unchanged.create, unchanged.update, unchanged.delete) == ([], [], [])

    after = endpoints({"addresses": ips(2), "ports": [{"port": 80}]}, annotations={"note": "y"})
    plan = reconcile_slices(slice_owner(after), "IPv4", desired_endpoints(after).by_type["IPv4"],
                            [created], max_per_slice=1000, identity=address_identity)
    (updated,) = plan.update
    assert (plan.create, plan.delete) == ([], [])
    assert updated["metadata"]["name"] == "ext-abcde"
    assert updated["metadata"]["annotations"] == {"note": "y"}
    assert [e["addresses"] for e in updated["endpoints"]] == [["10.1.0.1"], ["10.1.0.2"]]


def test_endpoints_sharing_a_target_ref_are_kept_apart_by_address() -> None:
    ref = {"kind": "Node", "name": "gateway"}
    subset = {"addresses": [{"ip": "10.0.0.1", "targetRef": ref}, {"ip": "10.0.0.2", "targetRef": ref}],
              "ports": [{"port": 80}]}
    desired = desired_endpoints(endpoints(subset)).by_type["IPv4"]
    (created,) = reconcile_slices(slice_owner(endpoints(subset)), "IPv4", desired, [],
                                  identity=address_identity).create
    assert len(created["endpoints"]) == 2
