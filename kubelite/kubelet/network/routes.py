"""Routes between nodes, as flannel's host-gw backend keeps them.

Every node routes each other node's podCIDR via that node's InternalIP, so a packet
from a pod leaves its node already addressed to the right next hop, with no tunnel and
no encapsulation. That needs the nodes on one link (one L2 segment), which is what
several agents on one machine, or machines on one LAN, have.

`plan_node_routes` is the pure part: from the Nodes (name, podCIDR, InternalIP) and
the routes kubelite has now, what to add or replace and what to delete. `NodeRoutes`
applies a plan in the node's network namespace, touching only routes of kubelite's
routing protocol (links.ROUTE_PROTOCOL) inside its cluster's CIDR, so it prunes a
stale node's route and nothing else: a second cluster's node sharing the namespace
(clusters side by side on one host, each with a cluster CIDR of its own) keeps its
routes. `remove()` takes this cluster's routes away when the node stops. `NodeRouteController` drives it from a Node informer: any change of a
node's name, podCIDR or InternalIP enqueues one key, and its sync plans from the
informer's cache (level-triggered: a burst of Node events is one sync), and a resync
every minute puts back a route someone deleted by hand.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from kubelite.client import Controller, Informer, TemporaryError
from kubelite.kubelet.network import links
from kubelite.kubelet.network.netns import call_in_netns

log = logging.getLogger(__name__)

Obj = dict[str, Any]

RESYNC_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class NodePodNetwork:
    """What routing to one node needs from its Node object."""

    name: str
    pod_cidr: IPv4Network
    internal_ip: IPv4Address


def node_pod_network(node: Obj) -> NodePodNetwork | None:
    """The node's IPv4 podCIDR (spec.podCIDRs, else spec.podCIDR) and its first IPv4
    InternalIP; None while either is missing or malformed (it gets no route then)."""
    spec = node.get("spec") or {}
    cidrs = list(spec.get("podCIDRs") or []) or [spec.get("podCIDR") or ""]
    pod_cidr = next((n for n in map(_ipv4_network, cidrs) if n is not None), None)
    addresses = (node.get("status") or {}).get("addresses") or []
    internal_ip = next((a for a in (_ipv4_address(entry.get("address"))
                                    for entry in addresses
                                    if isinstance(entry, dict)
                                    and entry.get("type") == "InternalIP")
                        if a is not None), None)
    name = (node.get("metadata") or {}).get("name") or ""
    if not name or pod_cidr is None or internal_ip is None:
        return None
    return NodePodNetwork(name, pod_cidr, internal_ip)


def _ipv4_network(value: Any) -> IPv4Network | None:
    try:
        network = ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None
    return network if isinstance(network, IPv4Network) else None


def _ipv4_address(value: Any) -> IPv4Address | None:
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        return None
    return address if isinstance(address, IPv4Address) else None


@dataclass(frozen=True)
class RoutePlan:
    add: Mapping[IPv4Network, IPv4Address] = field(default_factory=dict)  # add or replace
    delete: tuple[IPv4Network, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.add and not self.delete


def plan_node_routes(own_node: str, nodes: Iterable[NodePodNetwork],
                     current: Mapping[IPv4Network, IPv4Address],
                     cluster_cidr: IPv4Network | None = None) -> RoutePlan:
    """The routes to add (or move to a new gateway) and to delete so that `current`
    (kubelite's routes now) becomes one route per other node's podCIDR via its
    InternalIP.

    With `cluster_cidr`, only routes inside it are this cluster's: one outside is
    neither kept nor deleted (another cluster's), and a node whose podCIDR lies
    outside gets none.

    No route is made for this node, nor for a podCIDR overlapping this node's (that
    would steal its pods' traffic), nor via an address inside a podCIDR. Two nodes
    claiming one podCIDR (the allocator never does that) resolve to the first by name,
    so that every node plans the same.
    """
    if cluster_cidr is not None:
        current = {cidr: gw for cidr, gw in current.items() if cidr.subnet_of(cluster_cidr)}
        nodes = [n for n in nodes if n.pod_cidr.subnet_of(cluster_cidr)]
    ordered = sorted(nodes, key=lambda n: n.name)
    own = [n.pod_cidr for n in ordered if n.name == own_node]
    desired: dict[IPv4Network, IPv4Address] = {}
    for node in ordered:
        if node.name == own_node or node.pod_cidr in desired:
            continue
        if any(node.pod_cidr.overlaps(mine) for mine in own):
            continue
        if any(node.internal_ip in n.pod_cidr for n in ordered):
            continue
        desired[node.pod_cidr] = node.internal_ip
    add = {cidr: gw for cidr, gw in desired.items() if current.get(cidr) != gw}
    delete = tuple(sorted(cidr for cidr in current if cidr not in desired))
    return RoutePlan(add=add, delete=delete)


class RouteSyncError(Exception):
    """Some routes could not be made (the rest were); the sync should be retried."""


class NodeRoutes:
    """Keeps the routes to other nodes' podCIDRs in this node's network namespace
    (`node_netns`, None: the process's own), those inside `cluster_cidr` (None: any
    of kubelite's)."""

    def __init__(self, *, node_name: str, node_netns: str | None = None,
                 cluster_cidr: IPv4Network | str | None = None) -> None:
        self.node_name = node_name
        self.node_netns = node_netns
        self.cluster_cidr = None if cluster_cidr is None else IPv4Network(cluster_cidr)

    async def sync(self, nodes: Iterable[NodePodNetwork]) -> RoutePlan:
        """Brings the routes in line with `nodes` and returns what it changed. Raises
        RouteSyncError after applying every route it could (a gateway not on any link
        of the node is the usual cause: host-gw needs the nodes on one segment)."""
        return await call_in_netns(self.node_netns, partial(self._sync, tuple(nodes)))

    def _sync(self, nodes: tuple[NodePodNetwork, ...]) -> RoutePlan:
        failures: list[str] = []
        with links.rtnl() as ipr:
            plan = plan_node_routes(self.node_name, nodes, links.owned_gateway_routes(ipr),
                                    self.cluster_cidr)
            for cidr in plan.delete:
                try:
                    links.delete_route(ipr, cidr)
                except Exception as err:
                    failures.append(f"deleting the route to {cidr}: {err}")
            for cidr, gateway in plan.add.items():
                try:
                    links.ensure_route(ipr, links.Route(cidr, gateway=gateway))
                except Exception as err:
                    failures.append(f"routing {cidr} via {gateway}: {err}")
        if failures:
            raise RouteSyncError("; ".join(failures))
        return plan

    async def current(self) -> dict[IPv4Network, IPv4Address]:
        """This cluster's routes to other nodes now."""
        def read() -> dict[IPv4Network, IPv4Address]:
            with links.rtnl() as ipr:
                return self._scoped(links.owned_gateway_routes(ipr))

        return await call_in_netns(self.node_netns, read)

    async def remove(self) -> list[IPv4Network]:
        """Deletes this cluster's routes to other nodes (a node that stops leaves
        nothing in the namespace); returns the destinations deleted."""
        def delete() -> list[IPv4Network]:
            with links.rtnl() as ipr:
                gone = sorted(self._scoped(links.owned_gateway_routes(ipr)))
                for cidr in gone:
                    links.delete_route(ipr, cidr)
                return gone

        return await call_in_netns(self.node_netns, delete)

    def _scoped(self, routes: Mapping[IPv4Network, IPv4Address]
                ) -> dict[IPv4Network, IPv4Address]:
        return {cidr: gw for cidr, gw in routes.items()
                if self.cluster_cidr is None or cidr.subnet_of(self.cluster_cidr)}


class NodeRouteController:
    """Runs NodeRoutes from a Node informer (one the kubelet has, or its own).

    Wire it before the informer starts; `run()` until cancelled."""

    KEY = "routes"

    def __init__(self, nodes: Informer, routes: NodeRoutes, *,
                 resync_seconds: float = RESYNC_SECONDS) -> None:
        self.nodes = nodes
        self.routes = routes
        self.controller: Controller[str] = Controller("node-routes", self.sync)
        self.controller.enqueue_every(resync_seconds, lambda: (self.KEY,))
        nodes.add_event_handler(on_add=self._changed, on_update=self._updated,
                                on_delete=self._changed)

    def _changed(self, node: Obj) -> None:
        self.controller.enqueue(self.KEY)

    def _updated(self, old: Obj, new: Obj) -> None:
        # Node status is written every few seconds (heartbeats); only what a route
        # depends on is worth a sync.
        if node_pod_network(old) != node_pod_network(new):
            self.controller.enqueue(self.KEY)

    async def sync(self, key: str) -> None:
        if not self.nodes.has_synced():
            # planning from a partial cache would delete the routes of nodes not
            # listed yet
            raise TemporaryError("the node informer has not synced yet", delay=0.1)
        nodes = [n for obj in self.nodes.lister.list()
                 if (n := node_pod_network(obj)) is not None]
        try:
            plan = await self.routes.sync(nodes)
        except RouteSyncError as err:
            raise TemporaryError(str(err)) from err
        if not plan.is_empty:
            log.info("node routes: added %s, deleted %s",
                     {str(k): str(v) for k, v in plan.add.items()},
                     [str(c) for c in plan.delete])

    async def run(self) -> None:
        self.controller.enqueue(self.KEY)
        await self.controller.run()
