"""BridgeNetwork for a node running inside a test network namespace (root only).

The node's bridge, veth ends and routes are made in the "node" namespace the test
owns, never on the host; the pods are namespaces of their own."""

from __future__ import annotations

import asyncio
import errno
import socket
from pathlib import Path

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.network import links
from kubelite.kubelet.network.bridge import BridgeNetwork, host_veth_name
from kubelite.kubelet.network.netns import call_in_netns
from kubelite.kubelet.network.testing import Namespaces, dial, listen, port_of

CONFIG = cri.PodSandboxConfig(metadata=cri.PodSandboxMetadata("web", "default", "uid-1"))
RTN_UNICAST, RTN_BLACKHOLE = 1, 6


def _links() -> set[str]:
    with links.rtnl() as ipr:
        return {link.get("IFLA_IFNAME") for link in ipr.get_links()}


def _route_to(address: str) -> tuple[int, str | None]:
    """(route type, device name) the node's routing picks for `address`."""
    with links.rtnl() as ipr:
        found = ipr.route("get", dst=address)[0]
        oif = found.get("RTA_OIF")
        name = ipr.get_links(oif)[0].get("IFLA_IFNAME") if oif else None
        return found["type"], name


def _routes() -> list[tuple[str, int, int]]:
    with links.rtnl() as ipr:
        return [(f"{r.get('RTA_DST')}/{r['dst_len']}", r["type"], r["proto"])
                for r in ipr.get_routes(family=socket.AF_INET, table=links.MAIN_TABLE)]


def _alias_and_hairpin(name: str) -> tuple[str, int]:
    with links.rtnl() as ipr:
        index = links.link_index(ipr, name)
        alias = ipr.get_links(index)[0].get("IFLA_IFALIAS")
        port = ipr.brport("show", index=index)[0]
        mode = port.get(("IFLA_PROTINFO", "IFLA_BRPORT_MODE"))
        return alias, mode


def _read_ip_forward() -> str:
    return links.read_sysctl("net.ipv4.ip_forward")


@pytest.fixture
def node(namespaces: Namespaces) -> str:
    return namespaces.make("node")


async def _network(namespaces: Namespaces, node: str, tmp_path: Path,
                   cidr: str | None = "10.42.1.0/24") -> BridgeNetwork:
    network = BridgeNetwork(data_dir=str(tmp_path), node_netns=node)
    namespaces.record_links(node, network.bridge)
    if cidr is not None:
        await network.set_pod_cidr(cidr)
    return network


