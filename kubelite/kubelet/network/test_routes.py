"""Host-gw routes between nodes: planned from Node objects (pure), applied between two
"nodes" in test network namespaces joined by a veth "wire" (root only)."""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

import pytest

from kubelite.client import Client, Informer
from kubelite.kubelet import cri
from kubelite.kubelet.network import links
from kubelite.kubelet.network.bridge import BridgeNetwork
from kubelite.kubelet.network.netns import call_in_netns
from kubelite.kubelet.network.routes import (
    NodePodNetwork,
    NodeRouteController,
    NodeRoutes,
    RoutePlan,
    RouteSyncError,
    node_pod_network,
    plan_node_routes,
)
from kubelite.kubelet.network.testing import Namespaces, dial, listen, port_of

CONFIG = cri.PodSandboxConfig(metadata=cri.PodSandboxMetadata("web", "default", "uid-1"))


def _node(name: str, cidr: str, ip: str) -> NodePodNetwork:
    return NodePodNetwork(name, IPv4Network(cidr), IPv4Address(ip))


N1 = _node("node-1", "10.42.1.0/24", "192.168.7.1")
N2 = _node("node-2", "10.42.2.0/24", "192.168.7.2")
N3 = _node("node-3", "10.42.3.0/24", "192.168.7.3")



def _r(cidr: str, ip: str) -> tuple[IPv4Network, IPv4Address]:
    return IPv4Network(cidr), IPv4Address(ip)


@pytest.mark.parametrize(("nodes", "current", "add", "delete"), [
    ((N1, N2, N3), {}, [_r("10.42.2.0/24", "192.168.7.2"), _r("10.42.3.0/24", "192.168.7.3")],
     []),
    ((N1, N2), dict([_r("10.42.2.0/24", "192.168.7.2")]), [], []),
    ((N1, N2), dict([_r("10.42.2.0/24", "192.168.7.2"), _r("10.42.3.0/24", "192.168.7.3")]),
     [], ["10.42.3.0/24"]),
    ((N1, _node("node-2", "10.42.2.0/24", "192.168.7.22")),
     dict([_r("10.42.2.0/24", "192.168.7.2")]), [_r("10.42.2.0/24", "192.168.7.22")], []),
    ((N1,), dict([_r("10.42.2.0/24", "192.168.7.2")]), [], ["10.42.2.0/24"]),
    ((N2,), {}, [_r("10.42.2.0/24", "192.168.7.2")], []),
    ((N1, _node("node-x", "10.42.1.0/25", "192.168.7.9")), {}, [], []),
    ((N1, _node("node-b", "10.42.5.0/24", "192.168.7.5"),
      _node("node-a", "10.42.5.0/24", "192.168.7.4")), {},
     [_r("10.42.5.0/24", "192.168.7.4")], []),
    ((N1, _node("node-y", "10.42.6.0/24", "10.42.2.9"), N2), {},
     [_r("10.42.2.0/24", "192.168.7.2")], []),
], ids=["routes-to-every-other-node", "in-place-is-kept", "stale-node-is-deleted",
        "moved-node-is-replaced", "last-other-node-gone", "own-node-not-listed-yet",
        "overlapping-own-podcidr-skipped", "duplicate-podcidr-first-by-name",
        "gateway-inside-a-podcidr-skipped"])
def test_plan_node_routes(nodes: tuple[NodePodNetwork, ...],
                          current: dict[IPv4Network, IPv4Address],
                          add: list[tuple[IPv4Network, IPv4Address]],
                          delete: list[str]) -> None:
    plan = plan_node_routes("node-1", nodes, current)
    assert plan == RoutePlan(add=dict(add), delete=tuple(IPv4Network(d) for d in delete))


OTHER_CLUSTER = dict([_r("10.99.2.0/24", "192.168.7.50")])


@pytest.mark.parametrize(("nodes", "current", "add", "delete"), [
    ((N1, N2), OTHER_CLUSTER, [_r("10.42.2.0/24", "192.168.7.2")], []),
    ((N1,), {**OTHER_CLUSTER, **dict([_r("10.42.2.0/24", "192.168.7.2")])}, [],
     ["10.42.2.0/24"]),
    ((N1, N2, _node("stray", "10.99.3.0/24", "192.168.7.51")), {},
     [_r("10.42.2.0/24", "192.168.7.2")], []),
], ids=["another-clusters-route-is-kept", "only-own-stale-route-is-deleted",
        "node-outside-the-cluster-cidr-gets-none"])
def test_plan_node_routes_within_the_cluster_cidr(
        nodes: tuple[NodePodNetwork, ...], current: dict[IPv4Network, IPv4Address],
        add: list[tuple[IPv4Network, IPv4Address]], delete: list[str]) -> None:
    """Two clusters' nodes sharing one namespace each keep to their cluster CIDR."""
    plan = plan_node_routes("node-1", nodes, current, IPv4Network("10.42.0.0/16"))
    assert plan == RoutePlan(add=dict(add), delete=tuple(IPv4Network(d) for d in delete))


