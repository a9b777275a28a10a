"""Running a real kubelet: in the server's process for its own node (`kubelite server`,
unless --disable-agent), or alone against a remote server (`kubelite agent --server
URL --kubeconfig FILE`).

The container runtime is chosen by name from RUNTIMES, a table each runtime adds a
row to: how to tell whether the host can run it, and how to build it. `auto` takes the
first row the host can run, in the table's order of preference: runc, then a CRI
runtime (containerd, CRI-O) when runc cannot run but a CRI socket answers at
--container-runtime-endpoint (pods still get containers of their own, not host
processes), then host.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import shutil
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelite.cli import eviction_flags
from kubelite.kubelet.config import KubeletConfig, default_node_name

if TYPE_CHECKING:
    from kubelite.client.informer import Informer
    from kubelite.client.rest import Client
    from kubelite.kubelet import cri
    from kubelite.kubelet.kubelet import Kubelet
    from kubelite.kubelet.network.bridge import BridgeNetwork
    from kubelite.kubelet.network.routes import NodeRoutes
    from kubelite.kubelet.server.server import KubeletServer

log = logging.getLogger(__name__)

DEFAULT_KUBELET_PORT = 10250
DEFAULT_BRIDGE = "kubelite0"  # as kubelet/network/bridge.py's
DEFAULT_CRI_ENDPOINT = "unix:///run/containerd/containerd.sock"


@dataclass
class NodeRuntime:
    """A runtime with what it brings: its image service, and for runtimes that give
    pods a network of their own, the pod network (the node's podCIDR goes to it)."""

    runtime: cri.RuntimeService
    images: cri.ImageService
    network: BridgeNetwork | None = None
    # what runs beside the kubelet for as long as it runs (the image garbage collector)
    loops: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    # the eviction manager's reclaim of unused images under disk pressure, and where
    # the images live (imagefs)
    image_gc: Callable[[], Coroutine[Any, Any, Any]] | None = None
    image_fs: Path | None = None
    # what is let go of last (the cri runtime's gRPC channel)
    closers: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    async def close(self) -> None:
        """After the kubelet stopped its pods: the node's network goes too."""
        if self.network is not None:
            await self.network.remove_node_side()
        for close in self.closers:
            await close()


@dataclass(frozen=True)
class RuntimeChoice:
    name: str
    # (the CRI endpoint) -> None when the host can run it, else why not
    unavailable: Callable[[str], str | None]
    build: Callable[[KubeletConfig, str], NodeRuntime]  # (config, node IP)


def _host_unavailable(endpoint: str = "") -> str | None:
    return None  # host processes run anywhere


def _build_host(config: KubeletConfig, node_ip: str) -> NodeRuntime:
    from kubelite.kubelet.runtime.host import HostImages, HostRuntime

    runtime = HostRuntime(config.root_dir / "runtime" / "host", node_ip)
    killed = runtime.recover()
    if killed:
        log.info("killed %d host processes a previous kubelet left running", len(killed))
    return NodeRuntime(runtime, HostImages())


def _runc_unavailable(endpoint: str = "") -> str | None:
    if os.geteuid() != 0:
        return "runc needs root"
    if shutil.which("runc") is None:
        return "runc is not installed"
    return None


def _build_runc(config: KubeletConfig, node_ip: str) -> NodeRuntime:
    """OCI containers from the node's image store, each pod on the node's bridge."""
    from kubelite.kubelet.images import ImageGC, ImageService, ImageStore, store_root
    from kubelite.kubelet.images.service import fs_capacity
    from kubelite.kubelet.network.bridge import BridgeNetwork
    from kubelite.kubelet.runtime.runc import RuncRuntime

    data_dir = config.root_dir.parent
    store = ImageStore(store_root(data_dir))
    network = BridgeNetwork(data_dir=str(data_dir), bridge=config.bridge_name,
                            cluster_cidr=config.cluster_cidr, service_cidr=config.service_cidr)
    runtime = RuncRuntime(root=config.root_dir / "runc", images=store, network=network)
    images = ImageService(store)

    async def in_use() -> set[str]:
        return {c.image_ref or c.image for c in await runtime.list_containers()}

    # upstream's image GC: above 85% of the images' disk, least recently used first
    collector = ImageGC(images, in_use=in_use, fs_stats=lambda: fs_capacity(str(store.root)))
    return NodeRuntime(runtime, images, network, loops=[collector.run],
                       image_gc=collector.delete_unused, image_fs=store.root)


def _cri_unavailable(endpoint: str = DEFAULT_CRI_ENDPOINT) -> str | None:
    from kubelite.kubelet.runtime.cri import parse_endpoint, socket_answers

    try:
        parse_endpoint(endpoint)
    except ValueError as err:
        return str(err)
    if not socket_answers(endpoint):
        return f"no CRI runtime answers at {endpoint} (--container-runtime-endpoint)"
    return None


def _build_cri(config: KubeletConfig, node_ip: str) -> NodeRuntime:
    """A client of the CRI socket: the runtime keeps the images and the pods' network
    (its CNI config)."""
    from kubelite.kubelet.runtime.cri import Connection, CRIImages, CRIRuntime

    connection = Connection(config.container_runtime_endpoint)
    runtime = CRIRuntime(connection, state_dir=config.root_dir / "cri")
    # No image garbage collection: containerd 1.6 does not mark its pause image pinned,
    # and a collector that knows nothing of it would remove it.
    return NodeRuntime(runtime, CRIImages(connection), closers=[connection.close])


# In order of preference for `--runtime auto`: isolation first.
RUNTIMES: dict[str, RuntimeChoice] = {
    "runc": RuntimeChoice("runc", _runc_unavailable, _build_runc),
    "cri": RuntimeChoice("cri", _cri_unavailable, _build_cri),
    "host": RuntimeChoice("host", _host_unavailable, _build_host),
}
RUNC_PREFERENCE = ("runc", "cri", "host")


def choose_runtime(wanted: str, endpoint: str = DEFAULT_CRI_ENDPOINT) -> str:
    """The runtime `--runtime` names; `auto`: runc when the node is root with runc
    installed (and kubelite has it), else a CRI runtime answering at `endpoint`, else
    host. ValueError for one the node cannot run."""
    if wanted == "auto":
        for name in RUNC_PREFERENCE:
            choice = RUNTIMES.get(name)
            if choice is not None and choice.unavailable(endpoint) is None:
                return name
        raise ValueError("no container runtime can run on this node")
    choice = RUNTIMES.get(wanted)
    if choice is None:
        raise ValueError(f"--runtime: unknown runtime {wanted!r} (have: auto, "
                         + ", ".join(RUNTIMES) + ")")
    reason = choice.unavailable(endpoint)
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
                       help="container runtime: auto (runc when root with runc, else cri "
                            "when a CRI socket answers, else host), " + ", ".join(RUNTIMES))
    group.add_argument("--container-runtime-endpoint", default=DEFAULT_CRI_ENDPOINT,
                       help="the CRI socket of --runtime cri (containerd, CRI-O)")
    group.add_argument("--kubelet-port", type=int, default=DEFAULT_KUBELET_PORT,
                       help="the kubelet's HTTPS port (its API, /healthz and metrics)")
    group.add_argument("--bridge-name", default=DEFAULT_BRIDGE,
                       help="the node's pod bridge (runc runtime); nodes or clusters "
                            "sharing one network namespace need names of their own")
    if not server:
        # the server's own --service-cidr serves its node too
        group.add_argument("--service-cidr", default="10.43.0.0/16",
                           help="the cluster's service CIDR, as the server's: routed to "
                                "the pod bridge, and its 10th address is the cluster DNS")
    group.add_argument("--cluster-dns", default="",
                       help="DNS server IPs for ClusterFirst pods, comma separated "
                            "(default: the 10th address of the service CIDR, 10.43.0.10)")
    group.add_argument("--cluster-domain", default="cluster.local")
    group.add_argument("--node-labels", default="",
                       help="labels the node registers with, key=value,...")
    eviction_flags.add(group)


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
    bridge = args.bridge_name
    if not bridge or len(bridge) > 15 or any(c in bridge for c in "/: \t") or bridge in (".", ".."):
        raise ValueError(f"--bridge-name: {bridge!r} is not an interface name (1-15 "
                         "characters, no '/', ':' or spaces)")
    cluster_cidr, service_cidr = pod_network_ranges(args)
    return KubeletConfig(node_name=(args.node_name or default_node_name()).lower(),
                         root_dir=data_dir / "agent", node_ip=args.node_ip,
                         port=args.kubelet_port, labels=tuple(labels), cluster_dns=servers,
                         cluster_domain=args.cluster_domain,
                         container_runtime_endpoint=getattr(
                             args, "container_runtime_endpoint", DEFAULT_CRI_ENDPOINT),
                         cluster_cidr=cluster_cidr, service_cidr=service_cidr,
                         bridge_name=bridge, **eviction_flags.settings(args))


