"""SimulatedNodes: register N hollow nodes, then keep them alive and play their pods.

`run()` registers the nodes (create, or take over one that already exists, as a
restarted kubelet does: its labels, podCIDR and status are put back), then runs the
heartbeat wheel (heartbeat.py) and the shared pod simulator (pods.py) until
cancelled. Registration goes `REGISTER_CONCURRENCY` nodes at a time, so 5,000 nodes
register in a few seconds without flooding the server. `registered` is set once
every node exists, which is what callers and tests wait on.

Before registering, the shared kubelet endpoint (endpoint.py) binds its one loopback
port, so every Node can advertise its URL there (`kubelite.io/kubelet-url`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from kubelite.client.rest import Client
from kubelite.client.transport import TransportError
from kubelite.kubelet.simulated.endpoint import KubeletEndpoint
from kubelite.kubelet.simulated.heartbeat import Clock, Heartbeat, NodeRecord, wall_clock
from kubelite.kubelet.simulated.nodes import NodeConfig, Obj, node_object
from kubelite.kubelet.simulated.pods import PodSimulator
from kubelite.machinery import errors

log = logging.getLogger(__name__)

REGISTER_CONCURRENCY = 64
REGISTER_BACKOFF_MAX = 7.0


class SimulatedNodes:
    def __init__(self, client: Client, config: NodeConfig, *, clock: Clock = wall_clock,
                 pod_workers: int = 8, endpoint_host: str | None = "127.0.0.1") -> None:
        """`endpoint_host`: where the kubelet endpoint listens (None: no endpoint)."""
        self.client = client
        self.config = config
        self.clock = clock
        self.records: list[NodeRecord] = []
        self.heartbeat: Heartbeat | None = None
        self.pods = PodSimulator(client, config, workers=pod_workers, clock=clock)
        self.registered = asyncio.Event()
        self.endpoint: KubeletEndpoint | None = None
        if endpoint_host is not None:
            self.endpoint = KubeletEndpoint(config, self.pods.pods_on, host=endpoint_host,
                                            clock=clock)

    async def run(self) -> None:
        """Register, then heartbeat and simulate pods until cancelled."""
        if self.endpoint is None:
            await self._run()
            return
        await self.endpoint.start()
        self.config = dataclasses.replace(
            self.config, kubelet_endpoint=f"http://{self.endpoint.host}:{self.endpoint.port}")
        try:
            await self._run()
        finally:
            await self.endpoint.stop()

    async def _run(self) -> None:
        await self.register()
        log.info("%d simulated nodes registered (%s0..%s%d)", self.config.count,
                 self.config.name_prefix, self.config.name_prefix, self.config.count - 1)
        self.heartbeat = Heartbeat(self.client, self.config, self.records, clock=self.clock)
        async with asyncio.TaskGroup() as group:
            group.create_task(self.heartbeat.run(), name="simulated-node-heartbeat")
            group.create_task(self.pods.run(), name="simulated-node-pods")

    def silence(self, name: str) -> None:
        """Stop node `name`'s Lease renewals, status reports and pods, as a dead kubelet."""
        if self.heartbeat is None:
            raise RuntimeError("the simulated nodes are not running yet")
        self.heartbeat.silence(name)
        self.pods.silence(name)

    def resume(self, name: str) -> None:
        """Renew and report for a silenced node again, its status at once."""
        if self.heartbeat is None:
            raise RuntimeError("the simulated nodes are not running yet")
        self.heartbeat.resume(name)
        self.pods.resume(name)

    async def register(self) -> None:
        loop = asyncio.get_running_loop()
        records: list[NodeRecord | None] = [None] * self.config.count
        gate = asyncio.Semaphore(REGISTER_CONCURRENCY)

        async def one(index: int) -> None:
            async with gate:
                node = await self._register_node(index)
            # First report one interval after registration, which sent the status.
            records[index] = NodeRecord(node["metadata"]["name"], node["metadata"]["uid"],
                                        loop.time() + self.config.status_report_frequency)

        async with asyncio.TaskGroup() as group:
            for index in range(self.config.count):
                group.create_task(one(index))
        self.records = [r for r in records if r is not None]
        self.registered.set()

    async def _register_node(self, index: int) -> Obj:
        """Retries as the kubelet's registerWithAPIServer does, while the server is
        unreachable or busy, backing off up to 7 s; a refusal (403, 422) is final."""
        backoff = 0.1
        while True:
            try:
                return await self._register_once(index)
            except (TransportError, errors.TooManyRequests, errors.InternalError,
                    errors.ServiceUnavailable, errors.Timeout) as err:
                log.warning("registering %s: %s; retrying in %.1fs",
                            self.config.name(index), err, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, REGISTER_BACKOFF_MAX)

    async def _register_once(self, index: int) -> Obj:
        wanted = node_object(self.config, index, self.clock())
        name = wanted["metadata"]["name"]
        while True:
            try:
                return await self.client.create("nodes", wanted)
            except errors.AlreadyExists:
                pass
            try:
                return await self._reconcile(name, wanted)
            except (errors.NotFound, errors.Conflict):
                continue  # deleted or changed in between: start over

    async def _reconcile(self, name: str, wanted: Obj) -> Obj:
        """An existing node takes this simulator's labels, podCIDR and status."""
        node = await self.client.get("nodes", name)
        meta = node["metadata"]
        meta["labels"] = {**(meta.get("labels") or {}), **wanted["metadata"]["labels"]}
        # a restarted simulator's endpoint has a new port
        meta["annotations"] = {**(meta.get("annotations") or {}),
                               **wanted["metadata"]["annotations"]}
        spec = node.setdefault("spec", {})
        if not spec.get("podCIDR"):  # podCIDR is immutable once set
            spec.update(wanted["spec"])
        node = await self.client.update("nodes", node)
        node["status"] = wanted["status"]
        return await self.client.update_status("nodes", node)