def test_an_empty_plan_says_so() -> None:
    assert plan_node_routes("node-1", (N1,), {}).is_empty


def _node_obj(name: str = "node-2", spec: dict[str, Any] | None = None,
              addresses: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"podCIDR": "10.42.2.0/24"} if spec is None else spec,
            "status": {"addresses": [{"type": "InternalIP", "address": "192.168.7.2"}]
                       if addresses is None else addresses}}


@pytest.mark.parametrize(("obj", "expected"), [
    (_node_obj(), N2),
    (_node_obj(spec={"podCIDRs": ["fd00:42:2::/64", "10.42.2.0/24"],
                     "podCIDR": "fd00:42:2::/64"}), N2),
    (_node_obj(addresses=[{"type": "Hostname", "address": "node-2"},
                          {"type": "InternalIP", "address": "fd00::2"},
                          {"type": "ExternalIP", "address": "203.0.113.2"},
                          {"type": "InternalIP", "address": "192.168.7.2"}]), N2),
    (_node_obj(spec={}), None),
    (_node_obj(spec={"podCIDR": "10.42.2.1/24"}), None),
    (_node_obj(addresses=[]), None),
    (_node_obj(addresses=[{"type": "InternalIP", "address": "not-an-ip"}]), None),
    ({"metadata": {}, "spec": {"podCIDR": "10.42.2.0/24"}}, None),
], ids=["podcidr", "dual-stack-podcidrs", "first-ipv4-internal-ip", "no-podcidr",
        "malformed-podcidr", "no-addresses", "malformed-address", "no-name"])
def test_node_pod_network_from_a_node(obj: dict[str, Any],
                                      expected: NodePodNetwork | None) -> None:
    assert node_pod_network(obj) == expected


# --- two nodes on one wire, each in a test network namespace (root only) ---------------

WIRE = "wire"


@dataclass
class TwoNodes:
    nodes: dict[str, str]  # node name -> its network namespace
    networks: dict[str, BridgeNetwork]
    listed: tuple[NodePodNetwork, ...]


async def _two_nodes(namespaces: Namespaces, tmp_path: Path) -> TwoNodes:
    """node-1 (192.168.77.1, podCIDR 10.42.1.0/24) and node-2 (192.168.77.2,
    10.42.2.0/24), joined by a veth pair named "wire" in both, each with its own
    BridgeNetwork."""
    n1, n2 = namespaces.make("node-1"), namespaces.make("node-2")
    namespaces.record_links(n1, WIRE, "kubelite0")
    namespaces.record_links(n2, WIRE, "kubelite0")

    def lay_wire() -> None:
        fd = os.open(n2, os.O_RDONLY)
        try:
            with links.rtnl() as ipr:
                ipr.link("add", ifname=WIRE, kind="veth", peer={"ifname": WIRE, "net_ns_fd": fd})
        finally:
            os.close(fd)

    def address_wire(address: str) -> None:
        with links.rtnl() as ipr:
            index = links.link_index(ipr, WIRE) or 0
            links.ensure_only_address(ipr, index, IPv4Interface(address))
            links.set_up(ipr, index)

    await call_in_netns(n1, lay_wire)
    await call_in_netns(n1, lambda: address_wire("192.168.77.1/24"))
    await call_in_netns(n2, lambda: address_wire("192.168.77.2/24"))
    networks = {}
    for name, path, cidr in (("node-1", n1, "10.42.1.0/24"), ("node-2", n2, "10.42.2.0/24")):
        networks[name] = BridgeNetwork(data_dir=str(tmp_path / name), node_netns=path)
        await networks[name].set_pod_cidr(cidr)
    listed = (_node("node-1", "10.42.1.0/24", "192.168.77.1"),
              _node("node-2", "10.42.2.0/24", "192.168.77.2"))
    return TwoNodes({"node-1": n1, "node-2": n2}, networks, listed)


async def test_pods_on_two_nodes_reach_each_other_through_node_routes(
        namespaces: Namespaces, tmp_path: Path) -> None:
    cluster = await _two_nodes(namespaces, tmp_path)
    pod_1, pod_2 = namespaces.make("pod-1"), namespaces.make("pod-2")
    ip_1 = (await cluster.networks["node-1"].setup("sandbox-1", pod_1, CONFIG)).ips[0]
    ip_2 = (await cluster.networks["node-2"].setup("sandbox-2", pod_2, CONFIG)).ips[0]
    assert (ip_1, ip_2) == ("10.42.1.2", "10.42.2.2")

    for name, path in cluster.nodes.items():
        plan = await NodeRoutes(node_name=name, node_netns=path).sync(cluster.listed)
        assert len(plan.add) == 1 and not plan.delete
    assert await NodeRoutes(node_name="node-1", node_netns=cluster.nodes["node-1"]).current() \
        == {IPv4Network("10.42.2.0/24"): IPv4Address("192.168.77.2")}

    servers = [await listen(pod_1), await listen(pod_2)]
    try:
        assert await dial(pod_1, ip_2, port_of(servers[1])) == ip_1  # pod to pod, no NAT
        assert await dial(pod_2, ip_1, port_of(servers[0])) == ip_2
        assert await dial(cluster.nodes["node-2"], ip_1, port_of(servers[0])) in (
            "192.168.77.2", "10.42.2.1")
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


