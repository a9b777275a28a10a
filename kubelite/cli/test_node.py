"""The kubelet's command line: runtime choice, flags, and the kubelet it builds."""

from __future__ import annotations

import asyncio
import socket
import contextlib
from pathlib import Path

import pytest

from kubelite.cli import node
from kubelite.cli.main import build_parser
from kubelite.client.rest import Client


def test_auto_takes_the_first_runtime_the_node_can_run() -> None:
    # runc is preferred where kubelite has it and the node can run it; host runs anywhere
    expected = next(name for name in node.RUNC_PREFERENCE
                    if name in node.RUNTIMES and node.RUNTIMES[name].unavailable() is None)
    assert node.choose_runtime("auto") == expected
    assert node.choose_runtime("host") == "host"


def test_an_unknown_runtime_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown runtime 'docker'.*host"):
        node.choose_runtime("docker")


@pytest.mark.parametrize(("flags", "message"), [
    (["--cluster-dns", "dns.local"], "--cluster-dns: 'dns.local' is not an IP address"),
    (["--node-labels", "novalue"], "--node-labels: 'novalue' is not key=value"),
    (["--kubelet-port", "70000"], "--kubelet-port: 70000 is not a port"),
    (["--bridge-name", "a-much-too-long-name"], "--bridge-name: 'a-much-too-long-name' is not"),
    (["--bridge-name", "br/0"], "--bridge-name: 'br/0' is not an interface name"),
    (["--cluster-cidr", "10.42.0.1/16"], "--cluster-cidr: 10.42.0.1/16 has host bits set"),
    (["--cluster-cidr", "fd00:42::/56"], "--cluster-cidr: 'fd00:42::/56' has no IPv4 range"),
], ids=["dns", "labels", "port", "long-bridge", "slash-bridge", "host-bits", "ipv6-only"])
def test_bad_flags_are_named(flags: list[str], message: str) -> None:
    args = build_parser().parse_args(["server", *flags])
    with pytest.raises(ValueError, match=message):
        node.kubelet_config(args, Path("/data"))


def test_server_flags_make_the_kubelet_config() -> None:
    args = build_parser().parse_args([
        "server", "--service-cidr", "10.96.0.0/12", "--node-name", "Edge-1",
        "--node-labels", "zone=a,tier=edge", "--kubelet-port", "10260"])
    config = node.kubelet_config(args, Path("/data"))
    assert config.node_name == "edge-1"
    assert config.cluster_dns == ("10.96.0.10",)
    assert config.labels == (("zone", "a"), ("tier", "edge"))
    assert (config.port, config.root_dir) == (10260, Path("/data/agent"))
    assert build_parser().parse_args(["server", "--disable-agent"]).disable_agent


@pytest.mark.parametrize(("command", "flags", "expected"), [
    ("server", [], ("kubelite0", "10.42.0.0/16", "10.43.0.0/16", ("10.43.0.10",))),
    ("server", ["--bridge-name", "kl7", "--cluster-cidr", "10.200.16.0/20",
                "--service-cidr", "10.201.0.0/24"],
     ("kl7", "10.200.16.0/20", "10.201.0.0/24", ("10.201.0.10",))),
    ("server", ["--cluster-cidr", "10.200.0.0/16,fd00:42::/56",
                "--service-cidr", "fd00:43::/112,10.201.0.0/24"],
     ("kubelite0", "10.200.0.0/16", "10.201.0.0/24", ("fd00:43::a",))),
    ("agent", ["--bridge-name", "kl8", "--cluster-cidr", "10.200.32.0/20",
               "--service-cidr", "10.201.1.0/24"],
     ("kl8", "10.200.32.0/20", "10.201.1.0/24", ("10.201.1.10",))),
], ids=["defaults", "server-side-by-side", "dual-stack-takes-ipv4", "agent-side-by-side"])
def test_the_pod_network_follows_the_cluster_flags(
        command: str, flags: list[str], expected: tuple[str, str, str, tuple[str, ...]]) -> None:
    """A second cluster on the host names its own bridge and ranges, and the node
    blackholes and routes exactly those."""
    extra = ["--kubeconfig", "k"] if command == "agent" else []
    args = build_parser().parse_args([command, *extra, *flags])
    config = node.kubelet_config(args, Path("/data"))
    assert (config.bridge_name, config.cluster_cidr, config.service_cidr,
            config.cluster_dns) == expected


def test_agent_without_simulate_runs_a_kubelet() -> None:
    args = build_parser().parse_args(["agent", "--kubeconfig", "k", "--server",
                                      "https://10.0.0.1:6443"])
    assert (args.simulate, args.server, args.runtime) == (0, "https://10.0.0.1:6443", "auto")


async def test_the_built_kubelet_registers_and_runs_a_pod(client: Client, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = build_parser().parse_args(["server", "--node-name", "here", "--node-ip", "127.0.0.1",
                                      "--kubelet-port", str(port)])
    built = node.build_node(client, node.kubelet_config(args, tmp_path), "host")
    task = asyncio.create_task(built.run())
    try:
        await client.create("pods", {
            "metadata": {"name": "hello"},
            "spec": {"nodeName": "here", "restartPolicy": "Never",
                     "containers": [{"name": "c", "image": "sh", "command": ["true"]}]}},
            namespace="default")
        async with asyncio.timeout(15):
            while (await client.get("pods", "hello", namespace="default")).get(
                    "status", {}).get("phase") != "Succeeded":
                await asyncio.sleep(0.05)
        assert (await client.get("nodes", "here"))["status"]["nodeInfo"][
            "containerRuntimeVersion"].startswith("host://")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_the_cri_endpoint_flag_reaches_the_kubelet_config() -> None:
    args = build_parser().parse_args(["agent", "--runtime", "cri", "--container-runtime-endpoint",
                                      "unix:///run/crio/crio.sock"])
    assert node.kubelet_config(args, Path("/data")).container_runtime_endpoint == \
        "unix:///run/crio/crio.sock"
    default = node.kubelet_config(build_parser().parse_args(["server"]), Path("/data"))
    assert default.container_runtime_endpoint == "unix:///run/containerd/containerd.sock"


@pytest.mark.parametrize(("endpoint", "message"), [
    ("unix://{tmp}/none.sock", "no CRI runtime answers at unix://.*/none.sock"),
    ("tcp://127.0.0.1:5000", "want unix:///path/to.sock"),
], ids=["nothing-listens", "not-unix"])
def test_cri_is_refused_with_the_reason(tmp_path: Path, endpoint: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"--runtime cri: .*{message}"):
        node.choose_runtime("cri", endpoint.format(tmp=tmp_path))


def test_cri_is_chosen_where_its_socket_answers(tmp_path: Path) -> None:
    path = tmp_path / "cri.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen()
        assert node.choose_runtime("cri", f"unix://{path}") == "cri"
        # auto still prefers runc where it runs: cri only stands in for it
        runc_runs = node.RUNTIMES["runc"].unavailable("") is None
        assert node.choose_runtime("auto", f"unix://{path}") == ("runc" if runc_runs else "cri")
