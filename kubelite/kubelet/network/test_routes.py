"""Planning host-gw routes between nodes from their Node objects."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

import pytest

from kubelite.kubelet.network.routes import (
    NodePodNetwork,
    RoutePlan,
    node_pod_network,
    plan_node_routes,
)


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
