"""NodePorts against upstream's node_ports_test.go cases."""

from __future__ import annotations

import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import CycleState
from kubelite.scheduler.plugins.node_ports import REASON, NodePorts


def with_ports(*ports: str, node: str = "") -> dict:
    """Ports as upstream's tests spell them: "protocol/hostIP/hostPort"."""
    spec = [{"containerPort": 1, "protocol": p, "hostIP": ip, "hostPort": int(port)}
            for p, ip, port in (x.split("/") for x in ports)]
    pod = make_pod(node=node)
    pod["spec"]["containers"][0]["ports"] = spec
    return pod


@pytest.mark.parametrize("wanted, used, fits", [
    (["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/9090"], True),
    (["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], False),
    (["TCP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], True),
    (["TCP/127.0.0.1/8080"], ["TCP/127.0.0.2/8080"], True),
    (["TCP/0.0.0.0/8001"], ["TCP/127.0.0.1/8001"], False),
    (["TCP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], False),
    (["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"], ["TCP/127.0.0.1/8001"], False),
    (["UDP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], True),
], ids=["other-port", "same-port", "other-protocol", "other-ip", "any-ip-wanted", "any-ip-used",
        "any-ip-among-several", "any-ip-other-protocol"])
def test_filter_rejects_conflicting_host_ports(wanted, used, fits) -> None:
    nodes = table(make_node("n"), pods=(with_ports(*used, node="n"),))
    plugin, state, pod = NodePorts(), CycleState(), with_ports(*wanted)
    assert plugin.pre_filter(state, pod, nodes).is_success()
    assert plugin.filter(state, pod, nodes).status_of(0, plugin.name).reasons == (() if fits else (REASON,))


def test_pod_without_host_ports_skips_the_filter() -> None:
    assert NodePorts().pre_filter(CycleState(), make_pod(), table(make_node("n"))).is_skip()


def test_forgotten_pod_frees_its_ports() -> None:
    nodes = table(make_node("n"))
    nodes.assume_pod(with_ports("TCP/0.0.0.0/80"), "n")
    nodes.forget_pod("default/p")
    plugin, state, pod = NodePorts(), CycleState(), with_ports("TCP/0.0.0.0/80")
    plugin.pre_filter(state, pod, nodes)
    assert not plugin.filter(state, pod, nodes).rejected().any()
