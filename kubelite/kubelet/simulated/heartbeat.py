"""One loop that keeps every simulated node alive: Lease renewals and status reports.

Upstream each kubelet runs its own nodelease controller (renew every
leaseDuration * 0.25 = 10 s) and node status loop (report every
nodeStatusReportFrequency = 5 min, or when the status changes). Thousands of tasks
with their own timers would cost more than the nodes themselves, so one task turns a
timer wheel instead: the renew interval is cut into slots of about 0.1 s, node i
belongs to slot i mod slots, and each tick renews its slot's leases together. The
load is thus spread evenly over the interval, every lease is renewed once per
interval, and the schedule is absolute, so no drift accumulates. A tick does not wait
for the previous tick's writes: when the API server is busy (thousands of pods being
created) each write waits its turn, and a wheel that waited for every tick would take
longer than a Lease's grace period to go round, so healthy nodes would be found silent.
Up to a quarter of the wheel's ticks are in flight at once; a node's next renewal (a
whole turn later) therefore never overlaps its last, and beyond that the wheel slows
down rather than piling up writes.

Per node it keeps a small slotted record: its name, the Node's uid (the Lease's
owner) and the last Lease written (without managedFields), so a renewal is one PUT
with the Lease's resourceVersion, as the nodelease controller does. A Conflict or NotFound drops
the cached Lease; the next tick reads or recreates it. A status report is a
strategic merge patch of the healthy conditions with a new lastHeartbeatTime on
nodes/status. Nothing in a simulated node's status changes otherwise, so only the
5-minute report is sent, and one at once when a silenced node resumes.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
from collections import deque
from collections.abc import Callable, Sequence

from kubelite.client.informer import strip_managed_fields
from kubelite.client.rest import Client
from kubelite.kubelet import node_lease
from kubelite.kubelet.simulated.nodes import NodeConfig, Obj, heartbeat_patch

log = logging.getLogger(__name__)

Clock = Callable[[], datetime.datetime]
TICK = 0.1  # target seconds between two slots of the wheel


def wall_clock() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class NodeRecord:
    """What the heartbeat remembers of one node."""

    __slots__ = ("name", "uid", "lease", "next_report", "silent", "recovered")

    def __init__(self, name: str, uid: str, next_report: float) -> None:
        self.name = name
        self.uid = uid
        self.lease: Obj | None = None
        self.next_report = next_report  # loop time of the next status report
        self.silent = False  # its kubelet has stopped: no renewals, no reports
        self.recovered = False  # back from silence: the next report is a transition


class Heartbeat:
    def __init__(self, client: Client, config: NodeConfig, nodes: Sequence[NodeRecord], *,
                 clock: Clock = wall_clock) -> None:
        self.client = client
        self.config = config
        self.nodes = nodes
        self.clock = clock
        self.slots = max(1, min(len(nodes), math.ceil(config.renew_interval / TICK)))
        self.renewals = 0  # leases written, for tests and benchmarks
        self.reports = 0  # status reports sent

    async def run(self) -> None:
        """Tick until cancelled."""
        loop = asyncio.get_running_loop()
        tick = self.config.renew_interval / self.slots
        in_flight: deque[asyncio.Task[None]] = deque()
        most = max(1, self.slots // 4)  # ticks in flight at once (module docstring)
        start = loop.time()
        turn = 0
        try:
            while True:
                for slot in range(self.slots):
                    due = start + (turn * self.slots + slot) * tick
                    delay = due - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    while in_flight and (in_flight[0].done() or len(in_flight) >= most):
                        await in_flight.popleft()
                    in_flight.append(asyncio.create_task(
                        self.beat(self.nodes[slot::self.slots], loop.time())))
                turn += 1
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def beat(self, batch: Sequence[NodeRecord], now: float) -> None:
        """Renew the batch's leases and send the reports that are due, together."""
        batch = [node for node in batch if not node.silent]
        work = [self.renew(node) for node in batch]
        work += [self.report(node, now) for node in batch if node.next_report <= now]
        results = await asyncio.gather(*work, return_exceptions=True)
        for result in results:
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, Exception):
                # One failed write must not stop the wheel: the node retries next turn.
                log.warning("simulated node heartbeat failed: %s", result)

    async def renew(self, node: NodeRecord) -> None:
        lease = await node_lease.renew(self.client, node.name, node.uid,
                                       self.config.lease_duration_seconds, node.lease,
                                       self.clock())
        # Kept without managedFields, as the informers keep it: the next renewal writes
        # it back without them and the server keeps its own, and the version kept is
        # the very object the node lifecycle loop's informer holds, not a second copy.
        node.lease = None if lease is None else strip_managed_fields(lease)
        if node.lease is not None:
            self.renewals += 1

    async def report(self, node: NodeRecord, now: float) -> None:
        node.next_report = now + self.config.status_report_frequency
        recovered, node.recovered = node.recovered, False
        await self.client.patch("nodes", node.name,
                                heartbeat_patch(self.clock(), recovered=recovered),
                                type="strategic", subresource="status")
        self.reports += 1

    def silence(self, name: str) -> None:
        """Stop one node's heartbeat, as if its kubelet had died (tests, and watching
        the node lifecycle loop at work)."""
        self._record(name).silent = True

    def resume(self, name: str) -> None:
        """Start a silenced node's heartbeat again; it reports its status at once, as a
        restarted kubelet finds its conditions changed and posts them."""
        record = self._record(name)
        record.silent, record.recovered, record.next_report = False, True, 0.0

    def _record(self, name: str) -> NodeRecord:
        for record in self.nodes:
            if record.name == name:
                return record
        raise KeyError(f"no simulated node {name}")
