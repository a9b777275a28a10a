"""The node loops (nodelifecycle, taint-eviction-controller, nodeipam) against a real
in-process API server on SQLite, with simulated nodes and the scheduler.

The loops' clock is a test clock moved by hand. A silenced node is found silent only
once the clock has moved past the grace period *and* the healthy nodes' renewals have
been seen after each step, so no healthy node is ever taken for silent and nothing
here waits on wall-clock time."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.settings import LoopSettings
from kubelite.controllers.node_settings import NodeSettings
from kubelite.controllers.nodelifecycle import NodeLifecycleLoop
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.scheduler.scheduler import KubeScheduler
from tests.test_scheduler import eventually, running

Obj = dict[str, Any]
NS = "default"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
GRACE = 40.0
KEEP = "kubelite.test/keep"


class HandClock:
    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now


@dataclass
class Cluster:
    client: Client
    sim: SimulatedNodes
    manager: ControllerManager
    clock: HandClock

    @property
    def lifecycle(self) -> NodeLifecycleLoop:
        loop = self.manager.loops["nodelifecycle"]
        assert isinstance(loop, NodeLifecycleLoop)
        return loop

    async def pass_time(self, seconds: float, *, healthy: list[str]) -> None:
        """Move the loops' clock in steps shorter than the grace period, each time
        until the lifecycle loop has seen every healthy node renew at the new time."""
        step = GRACE / 3
        while seconds > 0:
            self.clock.now += datetime.timedelta(seconds=min(step, seconds))
            seconds -= step
            await until(lambda: all(
                (p := self.lifecycle.probes.get(n)) is not None and p.time == self.clock.now
                for n in healthy))


@contextlib.asynccontextmanager
async def node_cluster(client: Client, controllers: list[str], *,
                       nodes: int = 3) -> AsyncIterator[Cluster]:
    clock = HandClock()
    settings = NodeSettings(monitor_period=0.05, monitor_grace_period=GRACE, clock=clock,
                            cluster_cidrs=("10.42.0.0/16",))
    # renewals every 0.1 s, so the healthy nodes show news after every step of the clock
    sim = SimulatedNodes(client, NodeConfig(count=nodes, cpu="4", memory="8Gi",
                                            renew_interval=0.1))
    sched = KubeScheduler(client, seed=1)
    manager = ControllerManager(client, controllers=controllers,
                                settings=LoopSettings(node=settings))
    async with running(sim.run()), running(sched.run()), running(manager.run()):
        async with asyncio.timeout(15):
            await sim.registered.wait()
            await sched.leading.wait()
            await manager.leading.wait()
            while sim.heartbeat is None:
                await asyncio.sleep(0.01)
        yield Cluster(client, sim, manager, clock)


async def until(check: Callable[[], bool]) -> None:
    """Until `check()` holds (it reads a loop's memory, not the API)."""
    async def probe() -> bool:
        return check()
    await eventually(probe)


async def node(client: Client, name: str) -> Obj:
    got: Obj = await client.get("nodes", name)
    return got


def condition(obj: Obj, type_: str) -> Obj:
    return next(c for c in obj["status"].get("conditions") or () if c["type"] == type_)


def taints(obj: Obj) -> set[tuple[str, str]]:
    return {(t["key"], t["effect"]) for t in obj["spec"].get("taints") or ()}


def pod_on(name: str, node_name: str, *, finalizers: tuple[str, ...] = (), **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "finalizers": list(finalizers)},
            "spec": {"nodeName": node_name,
                     "containers": [{"name": "app", "image": "nginx"}], **spec}}


async def running_pod(client: Client, manifest: Obj) -> Obj:
    await client.create("pods", manifest, namespace=NS)
    name = manifest["metadata"]["name"]

    async def ready() -> Obj | None:
        pod: Obj = await client.get("pods", name, namespace=NS)
        conds = pod["status"].get("conditions") or ()
        return pod if any(c["type"] == "Ready" and c["status"] == "True" for c in conds) \
            else None
    got: Obj = await eventually(ready)
    return got


async def events_for(client: Client, name: str, reason: str) -> list[Obj]:
    items = (await client.list("events", namespace=NS))["items"]
    return [e for e in items if e["involvedObject"]["name"] == name and e["reason"] == reason]


