"""The EndpointSlice mirroring loop against a real in-process API server: custom
Endpoints of selectorless Services mirrored into EndpointSlices, and the slices removed
when the Endpoints, the Service or the Service's selectorlessness goes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.controllers.endpointslicemirroring import EndpointSliceMirroringLoop
from tests.loops import run_loops
from tests.test_scheduler import eventually

Obj = dict[str, Any]
NS = "default"
SLICES = "endpointslices.discovery.k8s.io"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
LIMIT = 5  # addresses mirrored per subset in these tests (upstream's default is 1000)


@pytest.fixture
async def mirroring(client: Client) -> AsyncIterator[EndpointSliceMirroringLoop]:
    async with run_loops(client, lambda ctx: EndpointSliceMirroringLoop(
            ctx, max_per_subset=LIMIT)) as (loop,):
        yield loop


def selectorless_service(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"ports": [{"name": "http", "port": 80}]}}


def custom_endpoints(name: str, *subsets: Obj, labels: Obj | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "labels": labels or {"team": "db"},
                         "annotations": {"note": "hand-written"}},
            "subsets": list(subsets)}


async def mirrored(client: Client, name: str) -> list[Obj]:
    items: list[Obj] = (await client.list(
        SLICES, namespace=NS, label_selector=f"kubernetes.io/service-name={name},"
        f"{MANAGED_BY}=endpointslicemirroring-controller.k8s.io"))["items"]
    return items


def addresses(slices: list[Obj]) -> dict[str, bool]:
    return {e["addresses"][0]: e["conditions"]["ready"] for s in slices for e in s["endpoints"]}


async def test_custom_endpoints_are_mirrored_and_follow_their_changes(
        client: Client, mirroring: EndpointSliceMirroringLoop) -> None:
    await client.create("services", selectorless_service("ext"), namespace=NS)
    endpoints = await client.create("endpoints", custom_endpoints("ext", {
        "addresses": [{"ip": "192.168.0.10", "nodeName": "n1"}, {"ip": "192.168.0.11"}],
        "notReadyAddresses": [{"ip": "192.168.0.12"}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}), namespace=NS)

    async def three() -> list[Obj]:
        slices = await mirrored(client, "ext")
        return slices if len(addresses(slices)) == 3 else []

    (first,) = await eventually(three)
    assert first["metadata"]["labels"] == {
        "team": "db", "kubernetes.io/service-name": "ext",
        MANAGED_BY: "endpointslicemirroring-controller.k8s.io"}
    assert first["metadata"]["annotations"] == {"note": "hand-written"}
    assert first["metadata"]["generateName"] == "ext-"
    assert first["metadata"]["ownerReferences"] == [{
        "apiVersion": "v1", "kind": "Endpoints", "name": "ext",
        "uid": endpoints["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    assert first["addressType"] == "IPv4"
    assert first["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert addresses([first]) == {"192.168.0.10": True, "192.168.0.11": True,
                                  "192.168.0.12": False}
    assert {"addresses": ["192.168.0.10"], "conditions": {"ready": True},
            "nodeName": "n1"} in first["endpoints"]

    endpoints["subsets"] = [{"addresses": [{"ip": "192.168.0.11"}, {"ip": "192.168.0.13"}],
                             "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]
    await client.update("endpoints", endpoints, namespace=NS)

    async def changed() -> list[Obj]:
        slices = await mirrored(client, "ext")
        return slices if addresses(slices) == {"192.168.0.11": True, "192.168.0.13": True} else []

    (second,) = await eventually(changed)
    assert second["metadata"]["name"] == first["metadata"]["name"]  # updated in place

    await client.delete("endpoints", "ext", namespace=NS)
    await eventually(lambda: _none_mirrored(client, "ext"))


async def _none_mirrored(client: Client, name: str) -> bool:
    return not await mirrored(client, name)


async def test_slices_go_when_the_service_gets_a_selector_or_goes(
        client: Client, mirroring: EndpointSliceMirroringLoop) -> None:
    subset = {"addresses": [{"ip": "10.9.0.1"}], "ports": [{"port": 5432}]}
    await client.create("endpoints", custom_endpoints("db", subset), namespace=NS)
    await client.create("endpoints", custom_endpoints("cache", subset), namespace=NS)
    # mirrored once a Service without a selector exists
    await client.create("services", selectorless_service("db"), namespace=NS)
    await client.create("services", selectorless_service("cache"), namespace=NS)
    await eventually(lambda: mirrored(client, "db"))
    await eventually(lambda: mirrored(client, "cache"))
    assert await mirrored(client, "db") and await mirrored(client, "cache")

    service = await client.get("services", "db", namespace=NS)
    service["spec"]["selector"] = {"app": "db"}
    await client.update("services", service, namespace=NS)
    await client.delete("services", "cache", namespace=NS)
    await eventually(lambda: _none_mirrored(client, "db"))
    await eventually(lambda: _none_mirrored(client, "cache"))


async def test_skip_mirror_endpoints_are_left_out_and_cleaned_up(
        client: Client, mirroring: EndpointSliceMirroringLoop) -> None:
    await client.create("services", selectorless_service("ext"), namespace=NS)
    endpoints = await client.create("endpoints", custom_endpoints(
        "ext", {"addresses": [{"ip": "10.9.0.1"}], "ports": [{"port": 80}]}), namespace=NS)
    await eventually(lambda: mirrored(client, "ext"))
    endpoints["metadata"]["labels"]["endpointslice.kubernetes.io/skip-mirror"] = "true"
    await client.update("endpoints", endpoints, namespace=NS)
    await eventually(lambda: _none_mirrored(client, "ext"))
    # the `kubernetes` Service's Endpoints carry skip-mirror: the API server writes its slice
    assert not await mirrored(client, "kubernetes")


async def test_a_subset_over_the_limit_is_cut_with_a_warning_and_families_split(
        client: Client, mirroring: EndpointSliceMirroringLoop) -> None:
    await client.create("services", selectorless_service("big"), namespace=NS)
    await client.create("endpoints", custom_endpoints("big", {
        "addresses": [{"ip": f"10.8.0.{i}"} for i in range(1, 9)],
        "ports": [{"name": "http", "port": 80}]}, {
        "addresses": [{"ip": "fd00::1"}], "ports": [{"name": "http", "port": 80}]}), namespace=NS)

    async def both_families() -> list[Obj]:
        slices = await mirrored(client, "big")
        return slices if {s["addressType"] for s in slices} == {"IPv4", "IPv6"} else []

    slices = await eventually(both_families)
    by_type = {s["addressType"]: s for s in slices}
    assert len(by_type["IPv4"]["endpoints"]) == LIMIT
    assert [e["addresses"] for e in by_type["IPv6"]["endpoints"]] == [["fd00::1"]]

    async def warned() -> list[Obj]:
        events = (await client.list("events", namespace=NS))["items"]
        return [e for e in events if e["reason"] == "TooManyAddressesToMirror"]

    (event, *_) = await eventually(warned)
    assert event["type"] == "Warning"
    assert event["involvedObject"]["kind"] == "Endpoints"
    assert event["message"] == ("A max of 5 addresses can be mirrored to EndpointSlices per "
                                "Endpoints subset. 3 addresses were skipped")
    assert event["source"]["component"] == "endpoint-slice-mirroring-controller"
