"""Running a real kubelet: in the server's process for its own node (`kubelite server`,
unless --disable-agent), or alone against a remote server (`kubelite agent --server
URL --kubeconfig FILE`).

The container runtime is chosen by name from RUNTIMES, a table each runtime adds a
row to: how to tell whether the host can run it, and how to build it. `auto` takes the
first row the host can run, in the table's order of preference.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kubelite.kubelet.config import KubeletConfig, default_node_name

if TYPE_CHECKING:
    from kubelite.client.rest import Client
    from kubelite.kubelet import cri
    from kubelite.kubelet.kubelet import Kubelet

log = logging.getLogger(__name__)

DEFAULT_KUBELET_PORT = 10250


@dataclass(frozen=True)
class RuntimeChoice:
    name: str
    # None when the host can run it, else why not
    unavailable: Callable[[], str | None]
    build: Callable[[Path, str], tuple[cri.RuntimeService, cri.ImageService]]


def _host_unavailable() -> str | None:
    return None  # host processes run anywhere


def _build_host(root: Path, node_ip: str) -> tuple[cri.RuntimeService, cri.ImageService]:
    from kubelite.kubelet.runtime.host import HostImages, HostRuntime

    runtime = HostRuntime(root / "host", node_ip)
    killed = runtime.recover()
    if killed:
        log.info("killed %d host processes a previous kubelet left running", len(killed))
    return runtime, HostImages()


def _runc_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "runc needs root"
    if shutil.which("runc") is None:
        return "runc is not installed"
    return None


# In order of preference for `--runtime auto`: isolation first.
RUNTIMES: dict[str, RuntimeChoice] = {
    "host": RuntimeChoice("host", _host_unavailable, _build_host),
}
RUNC_PREFERENCE = ("runc", "host")


def choose_runtime(wanted: str) -> str:
    """The runtime `--runtime` names; `auto`: runc when the node is root with runc
    installed (and kubelite has it), else host. ValueError for one the node cannot run."""
    if wanted == "auto":
        for name in RUNC_PREFERENCE:
            choice = RUNTIMES.get(name)
            if choice is not None and choice.unavailable() is None:
                return name
        raise ValueError("no container runtime can run on this node")
    choice = RUNTIMES.get(wanted)
    if choice is None:
        raise ValueError(f"--runtime: unknown runtime {wanted!r} (have: auto, "
                         + ", ".join(RUNTIMES) + ")")
    reason = choice.unavailable()
    if reason is not None:
        raise ValueError(f"--runtime {wanted}: {reason}")
    return wanted


def add_flags(parser: argparse.ArgumentParser, *, server: bool) -> None:
    group = parser.add_argument_group("node agent (kubelet)")
    if server:
        group.add_argument("--disable-agent", action="store_true",
                           help="do not run a kubelet for this host in the server")
    group.add_argument("--node-name", default=None,
                       help="the node's name (default: the host name)")
    group.add_argument("--node-ip", default="",
                       help="the node's InternalIP (default: the host's address on its "
                            "default route, else 127.0.0.1)")
    group.add_argument("--runtime", default="auto",
                       help="container runtime: auto (runc when root with runc, else host), "
                            + ", ".join(RUNTIMES))
    group.add_argument("--kubelet-port", type=int, default=DEFAULT_KUBELET_PORT,
                       help="the kubelet's HTTPS port")
    group.add_argument("--cluster-dns", default="",
                       help="DNS server IPs for ClusterFirst pods, comma separated "
                            "(default: the 10th address of the service CIDR, 10.43.0.10)")
    group.add_argument("--cluster-domain", default="cluster.local")
    group.add_argument("--node-labels", default="",
                       help="labels the node registers with, key=value,...")


def cluster_dns_default(service_cidr: str) -> str:
    """The 10th address of the (first) service CIDR, where kubelite's DNS listens."""
    network = ipaddress.ip_network(service_cidr.split(",")[0].strip(), strict=False)
    return str(network.network_address + 10)


def kubelet_config(args: argparse.Namespace, data_dir: Path) -> KubeletConfig:
    """ValueError names a bad flag."""
    dns = args.cluster_dns or cluster_dns_default(getattr(args, "service_cidr", "10.43.0.0/16"))
    servers = tuple(s.strip() for s in dns.split(",") if s.strip())
    for server in servers:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise ValueError(f"--cluster-dns: {server!r} is not an IP address") from None
    labels = []
    for item in (i.strip() for i in args.node_labels.split(",") if i.strip()):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--node-labels: {item!r} is not key=value")
        labels.append((key, value))
    if not 0 < args.kubelet_port < 65536:
        raise ValueError(f"--kubelet-port: {args.kubelet_port} is not a port")
    return KubeletConfig(node_name=(args.node_name or default_node_name()).lower(),
                         root_dir=data_dir / "agent", node_ip=args.node_ip,
                         port=args.kubelet_port, labels=tuple(labels), cluster_dns=servers,
                         cluster_domain=args.cluster_domain)


def build_kubelet(client: Client, config: KubeletConfig, runtime_name: str) -> Kubelet:
    """The kubelet with its runtime and its parts: volumes (under <root>/pods), probes
    and lifecycle hooks, sharing one Event recorder."""
    from kubelite.client.events import EventRecorder
    from kubelite.kubelet.kubelet import COMPONENT, Kubelet
    from kubelite.kubelet.lifecycle import LifecycleHooks
    from kubelite.kubelet.node_status import default_node_ip
    from kubelite.kubelet.prober.manager import ProbeManager
    from kubelite.kubelet.volumes.manager import VolumeManager

    runtime, images = RUNTIMES[runtime_name].build(config.root_dir / "runtime",
                                                   config.node_ip or default_node_ip())
    events = EventRecorder(client, COMPONENT, host=config.node_name)
    volumes = VolumeManager(client, config.pods_dir, config.node_name)
    return Kubelet(client, config, runtime, images, volumes,
                   ProbeManager(runtime, events=events), LifecycleHooks(runtime, events=events),
                   loops=[volumes.run], recorder=events)


async def run_kubelet(kubelet: Kubelet) -> None:
    """Run until cancelled, then stop the node's pods."""
    try:
        await kubelet.run()
    finally:
        await asyncio.shield(kubelet.stop())
