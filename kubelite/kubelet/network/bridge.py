"""BridgeNetwork: the node's pod network, as the CNI bridge and host-local plugins make it.

```text
 node network namespace (the host's, or `node_netns`)
   kubelite0 (bridge) 10.42.1.1/24 ── connected route 10.42.1.0/24
     ├── veth3f2a9c1b0d7  ⇄  eth0 10.42.1.2/24 in pod A's netns (default via 10.42.1.1)
     └── veth81c0e4aa925  ⇄  eth0 10.42.1.3/24 in pod B's netns
   blackhole 10.42.0.0/16 (the cluster CIDR)          proto 76
   10.43.0.0/16 dev kubelite0 (the service CIDR)      proto 76
   10.42.2.0/24 via <node-2's InternalIP>             proto 76 (NodeRoutes)
   net.ipv4.ip_forward = 1
```

`set_pod_cidr` (the kubelet calls it with its Node's spec.podCIDR, at start and when it
changes) makes the node side: the bridge with the first address of the podCIDR, the
kubelite routes, and IP forwarding, as every kubelet's CNI plugin turns it on (a node
must route between its pods and the rest). Until then `status()` reports NetworkReady
false and `setup` refuses. Everything is idempotent: run it again, after a restart or
a crash half way, and it converges.

Per sandbox, `setup` gives the sandbox's namespace an `eth0`, one end of a veth pair
whose other end (named from a hash of the sandbox id, its ifalias the id) is a port of
the bridge, an address from the podCIDR (ipam.py: on disk under
`<data-dir>/agent/network/ipam/`, by sandbox id, surviving restarts), lo up and a
default route via the gateway. Repeating it for a sandbox that has its network
changes nothing; `teardown` deletes the pair and releases the address.

Nothing destined for the cluster's address ranges leaves the machine: pod addresses
not local and not routed to another node hit the cluster CIDR's blackhole (longer
prefixes win: the local podCIDR via the bridge, NodeRoutes' per node routes). The
service CIDR is routed to the bridge rather than blackholed: a connection the node
itself opens to a ClusterIP needs a route when connect() looks one up, before
kube-proxy's DNAT in the output hook rewrites the destination (a blackhole would fail
it with EINVAL); an address no Service rewrote then dies unanswered on the bridge.

`node_netns` runs all of it inside another network namespace (a path, as netns.py
makes), which is how several nodes share one machine in tests. IPv4 only.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
from collections.abc import Iterable
from functools import partial
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from kubelite.kubelet import cri
from kubelite.kubelet.network import links
from kubelite.kubelet.network.ipam import HostLocalStore, gateway_of, parse_pod_cidr
from kubelite.kubelet.network.netns import call_in_netns, call_in_netns_sync, is_netns

log = logging.getLogger(__name__)

DEFAULT_BRIDGE = "kubelite0"
DEFAULT_CLUSTER_CIDR = "10.42.0.0/16"
DEFAULT_SERVICE_CIDR = "10.43.0.0/16"
POD_INTERFACE = "eth0"


def host_veth_name(sandbox_id: str) -> str:
    """The node side of a sandbox's veth pair: 15 characters (IFNAMSIZ), the same on
    every call, so that teardown finds it without any record."""
    return "veth" + hashlib.sha256(sandbox_id.encode()).hexdigest()[:11]


def ipam_directory(data_dir: str) -> str:
    return os.path.join(data_dir, "agent", "network", "ipam")


class BridgeNetwork:
    """cri.PodNetwork on a node bridge with host-local addresses (module docstring)."""

    def __init__(self, *, data_dir: str, bridge: str = DEFAULT_BRIDGE,
                 node_netns: str | None = None, mtu: int = 1500,
                 cluster_cidr: str = DEFAULT_CLUSTER_CIDR,
                 service_cidr: str = DEFAULT_SERVICE_CIDR) -> None:
        if not bridge or len(bridge) > 15 or "/" in bridge or " " in bridge:
            raise ValueError(f"invalid bridge name {bridge!r}")
        if not 68 <= mtu <= 65535:
            raise ValueError(f"invalid MTU {mtu}")
        self.bridge = bridge
        self.node_netns = node_netns
        self.mtu = mtu
        self.cluster_cidr = IPv4Network(cluster_cidr)
        self.service_cidr = IPv4Network(service_cidr)
        self.store = HostLocalStore(ipam_directory(data_dir))
        self._pod_cidr: IPv4Network | None = None
        self._ipam_lock = asyncio.Lock()
        self._node_lock = asyncio.Lock()

    @property
    def pod_cidr(self) -> IPv4Network | None:
        return self._pod_cidr

    # --- the node side ------------------------------------------------------------

    async def set_pod_cidr(self, cidr: str) -> None:
        """Makes the node side for podCIDR `cidr` (module docstring) and lets pods get
        addresses from it. ValueError for a podCIDR kubelite cannot use."""
        network = parse_pod_cidr(cidr)
        async with self._node_lock:
            await call_in_netns(self.node_netns, partial(self._ensure_node_side, network))
            if self._pod_cidr != network:
                log.info("pod network: podCIDR %s on bridge %s", network, self.bridge)
            self._pod_cidr = network

    def _ensure_node_side(self, network: IPv4Network) -> None:
        links.write_sysctl("net.ipv4.ip_forward", "1")
        with links.rtnl() as ipr:
            gateway = IPv4Interface(f"{gateway_of(network)}/{network.prefixlen}")
            links.ensure_bridge(ipr, self.bridge, gateway, self.mtu)
            links.ensure_route(ipr, links.Route(self.cluster_cidr, kind="blackhole"))
            links.ensure_route(ipr, links.Route(self.service_cidr, device=self.bridge))

    async def remove_node_side(self) -> None:
        """Takes the bridge and the node's routes for the cluster and service CIDRs
        away again, once the node's pods are gone (a node that stops for good leaves
        nothing in the host's network; ip_forward stays on, as kubelets leave it).
        The addresses the store holds are kept for the next start."""
        async with self._node_lock:
            await call_in_netns(self.node_netns, self._remove_node_side)
            self._pod_cidr = None

    def _remove_node_side(self) -> None:
        with links.rtnl() as ipr:
            for dst in (self.cluster_cidr, self.service_cidr):
                links.delete_route(ipr, dst)
            links.delete_link(ipr, self.bridge)

    async def status(self) -> cri.RuntimeCondition:
        if self._pod_cidr is None:
            return cri.RuntimeCondition(
                "NetworkReady", False, "NetworkPluginNotReady",
                "Network plugin returns error: no podCIDR assigned to this node yet")
        return cri.RuntimeCondition("NetworkReady", True)

    # --- sandboxes ----------------------------------------------------------------

    async def setup(self, sandbox_id: str, netns_path: str,
                    config: cri.PodSandboxConfig) -> cri.PodNetworkResult:
        if config.host_network:
            return cri.PodNetworkResult(ips=())  # the node's own network: nothing to do
        network = self._pod_cidr
        if network is None:
            raise cri.CRIError("the pod network is not ready: no podCIDR assigned to this "
                               "node yet", "NetworkPluginNotReady")
        if not is_netns(netns_path):
            raise cri.CRIError(f"{netns_path} is not a network namespace", "NetworkSetupError")
        async with self._ipam_lock:
            try:
                address = await asyncio.to_thread(self.store.allocate, sandbox_id, network)
            except Exception as err:
                raise cri.CRIError(f"no address for sandbox {sandbox_id} in {network}: {err}",
                                   "NetworkSetupError") from err
        gateway = gateway_of(network)
        interface = IPv4Interface(f"{address}/{network.prefixlen}")
        try:
            await call_in_netns(self.node_netns, partial(
                self._plumb, sandbox_id, netns_path, interface, gateway, network))
        except Exception as err:
            await self.teardown(sandbox_id, netns_path)
            raise cri.CRIError(f"setting up the network of sandbox {sandbox_id} failed: "
                               f"{err}", "NetworkSetupError") from err
        return cri.PodNetworkResult(ips=(str(address),), gateway=str(gateway),
                                    interface=POD_INTERFACE)

    def _plumb(self, sandbox_id: str, netns_path: str, interface: IPv4Interface,
               gateway: IPv4Address, network: IPv4Network) -> None:
        """In the node's namespace: the veth pair; in the pod's (a nested thread): eth0."""
        host = host_veth_name(sandbox_id)
        with links.rtnl() as ipr:
            bridge_index = links.link_index(ipr, self.bridge)
            if bridge_index is None:  # deleted behind our back: make it again
                bridge_index = links.ensure_bridge(
                    ipr, self.bridge, IPv4Interface(f"{gateway}/{network.prefixlen}"),
                    self.mtu)
            if links.link_index(ipr, host) is not None:
                if call_in_netns_sync(netns_path, partial(
                        self._pod_side_is_configured, interface, gateway)):
                    return  # set up before: leave the pod's connections alone
                links.delete_link(ipr, host)  # half made: start again
            pod_fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                plug = partial(links.add_veth_to_bridge, ipr, host, bridge_index, pod_fd,
                               POD_INTERFACE, self.mtu, alias=f"kubelite:{sandbox_id}")
                try:
                    plug()
                except NetlinkError as err:
                    if err.code != errno.EEXIST:
                        raise
                    # an eth0 left in the pod by an attempt whose node side is gone
                    links.delete_link(ipr, host)
                    call_in_netns_sync(netns_path, self._delete_pod_interface)
                    plug()
            finally:
                os.close(pod_fd)
        call_in_netns_sync(netns_path, partial(self._configure_pod_side, interface, gateway))

    @staticmethod
    def _pod_side_is_configured(interface: IPv4Interface, gateway: IPv4Address) -> bool:
        with links.rtnl() as ipr:
            return links.pod_side_is_configured(ipr, POD_INTERFACE, interface, gateway)

    @staticmethod
    def _delete_pod_interface() -> None:
        with links.rtnl() as ipr:
            links.delete_link(ipr, POD_INTERFACE)

    @staticmethod
    def _configure_pod_side(interface: IPv4Interface, gateway: IPv4Address) -> None:
        with links.rtnl() as ipr:
            links.configure_pod_side(ipr, POD_INTERFACE, interface, gateway)

    async def teardown(self, sandbox_id: str, netns_path: str) -> None:
        """Deletes the sandbox's veth pair (both ends go together) and releases its
        address. The namespace may be gone already: its interfaces went with it."""
        await call_in_netns(self.node_netns, partial(self._unplug, sandbox_id))
        async with self._ipam_lock:
            await asyncio.to_thread(self.store.release, sandbox_id)

    @staticmethod
    def _unplug(sandbox_id: str) -> None:
        with links.rtnl() as ipr:
            links.delete_link(ipr, host_veth_name(sandbox_id))

    async def release_all_but(self, sandbox_ids: Iterable[str]) -> list[str]:
        """Releases the addresses and links of every sandbox not in `sandbox_ids` (the
        runtime's sandboxes, at its start), left by a crash between setup and teardown.
        Returns the sandbox ids released."""
        keep = set(sandbox_ids)
        async with self._ipam_lock:
            held = await asyncio.to_thread(self.store.allocations)
        stale = sorted({owner for owner in held.values() if owner not in keep})
        for sandbox_id in stale:
            log.info("pod network: releasing the address of vanished sandbox %s", sandbox_id)
            await self.teardown(sandbox_id, "")
        return stale