async def test_node_routes_prune_a_node_that_left_and_leave_other_routes_alone(
        namespaces: Namespaces, tmp_path: Path) -> None:
    cluster = await _two_nodes(namespaces, tmp_path)
    routes = NodeRoutes(node_name="node-1", node_netns=cluster.nodes["node-1"])
    await routes.sync(cluster.listed)
    plan = await routes.sync(cluster.listed[:1])
    assert plan == RoutePlan(delete=(IPv4Network("10.42.2.0/24"),))
    assert await routes.current() == {}
    assert await routes.sync(cluster.listed[:1]) == RoutePlan()  # nothing left to do

    def table() -> set[str]:
        with links.rtnl() as ipr:
            return {f"{r.get('RTA_DST')}/{r['dst_len']}"
                    for r in ipr.get_routes(family=socket.AF_INET, table=links.MAIN_TABLE)}

    # the bridge's podCIDR, the wire's subnet and the blackholes are not NodeRoutes'
    assert {"10.42.1.0/24", "192.168.77.0/24", "10.42.0.0/16", "10.43.0.0/16"} <= (
        await call_in_netns(cluster.nodes["node-1"], table))


async def test_two_clusters_in_one_namespace_keep_their_own_routes(
        namespaces: Namespaces, tmp_path: Path) -> None:
    """A node of another cluster (10.99.0.0/16) routes in node-1's namespace too: each
    sync, and each node's removal at its stop, leaves the other's routes alone."""
    cluster = await _two_nodes(namespaces, tmp_path)
    path = cluster.nodes["node-1"]
    ours = NodeRoutes(node_name="node-1", node_netns=path, cluster_cidr="10.42.0.0/16")
    theirs = NodeRoutes(node_name="other-1", node_netns=path, cluster_cidr="10.99.0.0/16")
    other_node = _node("other-2", "10.99.2.0/24", "192.168.77.2")
    await theirs.sync([other_node])
    await ours.sync(cluster.listed)
    assert await ours.current() == {IPv4Network("10.42.2.0/24"): IPv4Address("192.168.77.2")}
    assert await theirs.current() == {IPv4Network("10.99.2.0/24"): IPv4Address("192.168.77.2")}
    assert await ours.remove() == [IPv4Network("10.42.2.0/24")]
    assert await NodeRoutes(node_name="node-1", node_netns=path).current() == {
        IPv4Network("10.99.2.0/24"): IPv4Address("192.168.77.2")}
    assert await ours.remove() == []


async def test_a_node_not_on_any_link_is_reported_and_the_others_routed(
        namespaces: Namespaces, tmp_path: Path) -> None:
    cluster = await _two_nodes(namespaces, tmp_path)
    routes = NodeRoutes(node_name="node-1", node_netns=cluster.nodes["node-1"])
    far = _node("node-far", "10.42.3.0/24", "203.0.113.3")
    with pytest.raises(RouteSyncError, match="10.42.3.0/24 via 203.0.113.3"):
        await routes.sync(cluster.listed + (far,))
    assert await routes.current() == {IPv4Network("10.42.2.0/24"): IPv4Address("192.168.77.2")}


def _node_object(name: str, cidr: str, ip: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
            "status": {"addresses": [{"type": "InternalIP", "address": ip},
                                     {"type": "Hostname", "address": name}]}}


async def test_the_node_route_controller_follows_nodes_in_the_api(
        namespaces: Namespaces, tmp_path: Path, client: Client) -> None:
    cluster = await _two_nodes(namespaces, tmp_path)
    routes = NodeRoutes(node_name="node-1", node_netns=cluster.nodes["node-1"])
    await client.create("nodes", _node_object("node-1", "10.42.1.0/24", "192.168.77.1"))
    await client.create("nodes", _node_object("node-2", "10.42.2.0/24", "192.168.77.2"))
    informer = Informer(client, "nodes")
    controller = NodeRouteController(informer, routes)
    informer.start()
    running = asyncio.create_task(controller.run())

    async def routes_become(expected: dict[IPv4Network, IPv4Address]) -> None:
        async with asyncio.timeout(10):
            while await routes.current() != expected:
                await asyncio.sleep(0.02)

    try:
        await routes_become({IPv4Network("10.42.2.0/24"): IPv4Address("192.168.77.2")})
        await client.create("nodes", _node_object("node-3", "10.42.3.0/24", "192.168.77.3"))
        await routes_become({IPv4Network("10.42.2.0/24"): IPv4Address("192.168.77.2"),
                             IPv4Network("10.42.3.0/24"): IPv4Address("192.168.77.3")})
        await client.delete("nodes", "node-2")
        await routes_become({IPv4Network("10.42.3.0/24"): IPv4Address("192.168.77.3")})
    finally:
        controller.controller.shutdown()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await informer.stop()