async def test_a_silent_node_goes_unknown_and_unreachable_and_recovers(client: Client) -> None:
    async with node_cluster(client, ["nodelifecycle"]) as cluster:
        await running_pod(client, pod_on("web", "sim-1"))
        cluster.sim.silence("sim-1")
        # twice the grace: a renewal already in flight when it fell silent may land late
        await cluster.pass_time(2 * GRACE, healthy=["sim-0", "sim-2"])

        async def unreachable() -> Obj | None:
            got = await node(client, "sim-1")
            return got if (UNREACHABLE, "NoExecute") in taints(got) else None
        silent = await eventually(unreachable)
        ready = condition(silent, "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == (
            "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
        assert {condition(silent, t)["status"] for t in
                ("MemoryPressure", "DiskPressure", "PIDPressure")} == {"Unknown"}
        assert taints(silent) == {(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")}
        assert all(t.get("timeAdded") for t in silent["spec"]["taints"])
        for healthy in ("sim-0", "sim-2"):
            got = await node(client, healthy)
            assert (condition(got, "Ready")["status"], taints(got)) == ("True", set())

        async def pod_not_ready() -> bool:
            pod = await client.get("pods", "web", namespace=NS)
            return condition(pod, "Ready")["status"] == "False"
        await eventually(pod_not_ready)
        assert await eventually(lambda: events_for(client, "web", "NodeNotReady"))
        assert await eventually(lambda: events_for(client, "sim-1", "NodeNotReady"))

        cluster.sim.resume("sim-1")

        async def recovered() -> bool:
            got = await node(client, "sim-1")
            return condition(got, "Ready")["status"] == "True" and not taints(got)
        await eventually(recovered)

        async def pod_ready_again() -> bool:  # its kubelet posts the pod's status again
            pod = await client.get("pods", "web", namespace=NS)
            return condition(pod, "Ready")["status"] == "True"
        await eventually(pod_ready_again)


async def test_conditions_and_unschedulable_become_no_schedule_taints(client: Client) -> None:
    async with node_cluster(client, ["nodelifecycle"]):
        got = await node(client, "sim-0")
        got["spec"]["unschedulable"] = True
        await client.update("nodes", got)
        await client.patch("nodes", "sim-0", {"status": {"conditions": [
            {"type": "MemoryPressure", "status": "True"},
            {"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}},
            type="strategic", subresource="status")
        wanted = {("node.kubernetes.io/unschedulable", "NoSchedule"),
                  ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                  (NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")}

        async def tainted() -> bool:
            return taints(await node(client, "sim-0")) == wanted
        await eventually(tainted)

        got = await node(client, "sim-0")
        got["spec"]["unschedulable"] = False
        await client.update("nodes", got)
        await client.patch("nodes", "sim-0", {"status": {"conditions": [
            {"type": "MemoryPressure", "status": "False"},
            {"type": "Ready", "status": "True", "reason": "KubeletReady"}]}},
            type="strategic", subresource="status")

        async def clean() -> bool:
            return not taints(await node(client, "sim-0"))
        await eventually(clean)


async def test_a_taint_write_that_loses_a_race_reads_the_node_and_wins(client: Client) -> None:
    """A new node's status, podCIDR and taints are written by three parties at once:
    the lifecycle loop's write from a copy another writer has overtaken retries on the
    node as it is now, keeping the other write, instead of failing the sync."""
    async with node_cluster(client, ["nodelifecycle"]) as cluster:
        stale = await node(client, "sim-0")
        stale["status"]["conditions"] = [
            {**c, "status": "False"} if c["type"] == "Ready" else c
            for c in stale["status"]["conditions"]]
        fresh = await node(client, "sim-0")
        fresh["metadata"].setdefault("labels", {})[KEEP] = "yes"
        await client.update("nodes", fresh)  # overtakes `stale`
        written = await cluster.lifecycle._reconcile_taints(stale, "2026-01-01T00:00:00Z")
        assert written["metadata"]["labels"][KEEP] == "yes"
        assert taints(await node(client, "sim-0")) == set()  # sim-0 is Ready as it is now


async def set_taints(client: Client, name: str, wanted: list[Obj]) -> None:
    got = await node(client, name)
    got["spec"]["taints"] = wanted
    await client.update("nodes", got)


def tolerating(seconds: int | None) -> list[Obj]:
    toleration: Obj = {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        toleration["tolerationSeconds"] = seconds
    return [toleration]


async def test_an_untolerated_no_execute_taint_evicts_at_once(client: Client) -> None:
    async with node_cluster(client, ["taint-eviction-controller"]):
        await running_pod(client, pod_on("stays", "sim-0", tolerations=tolerating(None)))
        await running_pod(client, pod_on("goes", "sim-0"))
        await set_taints(client, "sim-0", [{"key": "dedicated", "effect": "NoExecute"}])

        async def evicted() -> bool:
            names = {p["metadata"]["name"] for p in
                     (await client.list("pods", namespace=NS))["items"]}
            return names == {"stays"}
        await eventually(evicted)
        event = (await eventually(lambda: events_for(client, "goes", "TaintManagerEviction")))[0]
        assert event["message"] == "Marking for deletion Pod default/goes"
        assert event["source"]["component"] == "taint-eviction-controller"


async def test_toleration_seconds_delay_the_eviction(client: Client) -> None:
    async with node_cluster(client, ["taint-eviction-controller"]) as cluster:
        loop = cluster.manager.loops["taint-eviction-controller"]
        # a finalizer keeps the deleted pod readable
        await running_pod(client, pod_on("web", "sim-0", tolerations=tolerating(30),
                                         finalizers=(KEEP,)))
        await set_taints(client, "sim-0", [{"key": "dedicated", "effect": "NoExecute"}])
        await until(lambda: "default/web" in getattr(loop, "countdowns"))
        assert "deletionTimestamp" not in (await client.get("pods", "web",
                                                             namespace=NS))["metadata"]
        cluster.clock.now += datetime.timedelta(seconds=31)
        # the loop looks again when its countdown ends; a change to the pod also wakes it
        await client.patch("pods", "web", {"metadata": {"labels": {"touched": "yes"}}},
                           namespace=NS)

        async def disrupted() -> Obj | None:
            pod: Obj = await client.get("pods", "web", namespace=NS)
            conds = {c["type"]: c for c in pod["status"].get("conditions") or ()}
            target = conds.get("DisruptionTarget")
            return target if pod["metadata"].get("deletionTimestamp") and target else None
        target = await eventually(disrupted)
        assert (target["status"], target["reason"], target["message"]) == (
            "True", "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint")
        await client.patch("pods", "web", {"metadata": {"finalizers": None}}, namespace=NS)


async def test_a_removed_taint_cancels_the_countdown(client: Client) -> None:
    async with node_cluster(client, ["taint-eviction-controller"]) as cluster:
        loop = cluster.manager.loops["taint-eviction-controller"]
        await running_pod(client, pod_on("web", "sim-0", tolerations=tolerating(300)))
        await set_taints(client, "sim-0", [{"key": "dedicated", "effect": "NoExecute"}])
        await until(lambda: "default/web" in getattr(loop, "countdowns"))
        await set_taints(client, "sim-0", [])
        event = (await eventually(lambda: events_for(client, "web", "TaintManagerEviction")))[0]
        assert event["message"] == "Cancelling deletion of Pod default/web"
        assert "default/web" not in getattr(loop, "countdowns")


async def test_nodes_without_a_pod_cidr_get_the_next_free_one(client: Client) -> None:
    async with node_cluster(client, ["nodeipam"], nodes=2):
        for name in ("bare-0", "bare-1"):
            await client.create("nodes", {"apiVersion": "v1", "kind": "Node",
                                          "metadata": {"name": name}})

        async def cidrs() -> dict[str, list[str]] | None:
            got = {n: (await node(client, n)).get("spec", {}).get("podCIDRs") for n in
                   ("bare-0", "bare-1")}
            return got if all(got.values()) else None
        given = await eventually(cidrs)
        # the simulated nodes hold 10.42.0.0/24 and 10.42.1.0/24 already
        assert sorted(c for v in given.values() for c in v) == ["10.42.2.0/24", "10.42.3.0/24"]
        assert (await node(client, "bare-0"))["spec"]["podCIDR"] == given["bare-0"][0]
        assert (await node(client, "sim-0"))["spec"]["podCIDRs"] == ["10.42.0.0/24"]

        await client.delete("nodes", "bare-0")
        await client.create("nodes", {"apiVersion": "v1", "kind": "Node",
                                      "metadata": {"name": "bare-2"}})

        async def third() -> list[str] | None:
            got: list[str] | None = (await node(client, "bare-2")).get("spec", {}).get("podCIDRs")
            return got
        assert await eventually(third) == ["10.42.4.0/24"]  # the freed one comes last


async def test_an_exhausted_cluster_cidr_is_reported_on_the_node(client: Client) -> None:
    settings = NodeSettings(cluster_cidrs=("10.42.0.0/30",), node_cidr_mask_ipv4=31)
    manager = ControllerManager(client, controllers=["nodeipam"],
                                settings=LoopSettings(node=settings))
    async with running(manager.run()):
        await asyncio.wait_for(manager.leading.wait(), 15)
        for index in range(3):
            await client.create("nodes", {"apiVersion": "v1", "kind": "Node",
                                          "metadata": {"name": f"n{index}"}})

        async def full_event() -> list[Obj]:
            items = (await client.list("events", namespace="default"))["items"]
            return [e for e in items if e["reason"] == "CIDRNotAvailable"]
        event = (await eventually(full_event))[0]
        assert event["message"] == f"Node {event['involvedObject']['name']} status is now: " \
                                   "CIDRNotAvailable"
        given = [(await node(client, f"n{i}")).get("spec", {}).get("podCIDR") for i in range(3)]
        assert sorted(c for c in given if c) == ["10.42.0.0/31", "10.42.0.2/31"]