async def test_network_is_not_ready_until_the_node_has_a_pod_cidr(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    network = await _network(namespaces, node, tmp_path, cidr=None)
    pod = namespaces.make("pod")
    condition = await network.status()
    assert (condition.type, condition.status, condition.reason) == (
        "NetworkReady", False, "NetworkPluginNotReady")
    with pytest.raises(cri.CRIError) as refused:
        await network.setup("sandbox-a", pod, CONFIG)
    assert refused.value.reason == "NetworkPluginNotReady"
    await network.set_pod_cidr("10.42.1.0/24")
    assert (await network.status()).status is True


@pytest.mark.parametrize("cidr", ["10.42.1.1/24", "fd00::/64", "10.42.1.0/31"],
                         ids=["host-bits", "ipv6", "too-small"])
async def test_a_pod_cidr_kubelite_cannot_use_is_refused(
        namespaces: Namespaces, node: str, tmp_path: Path, cidr: str) -> None:
    network = await _network(namespaces, node, tmp_path, cidr=None)
    with pytest.raises(ValueError):
        await network.set_pod_cidr(cidr)
    assert (await network.status()).status is False


async def test_pods_on_one_node_reach_each_other_and_the_node(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    network = await _network(namespaces, node, tmp_path)
    pod_a, pod_b = namespaces.make("pod-a"), namespaces.make("pod-b")
    a = await network.setup("sandbox-a", pod_a, CONFIG)
    b = await network.setup("sandbox-b", pod_b, CONFIG)
    assert (a.ips, a.gateway, a.interface) == (("10.42.1.2",), "10.42.1.1", "eth0")
    assert b.ips == ("10.42.1.3",)

    servers = [await listen(ns) for ns in (pod_a, pod_b, node)]
    try:
        at_a, at_b, at_node = (port_of(s) for s in servers)
        assert await dial(pod_b, "10.42.1.2", at_a) == "10.42.1.3"  # no NAT on the way
        assert await dial(pod_a, "10.42.1.3", at_b) == "10.42.1.2"
        assert await dial(pod_a, "10.42.1.1", at_node) == "10.42.1.2"
        assert await dial(node, "10.42.1.2", at_a) == "10.42.1.1"
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


async def test_the_node_side_is_a_bridge_with_the_gateway_and_the_cluster_routes(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    host_forwarding = _read_ip_forward()
    network = await _network(namespaces, node, tmp_path)
    pod = namespaces.make("pod")
    await network.setup("sandbox-a", pod, CONFIG)

    assert await call_in_netns(node, _read_ip_forward) == "1"
    assert _read_ip_forward() == host_forwarding  # the host's own stays as it was
    assert await call_in_netns(node, lambda: _route_to("10.42.1.2")) == (
        RTN_UNICAST, "kubelite0")
    assert ("10.42.0.0/16", RTN_BLACKHOLE, links.ROUTE_PROTOCOL) in await call_in_netns(
        node, _routes)
    assert await call_in_netns(node, lambda: _route_to("10.43.0.10")) == (
        RTN_UNICAST, "kubelite0")
    veth = host_veth_name("sandbox-a")
    assert await call_in_netns(node, lambda: _alias_and_hairpin(veth)) == (
        "kubelite:sandbox-a", 1)

    def node_connects_to_a_node_less_pod_address() -> None:
        with socket.socket() as sock, pytest.raises(OSError) as refused:
            sock.connect(("10.42.9.9", 80))
        assert refused.value.errno == errno.EINVAL  # the blackhole: refused, never sent

    await call_in_netns(node, node_connects_to_a_node_less_pod_address)


async def test_setup_again_keeps_the_sandboxs_interface_and_address(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    network = await _network(namespaces, node, tmp_path)
    pod = namespaces.make("pod")
    first = await network.setup("sandbox-a", pod, CONFIG)
    veth = host_veth_name("sandbox-a")

    def index_of_veth() -> int | None:
        with links.rtnl() as ipr:
            return links.link_index(ipr, veth)

    before = await call_in_netns(node, index_of_veth)
    assert await network.setup("sandbox-a", pod, CONFIG) == first
    assert await call_in_netns(node, index_of_veth) == before


async def test_teardown_removes_every_link_and_releases_the_address(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    network = await _network(namespaces, node, tmp_path)
    pod_a, pod_b = namespaces.make("pod-a"), namespaces.make("pod-b")
    await network.setup("sandbox-a", pod_a, CONFIG)
    await network.setup("sandbox-b", pod_b, CONFIG)
    assert await call_in_netns(node, _links) == {
        "lo", "kubelite0", host_veth_name("sandbox-a"), host_veth_name("sandbox-b")}

    await network.teardown("sandbox-a", pod_a)
    await network.teardown("sandbox-a", pod_a)  # idempotent
    assert await call_in_netns(node, _links) == {"lo", "kubelite0",
                                                  host_veth_name("sandbox-b")}
    assert await call_in_netns(pod_a, _links) == {"lo"}
    assert network.store.lookup("sandbox-a") is None
    # the address is free again (the last to be reused): a new pod gets the next one
    assert (await network.setup("sandbox-c", pod_a, CONFIG)).ips == ("10.42.1.4",)


async def test_addresses_survive_a_restart_of_the_network(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    network = await _network(namespaces, node, tmp_path)
    pod_a, pod_b = namespaces.make("pod-a"), namespaces.make("pod-b")
    a = await network.setup("sandbox-a", pod_a, CONFIG)

    restarted = await _network(namespaces, node, tmp_path)  # same data dir, same node
    assert await restarted.setup("sandbox-a", pod_a, CONFIG) == a
    assert (await restarted.setup("sandbox-b", pod_b, CONFIG)).ips == ("10.42.1.3",)


async def test_a_sandbox_whose_namespace_is_gone_tears_down_cleanly(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    from kubelite.kubelet.network.netns import remove_netns

    network = await _network(namespaces, node, tmp_path)
    pod = namespaces.make("pod")
    await network.setup("sandbox-a", pod, CONFIG)
    await remove_netns(pod)
    await network.teardown("sandbox-a", pod)
    assert await call_in_netns(node, _links) == {"lo", "kubelite0"}
    assert network.store.lookup("sandbox-a") is None


async def test_release_all_but_frees_sandboxes_the_runtime_no_longer_has(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    network = await _network(namespaces, node, tmp_path)
    pod_a, pod_b = namespaces.make("pod-a"), namespaces.make("pod-b")
    await network.setup("sandbox-a", pod_a, CONFIG)
    await network.setup("sandbox-b", pod_b, CONFIG)
    assert await network.release_all_but(["sandbox-b"]) == ["sandbox-a"]
    assert network.store.lookup("sandbox-a") is None
    assert network.store.lookup("sandbox-b") is not None
    assert await call_in_netns(node, _links) == {"lo", "kubelite0",
                                                  host_veth_name("sandbox-b")}


async def test_a_host_network_sandbox_gets_no_interface(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    network = await _network(namespaces, node, tmp_path)
    config = cri.PodSandboxConfig(metadata=CONFIG.metadata, host_network=True)
    assert await network.setup("sandbox-h", "/proc/self/ns/net", config) == (
        cri.PodNetworkResult(ips=()))
    assert network.store.lookup("sandbox-h") is None


async def test_setup_on_a_path_that_is_no_namespace_fails_clearly(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    network = await _network(namespaces, node, tmp_path)
    with pytest.raises(cri.CRIError, match="not a network namespace"):
        await network.setup("sandbox-x", str(tmp_path), CONFIG)


async def test_setup_replaces_an_eth0_a_failed_attempt_left_in_the_pod(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    network = await _network(namespaces, node, tmp_path)
    pod = namespaces.make("pod")

    def leave_an_eth0() -> None:
        with links.rtnl() as ipr:
            ipr.link("add", ifname="eth0", kind="veth", peer="spare")

    await call_in_netns(pod, leave_an_eth0)
    result = await network.setup("sandbox-a", pod, CONFIG)
    server = await listen(pod)
    try:
        assert await dial(node, result.ips[0], port_of(server)) == "10.42.1.1"
    finally:
        server.close()
        await server.wait_closed()


async def test_removing_the_node_side_leaves_the_nodes_network_as_it_was(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    before = await call_in_netns(node, _routes)
    network = await _network(namespaces, node, tmp_path)
    pod = namespaces.make("pod")
    await network.setup("sandbox-a", pod, CONFIG)
    await network.teardown("sandbox-a", pod)
    await network.remove_node_side()
    assert await call_in_netns(node, _links) == {"lo"}
    assert await call_in_netns(node, _routes) == before
    assert (await network.status()).status is False
    await network.remove_node_side()  # again: nothing left to remove


def test_the_node_side_is_made_under_uvloop_as_the_server_runs(
        namespaces: Namespaces, node: str, tmp_path: Path) -> None:
    """The server installs uvloop's policy; netlink work must not take its loops."""
    import uvloop

    policy = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        network = uvloop.run(_network(namespaces, node, tmp_path))
    finally:
        asyncio.set_event_loop_policy(policy)
    assert network.pod_cidr is not None
