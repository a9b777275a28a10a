"""The pod half of the simulated kubelets: one informer and one controller for all nodes.

A real kubelet watches the pods bound to its own node. Thousands of simulated nodes
in one process share a single pod informer instead (field selector
`spec.nodeName!=`: bound pods only) and a single controller whose `sync(key)` acts
for whichever simulated node the pod is bound to; pods bound to other nodes are
ignored. Timers are the work queue's delayed adds, one per pod waiting to exit,
never one per node.

`sync` is level-triggered, reading the pod from the informer's cache:
- bound to a simulated node and not started: allocate an IP from the node's podCIDR
  and report it Running (podstatus.running_status);
- running with a `sim.kubelite.io/exit-after` plan: when due, the containers exit;
  restartPolicy Never, or OnFailure with exit code 0, finishes the pod (Succeeded or
  Failed), otherwise the containers restart (restartCount + 1). Restarts are spaced by
  at least MIN_RESTART_PERIOD, which bounds the write rate of a `0s` plan;
- with a deletionTimestamp: the containers stop at once (a simulated process exits on
  SIGTERM without using its grace period), the terminal status is reported as a
  kubelet does since 1.27, and the pod is deleted with gracePeriodSeconds=0 and its
  uid as precondition;
- finished or gone: its IP returns to the node's pool.

Status writes are JSON merge patches of `status` on pods/status: the kubelet owns
every field it sends, and no resourceVersion conflict can arise with the binding or
other writers of metadata.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from kubelite.client.controller import Controller, TemporaryError
from kubelite.client.informer import Informer, strip_managed_fields
from kubelite.client.rest import Client
from kubelite.client.store import object_key, split_key
from kubelite.kubelet.simulated.heartbeat import Clock, wall_clock
from kubelite.kubelet.simulated.nodes import NodeConfig, Obj, node_address
from kubelite.kubelet.simulated.podstatus import (
    exit_plan, finished_status, kubelet_conditions_hold, restarted_status, restarts_after_exit,
    restored_conditions, running_status, started_at)
from kubelite.machinery import errors
from kubelite.machinery.timestamps import format_time, parse_rfc3339

log = logging.getLogger(__name__)

MIN_RESTART_PERIOD = 1.0
NODE_INDEX = "spec.nodeName"
TERMINAL = ("Succeeded", "Failed")


class AddressPool:
    """Pod IPs per node, from the node's podCIDR: .1 is left for a gateway, the
    rest are handed out lowest first and returned when the pod finishes."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self._by_node: dict[int, dict[str, int]] = {}  # node index -> pod uid -> offset

    def allocate(self, index: int, uid: str) -> str:
        taken = self._by_node.setdefault(index, {})
        cidr = self.config.pod_cidr(index)
        if uid in taken:
            return str(cidr.network_address + taken[uid])
        used = set(taken.values())
        for offset in range(2, cidr.num_addresses - 1):
            if offset not in used:
                taken[uid] = offset
                return str(cidr.network_address + offset)
        # The pod waits, as a real pod waits for its sandbox, until an IP is freed.
        raise TemporaryError(f"no free pod IP left in {cidr}", delay=5.0)

    def reserve(self, index: int, uid: str, ip: str) -> None:
        """Remember an IP a pod already has (found running after a restart)."""
        cidr = self.config.pod_cidr(index)
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError:
            return
        if address in cidr:
            self._by_node.setdefault(index, {})[uid] = int(address) - int(cidr.network_address)

    def release(self, index: int, uid: str) -> None:
        taken = self._by_node.get(index)
        if taken is not None:
            taken.pop(uid, None)
            if not taken:
                del self._by_node[index]

    def in_use(self, index: int) -> int:
        return len(self._by_node.get(index, ()))


