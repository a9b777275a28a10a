"""The kubelet's node: registration, the Lease, the status reports and the podCIDR
(kubelet_node_status.go registerWithAPIServer / updateNodeStatus, pkg/kubelet/nodelease).

- register: create the Node (node_status.py); when it exists already (a restarted
  kubelet, or a node made by hand) take it over: its labels are merged with the
  kubelet's and its status replaced. Retried with back-off up to 7 s while the server
  cannot answer; a refusal (Forbidden, Invalid) is final.
- the Lease is renewed every `lease_renew_interval` (node_lease.py).
- the status is computed every `node_status_update_frequency` and posted (a strategic
  merge patch of nodes/status) when it changed or `node_status_report_frequency` has
  passed since the last post.
- the node informer (fieldSelector metadata.name=<node>) watches spec.podCIDR: the
  first one the node gets (the nodeipam loop assigns it) is handed to `on_pod_cidr`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from kubelite.client.informer import Informer
from kubelite.client.rest import Client
from kubelite.client.transport import TransportError
from kubelite.kubelet import cri, node_lease
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.node_status import (
    HostFacts, node_object, node_status, without_heartbeats)
from kubelite.machinery import errors

log = logging.getLogger(__name__)

Obj = dict[str, Any]
PodCIDRCallback = Callable[[str], Awaitable[None] | None]
REGISTER_BACKOFF_MAX = 7.0
RETRYABLE = (TransportError, errors.TooManyRequests, errors.InternalError,
             errors.ServiceUnavailable, errors.Timeout)


class NodeAgent:
    def __init__(self, client: Client, config: KubeletConfig, runtime: cri.RuntimeService,
                 images: cri.ImageService, facts: HostFacts, *,
                 on_pod_cidr: PodCIDRCallback | None = None,
                 pressure: Callable[[], Collection[str]] = tuple) -> None:
        """`pressure`: the node's pressure conditions now (the eviction manager's)."""
        self.client = client
        self.config = config
        self.runtime = runtime
        self.images = images
        self.facts = facts
        self.on_pod_cidr = on_pod_cidr
        self.pressure = pressure
        self.node: Obj | None = None
        self.pod_cidr: str = ""
        self.pod_cidr_ready = asyncio.Event()
        self.registered = asyncio.Event()
        self.informer = Informer(client, "nodes",
                                 field_selector=f"metadata.name={config.node_name}")
        self.informer.add_event_handler(on_add=self._node_seen,
                                        on_update=lambda old, new: self._node_seen(new))
        self.lease: Obj | None = None
        self.reports = 0
        self._last_status: Obj | None = None
        self._last_report = 0.0

    async def status(self, old_conditions: list[Obj]) -> Obj:
        version = await self.runtime.version()
        conditions = await self.runtime.status()
        images = await self.images.list_images()
        return node_status(self.facts, self.config, version, conditions, images,
                           old_conditions, self.config.clock(), self.pressure())

    async def register(self) -> Obj:
        backoff = 0.1
        while True:
            try:
                node = await self._register_once()
            except RETRYABLE as err:
                log.warning("registering node %s: %s; retrying in %.1fs",
                            self.config.node_name, err, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, REGISTER_BACKOFF_MAX)
                continue
            self.node = node
            self._last_status = without_heartbeats(node.get("status") or {})
            self._last_report = asyncio.get_running_loop().time()
            self.registered.set()
            log.info("node %s registered", self.config.node_name)
            return node

    async def _register_once(self) -> Obj:
        while True:
            wanted = node_object(self.facts, self.config, await self.status([]))
            try:
                return await self.client.create("nodes", wanted)
            except errors.AlreadyExists:
                pass
            try:
                node = await self.client.get("nodes", self.config.node_name)
                meta = node["metadata"]
                meta["labels"] = {**(meta.get("labels") or {}), **wanted["metadata"]["labels"]}
                node = await self.client.update("nodes", node)
                node["status"] = await self.status(
                    (node.get("status") or {}).get("conditions") or [])
                return await self.client.update_status("nodes", node)
            except (errors.NotFound, errors.Conflict):
                continue

    async def _node_seen(self, node: Obj) -> None:
        self.node = node
        cidr = str((node.get("spec") or {}).get("podCIDR") or "")
        if cidr and not self.pod_cidr:
            self.pod_cidr = cidr
            self.pod_cidr_ready.set()
            log.info("node %s has pod CIDR %s", self.config.node_name, cidr)
            if self.on_pod_cidr is not None:
                result = self.on_pod_cidr(cidr)
                if result is not None:
                    await result

    async def renew_lease(self) -> None:
        uid = (self.node or {}).get("metadata", {}).get("uid", "")
        self.lease = await node_lease.renew(self.client, self.config.node_name, uid,
                                            self.config.lease_duration_seconds, self.lease,
                                            self.config.clock())

    async def report(self, *, force: bool = False) -> bool:
        """Post the status if it changed or a report is due; True when posted."""
        loop = asyncio.get_running_loop()
        old = (self.node or {}).get("status") or {}
        status = await self.status(old.get("conditions") or [])
        changed = without_heartbeats(status) != self._last_status
        due = loop.time() - self._last_report >= self.config.node_status_report_frequency
        if not (force or changed or due):
            return False
        self.node = await self.client.patch("nodes", self.config.node_name, {"status": status},
                                            type="strategic", subresource="status")
        self._last_status = without_heartbeats(status)
        self._last_report = loop.time()
        self.reports += 1
        return True

    async def run(self) -> None:
        """Register, then keep the Lease and the status up until cancelled."""
        await self.register()
        self.informer.start()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._every(self.config.lease_renew_interval,
                                              self.renew_lease, "renewing the node lease"))
                group.create_task(self._every(self.config.node_status_update_frequency,
                                              self.report, "reporting the node status"))
                group.create_task(self.report_ready_at_once())
        finally:
            await self.informer.stop()

    async def report_ready_at_once(self, interval: float = 0.1) -> None:
        """Upstream's fastStatusUpdateOnce: a node registers NotReady (its pod network
        waits for the podCIDR), and the scheduler keeps pods off it while the not-ready
        taint stands; so until the node would be Ready, its status is computed every
        `interval`, and posted the moment it is, not at the next 10 s report."""
        while True:
            old = (self.node or {}).get("status") or {}
            try:
                status = await self.status(old.get("conditions") or [])
            except Exception as err:  # the regular report says it too
                log.debug("computing the node status failed: %s", err)
            else:
                if any(c.get("type") == "Ready" and c.get("status") == "True"
                       for c in status.get("conditions") or ()):
                    await self.report()
                    return
            await asyncio.sleep(interval)

    @staticmethod
    async def _every(interval: float, action: Callable[[], Awaitable[Any]], what: str) -> None:
        while True:
            try:
                await action()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("%s failed: %s", what, err)
            await asyncio.sleep(interval)