def pod_network_ranges(args: argparse.Namespace) -> tuple[str, str]:
    """The IPv4 cluster and service CIDRs the node's pod network blackholes and routes:
    the first IPv4 range of --cluster-cidr and --service-cidr (each may be an
    IPv4,IPv6 pair). ValueError names a flag without one."""
    ranges = []
    for flag, value in (("--cluster-cidr", getattr(args, "cluster_cidr", None) or "10.42.0.0/16"),
                        ("--service-cidr", getattr(args, "service_cidr", None) or "10.43.0.0/16")):
        found = None
        for item in (i.strip() for i in value.split(",") if i.strip()):
            try:
                network = ipaddress.ip_network(item, strict=True)
            except ValueError as err:
                raise ValueError(f"{flag}: {err}") from None
            if found is None and network.version == 4:
                found = str(network)
        if found is None:
            raise ValueError(f"{flag}: {value!r} has no IPv4 range (the pod network is IPv4)")
        ranges.append(found)
    return ranges[0], ranges[1]


@dataclass
class Node:
    """A kubelet for this host with its runtime and its HTTPS server."""

    kubelet: Kubelet
    runtime: NodeRuntime
    server: KubeletServer
    config: KubeletConfig
    node_ip: str
    client_ca: bytes | None = None

    async def run(self) -> None:
        """Run until cancelled; then the node's pods stop, and its server and network go."""
        client_ca = self.client_ca or await published_client_ca(self.kubelet.client)
        self.server.ssl_context = serving_context(self.config, self.node_ip, client_ca)
        await self.server.start()
        try:
            await self.kubelet.run()
        finally:
            await asyncio.shield(self._stop())

    async def _stop(self) -> None:
        await self.kubelet.stop()
        await self.server.stop()
        await self.runtime.close()