def _node_of(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def _uid(pod: Obj) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")


class PodSimulator:
    def __init__(self, client: Client, config: NodeConfig, *, workers: int = 8,
                 clock: Clock = wall_clock) -> None:
        self.client = client
        self.config = config
        self.clock = clock
        self.addresses = AddressPool(config)
        self.informer = Informer(client, "pods", field_selector="spec.nodeName!=",
                                 transform=strip_managed_fields)
        self.informer.add_indexers({NODE_INDEX: lambda pod: [_node_of(pod)]})
        self.controller: Controller[str] = Controller("simulated-pods", self.sync,
                                                      workers=workers)
        self._started: dict[str, float] = {}  # pod uid -> loop time its containers started
        self._silent: set[int] = set()  # nodes whose kubelet is down: their pods stay as they are
        self.informer.add_event_handler(on_add=self._on_add, on_update=self._on_update,
                                        on_delete=self._on_delete)

    def pods_on(self, node: str) -> list[Obj]:
        """The pods bound to a node, from the informer's cache."""
        return self.informer.indexer.by_index(NODE_INDEX, node)

    # --- events: turn pods into keys ---------------------------------------------------

    def _ours(self, pod: Obj) -> int | None:
        index = self.config.index_of(_node_of(pod))
        return None if index in self._silent else index

    def silence(self, node: str) -> None:
        """Leave the node's pods as they are, as a dead kubelet does: not started, not
        finished, their status not put back."""
        index = self.config.index_of(node)
        if index is not None:
            self._silent.add(index)

    def resume(self, node: str) -> None:
        """Look after the node's pods again, each synced at once."""
        index = self.config.index_of(node)
        if index is not None and index in self._silent:
            self._silent.discard(index)
            for pod in self.pods_on(node):
                self.controller.enqueue(object_key(pod))

    def _on_add(self, pod: Obj) -> None:
        index = self._ours(pod)
        if index is None:
            return
        ip = (pod.get("status") or {}).get("podIP")
        if ip and (pod.get("status") or {}).get("phase") not in TERMINAL:
            self.addresses.reserve(index, _uid(pod), str(ip))
        self.controller.enqueue(object_key(pod))

    def _on_update(self, old: Obj, new: Obj) -> None:
        if self._ours(new) is not None:
            self.controller.enqueue(object_key(new))

    def _on_delete(self, pod: Obj) -> None:
        index = self._ours(pod)
        if index is not None:
            self.addresses.release(index, _uid(pod))
            self._started.pop(_uid(pod), None)

    # --- running ---------------------------------------------------------------------------

    async def run(self) -> None:
        self.informer.start()
        try:
            await self.informer.wait_for_sync()
            await self.controller.run()
        finally:
            await self.informer.stop()

    def _now(self) -> str:
        return format_time(self.clock())

    async def sync(self, key: str) -> None:
        pod = self.informer.lister.get(*split_key(key))
        if pod is None:
            return  # gone: _on_delete gave its IP back
        index = self._ours(pod)
        if index is None:
            return
        uid = _uid(pod)
        status = pod.get("status") or {}
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            await self._finish_deleted(pod, index)
        elif status.get("phase") in TERMINAL:
            self.addresses.release(index, uid)
            self._started.pop(uid, None)
        elif status.get("phase") != "Running" or not status.get("podIP"):
            await self._start(pod, index)
        elif not kubelet_conditions_hold(pod):
            # the status manager: what another writer changed is posted again
            await self._patch_status(pod, restored_conditions(pod, now=self._now()))
        else:
            await self._check_exit(pod, index)

    async def _patch_status(self, pod: Obj, status: Obj) -> None:
        meta = pod["metadata"]
        await self.client.patch("pods", meta["name"], {"status": status}, type="merge",
                                namespace=meta["namespace"], subresource="status")

    async def _start(self, pod: Obj, index: int) -> None:
        uid = _uid(pod)
        ip = self.addresses.allocate(index, uid)
        status = running_status(pod, host_ip=node_address(index), pod_ip=ip, now=self._now())
        await self._patch_status(pod, status)
        self._started[uid] = asyncio.get_running_loop().time()

    async def _check_exit(self, pod: Obj, index: int) -> None:
        try:
            plan = exit_plan(pod)
        except ValueError as err:
            log.warning("pod %s: %s; its containers keep running", object_key(pod), err)
            return
        if plan is None:
            return
        uid = _uid(pod)
        restart_policy = str((pod.get("spec") or {}).get("restartPolicy") or "Always")
        restarts = restarts_after_exit(restart_policy, plan.code)
        after = max(plan.after, MIN_RESTART_PERIOD) if restarts else plan.after
        remaining = self._remaining(pod, uid, after)
        if remaining > 0:
            self.controller.enqueue_after(object_key(pod), remaining)
            return
        if restarts:
            await self._patch_status(pod, restarted_status(pod, code=plan.code, now=self._now()))
            self._started[uid] = asyncio.get_running_loop().time()
        else:
            await self._patch_status(pod, finished_status(pod, code=plan.code, now=self._now()))
            self.addresses.release(index, uid)
            self._started.pop(uid, None)

    def _remaining(self, pod: Obj, uid: str, after: float) -> float:
        """Seconds until the containers are due to exit: from the start this process
        saw (exact), else from the reported startedAt (whole seconds)."""
        loop_started = self._started.get(uid)
        if loop_started is not None:
            return loop_started + after - asyncio.get_running_loop().time()
        started = parse_rfc3339(started_at(pod) or "")
        if started is None:
            return 0.0
        elapsed = (self.clock() - started).total_seconds()
        return after - elapsed

    async def _finish_deleted(self, pod: Obj, index: int) -> None:
        uid = _uid(pod)
        if (pod.get("status") or {}).get("phase") not in TERMINAL:
            await self._patch_status(pod, finished_status(pod, code=0, now=self._now()))
        self.addresses.release(index, uid)
        self._started.pop(uid, None)
        namespace, name = split_key(object_key(pod))
        try:
            await self.client.delete("pods", name, namespace=namespace, grace_period_seconds=0,
                                     preconditions={"uid": uid})
        except (errors.NotFound, errors.Conflict):
            pass  # already gone, or a new pod took the name: nothing left of ours
