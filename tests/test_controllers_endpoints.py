"""The EndpointSlice and Endpoints loops against a real in-process API server, with the
scheduler placing pods on simulated nodes that give them IPs and make them Ready."""

from __future__ import annotations

from typing import Any

from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from kubelite.machinery import errors
from tests.test_controllers_replicaset import NS, cluster, pod, replicaset  # noqa: F401
from tests.test_scheduler import eventually

Obj = dict[str, Any]
SLICES = "endpointslices.discovery.k8s.io"


def service(name: str, *, app: str = "web", ports: list[Obj] | None = None, **spec: Any) -> Obj:
    spec.setdefault("ports", [{"name": "http", "port": 80, "targetPort": 8080}]
                    if ports is None else ports)
    if not spec["ports"]:
        del spec["ports"]
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": app}, **spec}}


async def slices_of(client: Client, name: str) -> list[Obj]:
    items: list[Obj] = (await client.list(SLICES, namespace=NS,
                                          label_selector=f"kubernetes.io/service-name={name}"))["items"]
    return items


def endpoint_names(slices: list[Obj]) -> list[str]:
    return sorted(e["targetRef"]["name"] for s in slices for e in s.get("endpoints") or ())


def addresses(endpoints: Obj) -> list[Obj]:
    return [a for s in endpoints.get("subsets") or () for a in s.get("addresses") or ()]


async def endpoints_named(client: Client, name: str) -> Obj:
    """The Endpoints, or an empty one until the loop has written it."""
    try:
        return await client.get("endpoints", name, namespace=NS)
    except errors.NotFound:
        return {}


async def running_pods(client: Client, app: str = "web") -> dict[str, Obj]:
    items = (await client.list("pods", namespace=NS, label_selector=f"app={app}"))["items"]
    return {p["metadata"]["name"]: p for p in items if p["status"].get("podIP")}


