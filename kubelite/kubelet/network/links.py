"""The netlink work of the pod network, as synchronous steps over pyroute2.

Each function acts on the network namespace of the thread that runs it (netns.py
runs them in a fresh thread that entered the right one) through one netlink socket
opened there (`rtnl()`), and is idempotent: it looks before it changes, or uses
"replace", so a step repeated after a crash or a restart converges on the same state.
Nothing here shells out to `ip`.

Routes kubelite owns carry their own routing protocol number, ROUTE_PROTOCOL (76),
so that they can be listed and pruned without touching anyone else's: `ip route show
proto 76` lists them.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from pyroute2 import IPRoute  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

ROUTE_PROTOCOL = 76
MAIN_TABLE = 254
_BRIDGE_MODE_HAIRPIN = 1
_IFF_UP = 1
LOOPBACK_INDEX = 1  # every network namespace registers lo first (the kernel's LOOPBACK_IFINDEX)

Rtnl = Any  # pyroute2.IPRoute, untyped


@contextmanager
def rtnl() -> Iterator[Rtnl]:
    """A netlink socket in the calling thread's network namespace.

    pyroute2 drives its socket with an asyncio loop of its own in this thread; left to
    itself it asks for one from the process's event loop policy, which under the
    server is uvloop's, and uvloop cannot open netlink sockets. So it gets a plain
    selector loop, made here and closed with it."""
    loop = asyncio.SelectorEventLoop()
    try:
        ipr = IPRoute(use_event_loop=loop)
        try:
            yield ipr
        finally:
            ipr.close()
    finally:
        loop.close()


def link_index(ipr: Rtnl, name: str) -> int | None:
    # one RTM_GETLINK by name, not a dump of every link (a node has a veth per pod)
    try:
        return int(ipr.link("get", ifname=name)[0]["index"])
    except NetlinkError as err:
        if err.code == errno.ENODEV:
            return None
        raise


def link_attr(ipr: Rtnl, index: int, attr: str | tuple[str, ...]) -> Any:
    """An attribute of the link; a tuple names a nested one."""
    return ipr.get_links(index)[0].get(attr)


def delete_link(ipr: Rtnl, name: str) -> bool:
    """Deletes the link; False when there was none (a veth's peer goes with it)."""
    index = link_index(ipr, name)
    if index is None:
        return False
    try:
        ipr.link("del", index=index)
    except NetlinkError as err:
        if err.code != errno.ENODEV:
            raise
        return False
    return True


def set_up(ipr: Rtnl, index: int, *, mtu: int | None = None) -> None:
    if mtu is None:
        ipr.link("set", index=index, state="up")
    else:
        ipr.link("set", index=index, state="up", mtu=mtu)


def ipv4_addresses(ipr: Rtnl, index: int) -> set[IPv4Interface]:
    return {IPv4Interface(f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}")
            for a in ipr.get_addr(family=socket.AF_INET, index=index)}


def ensure_only_address(ipr: Rtnl, index: int, wanted: IPv4Interface) -> None:
    """Leaves `wanted` the link's one IPv4 address (an old podCIDR's goes)."""
    present = ipv4_addresses(ipr, index)
    for stale in present - {wanted}:
        ipr.addr("del", index=index, address=str(stale.ip), prefixlen=stale.network.prefixlen)
    if wanted not in present:
        ipr.addr("add", index=index, address=str(wanted.ip), prefixlen=wanted.network.prefixlen)


def ensure_bridge(ipr: Rtnl, name: str, gateway: IPv4Interface, mtu: int) -> int:
    """The node's bridge, up, with the gateway address (which also routes the podCIDR
    to it: the kernel's connected route)."""
    index = link_index(ipr, name)
    if index is None:
        try:
            ipr.link("add", ifname=name, kind="bridge")
        except NetlinkError as err:
            if err.code != errno.EEXIST:
                raise
        index = link_index(ipr, name)
        if index is None:
            raise RuntimeError(f"bridge {name} vanished after it was made")
    elif link_attr(ipr, index, ("IFLA_LINKINFO", "IFLA_INFO_KIND")) != "bridge":
        raise RuntimeError(f"link {name} exists and is not a bridge")
    set_up(ipr, index, mtu=mtu)
    ensure_only_address(ipr, index, gateway)
    return index


@dataclass(frozen=True)
class Route:
    """A route of the main table, as far as kubelite cares."""

    dst: IPv4Network
    gateway: IPv4Address | None = None
    kind: str = "unicast"  # or "blackhole"
    device: str | None = None  # an onlink route to a device (no gateway)


def ensure_route(ipr: Rtnl, route: Route) -> None:
    spec: dict[str, Any] = {"dst": str(route.dst), "proto": ROUTE_PROTOCOL,
                            "table": MAIN_TABLE}
    if route.kind == "blackhole":
        spec["type"] = "blackhole"
    else:
        if route.gateway is not None:
            spec["gateway"] = str(route.gateway)
        if route.device is not None:
            index = link_index(ipr, route.device)
            if index is None:
                raise RuntimeError(f"no link {route.device} to route {route.dst} to")
            spec["oif"] = index
            spec["scope"] = "link" if route.gateway is None else "universe"
    ipr.route("replace", **spec)


def delete_route(ipr: Rtnl, dst: IPv4Network) -> None:
    try:
        ipr.route("del", dst=str(dst), proto=ROUTE_PROTOCOL, table=MAIN_TABLE)
    except NetlinkError as err:
        if err.code != errno.ESRCH:  # gone already
            raise


def owned_gateway_routes(ipr: Rtnl) -> dict[IPv4Network, IPv4Address]:
    """The unicast routes via a gateway that kubelite made (NodeRoutes' routes)."""
    routes: dict[IPv4Network, IPv4Address] = {}
    for msg in ipr.get_routes(family=socket.AF_INET, table=MAIN_TABLE):
        if msg["proto"] != ROUTE_PROTOCOL or msg.get("RTA_GATEWAY") is None:
            continue
        dst = msg.get("RTA_DST") or "0.0.0.0"
        routes[IPv4Network(f"{dst}/{msg['dst_len']}")] = IPv4Address(msg.get("RTA_GATEWAY"))
    return routes


def write_sysctl(name: str, value: str) -> None:
    """Sets /proc/sys/<name>; net.* settings are those of the calling thread's network
    namespace (the kernel looks them up by the opener's namespace)."""
    with open("/proc/sys/" + name.replace(".", "/"), "w", encoding="ascii") as f:
        f.write(value)


def read_sysctl(name: str) -> str:
    with open("/proc/sys/" + name.replace(".", "/"), encoding="ascii") as f:
        return f.read().strip()


def add_veth_to_bridge(ipr: Rtnl, host_name: str, bridge_index: int, pod_netns_fd: int,
                       pod_name: str, mtu: int, alias: str) -> None:
    """A veth pair: `host_name` here, up and a hairpin port of the bridge (a pod then
    reaches itself through a Service), and `pod_name` made at once inside the pod's
    namespace (no rename needed)."""
    ipr.link("add", ifname=host_name, kind="veth", mtu=mtu, master=bridge_index,
             peer={"ifname": pod_name, "net_ns_fd": pod_netns_fd, "mtu": mtu})
    index = link_index(ipr, host_name)
    if index is None:
        raise RuntimeError(f"veth {host_name} vanished after it was made")
    ipr.brport("set", index=index, mode=_BRIDGE_MODE_HAIRPIN)
    ipr.link("set", index=index, ifalias=alias, state="up")


def configure_pod_side(ipr: Rtnl, name: str, address: IPv4Interface,
                       gateway: IPv4Address) -> None:
    """In the pod's namespace: lo up, `name` up with the address, default route via the
    gateway."""
    set_up(ipr, LOOPBACK_INDEX)
    index = link_index(ipr, name)
    if index is None:
        raise RuntimeError(f"no {name} in the pod's network namespace")
    ensure_only_address(ipr, index, address)
    set_up(ipr, index)
    ipr.route("replace", dst="0.0.0.0/0", gateway=str(gateway), oif=index,
              table=MAIN_TABLE)


def pod_side_is_configured(ipr: Rtnl, name: str, address: IPv4Interface,
                           gateway: IPv4Address) -> bool:
    index = link_index(ipr, name)
    if index is None or address not in ipv4_addresses(ipr, index):
        return False
    if not ipr.get_links(index)[0]["flags"] & _IFF_UP:
        return False
    return any(msg["dst_len"] == 0 and msg.get("RTA_GATEWAY") == str(gateway)
               for msg in ipr.get_routes(family=socket.AF_INET, table=MAIN_TABLE))