def serving_context(config: KubeletConfig, node_ip: str, client_ca: bytes | None) -> ssl.SSLContext:
    """The kubelet's TLS: its own certificate (self-signed, as upstream's kubelet makes
    one), and client certificates verified against the cluster's client CA when it is
    known (upstream's --client-ca-file); without it, callers show tokens."""
    from kubelite.pki.self_signed import serving_certificate

    names = [node_ip] + (["127.0.0.1"] if node_ip != "127.0.0.1" else [])
    cert, key = serving_certificate(config.root_dir / "pki", config.node_name, names)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.load_verify_locations(cadata=client_ca.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def build_node(client: Client, config: KubeletConfig, runtime_name: str, *,
               client_ca: bytes | None = None) -> Node:
    """The kubelet with its runtime and its parts: volumes (under <root>/pods), probes
    and lifecycle hooks, sharing one Event recorder; its server on the node's IP."""
    from kubelite.client.events import EventRecorder
    from kubelite.kubelet.kubelet import COMPONENT, Kubelet
    from kubelite.kubelet.lifecycle import LifecycleHooks
    from kubelite.kubelet.node_status import default_node_ip
    from kubelite.kubelet.prober.manager import ProbeManager
    from kubelite.kubelet.server.auth import Gate
    from kubelite.kubelet.server.server import KubeletServer
    from kubelite.kubelet.volumes.manager import VolumeManager

    node_ip = config.node_ip or default_node_ip()
    parts = RUNTIMES[runtime_name].build(config, node_ip)
    runtime = parts.runtime
    events = EventRecorder(client, COMPONENT, host=config.node_name)
    volumes = VolumeManager(client, config.pods_dir, config.node_name)
    # a runtime with a pod network routes to the other nodes' pods too
    routes = [node_routes_loop(client, config)] if parts.network is not None else []
    kubelet = Kubelet(client, config, runtime, parts.images, volumes,
                      ProbeManager(runtime, events=events), LifecycleHooks(runtime, events=events),
                      on_pod_cidr=parts.network.set_pod_cidr if parts.network else None,
                      loops=[volumes.run, *parts.loops, *routes], recorder=events,
                      image_gc=parts.image_gc, image_fs=parts.image_fs)
    # The kubelet's server listens where its Node says it is (InternalIP), no wider; its
    # TLS is settled when it starts (Node.run), once the client CA is known.
    server = KubeletServer(config.node_name, runtime, kubelet, gate=Gate(client, config.node_name),
                           ssl_context=None, host=node_ip, port=config.port)
    return Node(kubelet, parts, server, config, node_ip, client_ca)


def node_routes_loop(client: Client, config: KubeletConfig
                     ) -> Callable[[], Coroutine[Any, Any, None]]:
    """The node's routes to every other node's podCIDR via its InternalIP (flannel's
    host-gw, network/routes.py), kept from a Node informer of its own for as long as
    the kubelet runs; the routes go when it stops. Listing every Node is the node
    group's by the `system:kubelite-node-routes` binding (apiserver/auth/rbac/policy.py)."""
    from kubelite.client.informer import Informer, strip_managed_fields
    from kubelite.kubelet.network.routes import NodeRouteController, NodeRoutes

    async def node_routes() -> None:
        informer = Informer(client, "nodes", transform=strip_managed_fields)
        routes = NodeRoutes(node_name=config.node_name, cluster_cidr=config.cluster_cidr)
        controller = NodeRouteController(informer, routes)
        informer.start()
        try:
            await controller.run()
        finally:
            controller.controller.shutdown()
            await asyncio.shield(_stop_routes(informer, routes))

    return node_routes


async def _stop_routes(informer: Informer, routes: NodeRoutes) -> None:
    await informer.stop()
    try:
        removed = await routes.remove()
    except Exception as err:  # netlink's errors too: the node is stopping regardless
        log.warning("node routes: could not remove them: %s", err)
        return
    if removed:
        log.info("node routes: removed %s", ", ".join(map(str, removed)))


async def published_client_ca(client: Client) -> bytes | None:
    """The API server's client CA as it publishes it (kube-system/
    extension-apiserver-authentication), None when the node may not read it."""
    from kubelite.cli.cluster_info import AUTHENTICATION_CONFIGMAP, CLIENT_CA_KEY
    from kubelite.machinery import errors

    try:
        configmap = await client.get("configmaps", AUTHENTICATION_CONFIGMAP, namespace="kube-system")
    except errors.StatusError as err:
        log.warning("no client CA for the kubelet's server (%s): callers must show tokens", err)
        return None
    pem = (configmap.get("data") or {}).get(CLIENT_CA_KEY)
    return pem.encode() if pem else None


async def joined_kubeconfig(server: str, token: str, config: KubeletConfig,
                            ca_cert_hashes: tuple[str, ...]) -> Path:
    """The node's kubeconfig: the one an earlier join left, while its certificate has
    more than a day left, else a new join with the bootstrap token (kubelet/join.py's
    JoinError says why one failed)."""
    import base64
    import datetime

    import yaml

    from kubelite.cli.kubeconfig import write_kubeconfig
    from kubelite.kubelet import join
    from kubelite.pki.certs import expires_within, load_certificate

    path = config.root_dir / "kubelet.kubeconfig"
    if path.exists():
        try:
            user = yaml.safe_load(path.read_text())["users"][0]["user"]
            certificate = load_certificate(base64.b64decode(user["client-certificate-data"]))
            if not expires_within(certificate, datetime.timedelta(days=1),
                                  now=datetime.datetime.now(datetime.timezone.utc)):
                return path
        except (OSError, LookupError, TypeError, ValueError, yaml.YAMLError):
            pass  # unreadable: join again
    credentials = await join.join(server, token, config.node_name, ca_cert_hashes=ca_cert_hashes)
    return write_kubeconfig(path, server, ca_pem=credentials.ca_pem,
                            cert_pem=credentials.cert_pem, key_pem=credentials.key_pem,
                            name="kubelet")