async def test_a_service_of_three_ready_pods_has_one_slice_and_endpoints_of_three(
        client: Client, cluster: ControllerManager) -> None:
    svc = await client.create("services", service("web"), namespace=NS)
    await client.create("replicasets.apps", replicaset("web", 3), namespace=NS)

    async def three_ready() -> list[Obj]:
        slices = await slices_of(client, "web")
        ready = [e for s in slices for e in s.get("endpoints") or () if e["conditions"]["ready"]]
        return slices if len(ready) == 3 and len(slices) == 1 else []  # placeholder gone

    slices = await eventually(three_ready)
    assert len(slices) == 1
    (s,) = slices
    assert s["metadata"]["generateName"] == "web-"
    assert s["metadata"]["labels"] == {
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    assert s["metadata"]["ownerReferences"] == [{
        "apiVersion": "v1", "kind": "Service", "name": "web", "uid": svc["metadata"]["uid"],
        "controller": True, "blockOwnerDeletion": True}]
    assert s["addressType"] == "IPv4"
    assert s["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    pods = await running_pods(client)
    nodes = {n["metadata"]["name"]: n for n in (await client.list("nodes"))["items"]}
    for endpoint in s["endpoints"]:
        p = pods[endpoint["targetRef"]["name"]]
        assert endpoint == {
            "addresses": [p["status"]["podIP"]],
            "conditions": {"ready": True, "serving": True, "terminating": False},
            "nodeName": p["spec"]["nodeName"],
            "zone": nodes[p["spec"]["nodeName"]]["metadata"]["labels"][
                "topology.kubernetes.io/zone"],
            "targetRef": {"kind": "Pod", "namespace": NS, "name": p["metadata"]["name"],
                          "uid": p["metadata"]["uid"]}}

    async def endpoints_of_three() -> Obj | None:
        ep = await endpoints_named(client, "web")
        return ep if len(addresses(ep)) == 3 else None

    ep = await eventually(endpoints_of_three)
    (subset,) = ep["subsets"]
    assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert sorted(a["ip"] for a in subset["addresses"]) == sorted(
        p["status"]["podIP"] for p in pods.values())
    assert "endpoints.kubernetes.io/last-change-trigger-time" in ep["metadata"]["annotations"]
    assert "endpoints.kubernetes.io/over-capacity" not in ep["metadata"]["annotations"]


async def test_a_deleted_pod_leaves_the_slice_and_the_endpoints(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("services", service("web"), namespace=NS)
    for name in ("a", "b", "c"):
        await client.create("pods", pod(name), namespace=NS)

    async def slice_names(wanted: list[str]) -> bool:
        ep = await endpoints_named(client, "web")
        slices = await slices_of(client, "web")
        return (endpoint_names(slices) == wanted and len(slices) == 1
                and sorted(a["targetRef"]["name"] for a in addresses(ep)) == wanted)

    await eventually(lambda: slice_names(["a", "b", "c"]))
    await client.delete("pods", "b", namespace=NS)
    await eventually(lambda: slice_names(["a", "c"]))


async def test_a_named_target_port_resolves_per_pod(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("services", service(
        "web", ports=[{"name": "web", "port": 80, "targetPort": "http"}]), namespace=NS)
    named = pod("named")
    named["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8081}]
    await client.create("pods", named, namespace=NS)
    await client.create("pods", pod("unnamed"), namespace=NS)

    async def two_slices() -> list[Obj]:
        slices = await slices_of(client, "web")
        return slices if endpoint_names(slices) == ["named", "unnamed"] else []

    slices = await eventually(two_slices)
    by_pod = {s["endpoints"][0]["targetRef"]["name"]: s for s in slices}
    assert by_pod["named"]["ports"] == [{"name": "web", "port": 8081, "protocol": "TCP"}]
    assert not by_pod["unnamed"].get("ports")

    async def endpoints_of_named() -> Obj | None:
        ep = await endpoints_named(client, "web")
        return ep if addresses(ep) else None

    ep = await eventually(endpoints_of_named)
    (subset,) = ep["subsets"]
    assert [a["targetRef"]["name"] for a in subset["addresses"]] == ["named"]
    assert subset["ports"] == [{"name": "web", "port": 8081, "protocol": "TCP"}]


async def test_a_headless_service_without_ports_lists_its_pods(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("services", service("db", app="db", ports=[], clusterIP="None"),
                        namespace=NS)
    for name in ("db-0", "db-1"):
        await client.create("pods", pod(name, app="db"), namespace=NS)

    async def listed() -> tuple[list[Obj], Obj] | None:
        slices = await slices_of(client, "db")
        ep = await endpoints_named(client, "db")
        if endpoint_names(slices) == ["db-0", "db-1"] and len(addresses(ep)) == 2 \
                and len(slices) == 1:
            return slices, ep
        return None

    slices, ep = await eventually(listed)
    assert [s["metadata"]["labels"].get("service.kubernetes.io/headless") for s in slices] == [""]
    assert ep["metadata"]["labels"] == {"service.kubernetes.io/headless": ""}
    assert "ports" not in ep["subsets"][0]


async def test_a_service_selecting_nothing_keeps_one_empty_slice(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("services", service("idle", app="nobody"), namespace=NS)
    manual = service("manual")
    del manual["spec"]["selector"]
    await client.create("services", manual, namespace=NS)

    async def placeholder() -> list[Obj]:
        slices = await slices_of(client, "idle")
        return slices if len(slices) == 1 else []

    (s,) = await eventually(placeholder)
    assert not s.get("endpoints") and not s.get("ports")
    ep = await eventually(lambda: endpoints_named(client, "idle"))  # {} until written
    assert not ep.get("subsets")
    await cluster.wait_idle()
    assert await slices_of(client, "manual") == []


async def test_a_hundred_and_fifty_pods_fill_two_slices(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("services", service("web"), namespace=NS)
    await client.create("replicasets.apps", replicaset("web", 150), namespace=NS)

    async def all_listed() -> list[Obj]:
        slices = await slices_of(client, "web")
        ready = [e for s in slices for e in s.get("endpoints") or () if e["conditions"]["ready"]]
        return slices if len(ready) == 150 and len(slices) == 2 else []

    slices = await eventually(all_listed, timeout=60)
    assert sorted(len(s["endpoints"]) for s in slices) == [50, 100]
    assert len(set(endpoint_names(slices))) == 150

    async def endpoints_of_all() -> bool:
        return len(addresses(await endpoints_named(client, "web"))) == 150

    await eventually(endpoints_of_all, timeout=60)


async def test_not_ready_pods_are_listed_as_not_ready(
        client: Client, cluster: ControllerManager) -> None:
    await client.create("services", service("web"), namespace=NS)
    await client.create("services", service("all", publishNotReadyAddresses=True), namespace=NS)
    await client.create("pods", pod("a"), namespace=NS)
    # bound to a node no kubelet runs: its status is what this test writes
    gated = await client.create("pods", pod("gated", nodeName="ghost"), namespace=NS)
    gated["status"] = {"phase": "Running", "podIP": "10.9.9.9", "podIPs": [{"ip": "10.9.9.9"}],
                       "conditions": [{"type": "Ready", "status": "False"}]}
    await client.update_status("pods", gated, namespace=NS)

    async def listed(name: str) -> dict[str, bool]:
        slices = await slices_of(client, name)
        ready = {e["targetRef"]["name"]: e["conditions"]["ready"]
                 for s in slices for e in s.get("endpoints") or ()}
        return ready if len(ready) == 2 else {}

    assert await eventually(lambda: listed("web")) == {"a": True, "gated": False}
    assert await eventually(lambda: listed("all")) == {"a": True, "gated": True}

    async def endpoints_split() -> Obj | None:
        ep = await endpoints_named(client, "web")
        subsets = ep.get("subsets") or []
        return ep if subsets and subsets[0].get("notReadyAddresses") else None

    ep = await eventually(endpoints_split)
    (subset,) = ep["subsets"]
    assert [a["targetRef"]["name"] for a in subset["addresses"]] == ["a"]
    assert [a["targetRef"]["name"] for a in subset["notReadyAddresses"]] == ["gated"]
