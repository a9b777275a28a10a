"""The node IPAM loop (upstream's pkg/controller/nodeipam, the range allocator): each
node gets spec.podCIDR / spec.podCIDRs from the cluster CIDR, one node CIDR per family
(10.42.0.0/16 cut into /24s by default).

    nodes informer ── add/update: a node with podCIDRs marks them used (whoever set them:
                      a simulated node or a kubelet sets its own); one without is enqueued
                   ── delete: its CIDRs are free again
                         │
    sync(node name): the node from the lister; it has CIDRs, or this term already gave it
        some the informer does not show yet: nothing. Else the next free node CIDR of each
        cluster CIDR (cidrset.py), written with the node's resourceVersion, so a CIDR set
        meanwhile by anyone else is never overwritten (a Conflict frees ours and retries).
        None left: a CIDRNotAvailable Event on the node, and a retry with back-off.

Before the first sync the loop marks what every existing node holds, so nothing in use
is handed out twice. A node CIDR outside the cluster CIDR is left alone (logged once).
Simulated nodes pick their CIDR by index when they register: a node without one that
joins before them may be given a CIDR a later simulated node then claims too.
"""

from __future__ import annotations

import copy
import logging

from kubelite.client.controller import Controller, TemporaryError
from kubelite.controllers.cidrset import CIDRSet, CIDRSetFull
from kubelite.controllers.context import LoopContext
from kubelite.controllers.node_settings import NodeSettings
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors

log = logging.getLogger(__name__)

COMPONENT = "cidrAllocator"
WORKERS = 5  # upstream's cidrUpdateWorkers


def pod_cidrs(node: Obj) -> list[str]:
    spec = node.get("spec") or {}
    cidrs = [c for c in spec.get("podCIDRs") or () if isinstance(c, str) and c]
    if not cidrs and spec.get("podCIDR"):
        cidrs = [str(spec["podCIDR"])]
    return cidrs


class NodeIpamLoop:
    name = "nodeipam"

    def __init__(self, ctx: LoopContext, *, settings: NodeSettings | None = None) -> None:
        settings = settings or ctx.settings.node
        self.client = ctx.client
        self.recorder = ctx.recorder(COMPONENT)
        self.sets = [CIDRSet(cidr, settings.node_mask(_version(cidr)))
                     for cidr in settings.cluster_cidrs]
        self.given: dict[str, list[str]] = {}  # written this term, not yet in the informer
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.nodes = ctx.informers.informer("nodes")
        self.nodes.add_event_handler(on_add=self._node_changed,
                                     on_update=lambda old, new: self._node_changed(new),
                                     on_delete=self._node_deleted)

    async def run(self) -> None:
        for node in self.nodes.lister.list():
            self._occupy(node)
        await self.controller.run()

    def _node_changed(self, node: Obj) -> None:
        if pod_cidrs(node):
            self._occupy(node)
            self.given.pop(meta(node)["name"], None)
        else:
            self.controller.enqueue(meta(node)["name"])

    def _node_deleted(self, node: Obj) -> None:
        name = meta(node)["name"]
        for cidr in {*pod_cidrs(node), *self.given.pop(name, [])}:
            self._change(cidr, release=True, node=name)

    def _occupy(self, node: Obj) -> None:
        for cidr in pod_cidrs(node):
            self._change(cidr, release=False, node=meta(node)["name"])

    def _change(self, cidr: str, *, release: bool, node: str) -> None:
        try:
            target = next((s for s in self.sets if s.contains(cidr)), None)
        except ValueError:
            log.warning("node %s has a malformed pod CIDR %r", node, cidr)
            return
        if target is None:
            log.info("node %s pod CIDR %s is outside the cluster CIDRs %s; left alone",
                     node, cidr, ", ".join(map(str, self.sets)))
        elif release:
            target.release(cidr)
        else:
            target.occupy(cidr)

    async def sync(self, name: str) -> None:
        node = self.nodes.lister.get("", name)
        if node is None or pod_cidrs(node) or name in self.given:
            return
        allocated: list[str] = []
        try:
            for cidrs in self.sets:
                allocated.append(str(cidrs.allocate()))
        except CIDRSetFull as err:
            self._release(allocated, name)
            self.recorder.event(node, "Normal", "CIDRNotAvailable",
                                f"Node {name} status is now: CIDRNotAvailable")
            raise TemporaryError(str(err)) from None
        updated = copy.copy(node)
        updated["spec"] = {**(node.get("spec") or {}), "podCIDR": allocated[0],
                           "podCIDRs": allocated}
        try:
            await self.client.update("nodes", updated)
        except errors.NotFound:
            self._release(allocated, name)
            return
        except BaseException:
            # a Conflict (the node changed, maybe got CIDRs elsewhere) or an outage:
            # ours go back, and the retry looks again
            self._release(allocated, name)
            raise
        log.info("node %s: pod CIDRs %s", name, ", ".join(allocated))
        self.given[name] = allocated

    def _release(self, cidrs: list[str], node: str) -> None:
        for cidr in cidrs:
            self._change(cidr, release=True, node=node)


def _version(cidr: str) -> int:
    return 6 if ":" in cidr else 4
