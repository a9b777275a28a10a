"""The pod garbage collector against a real in-process API server on SQLite: finished
pods over the threshold, pods of deleted nodes after the quarantine (injected clock),
terminating pods on out-of-service nodes and unscheduled terminating pods."""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.client.rest import Client
from kubelite.controllers.podgc import PodGCLoop
from kubelite.machinery import errors
from tests.loops import run_loops
from tests.test_scheduler import eventually

Obj = dict[str, Any]
NS = "default"
HOLD = "example.com/hold"  # a finalizer, so a deleted pod can still be read


class Clock:
    def __init__(self) -> None:
        self.now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now


async def pod(client: Client, name: str, *, node: str = "", phase: str = "Running",
              hold: bool = False, **status: Any) -> Obj:
    meta: Obj = {"name": name}
    if hold:
        meta["finalizers"] = [HOLD]
    spec: Obj = {"containers": [{"name": "c", "image": "nginx"}]}
    if node:
        spec["nodeName"] = node
    created = await client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                                           "spec": spec}, namespace=NS)
    created["status"] = {"phase": phase, **status}
    written: Obj = await client.update_status("pods", created, namespace=NS)
    return written


async def node(client: Client, name: str, *, ready: str, taints: list[Obj]) -> None:
    created = await client.create("nodes", {"apiVersion": "v1", "kind": "Node",
                                            "metadata": {"name": name},
                                            "spec": {"taints": taints}})
    created["status"] = {"conditions": [{"type": "Ready", "status": ready}]}
    await client.update_status("nodes", created)


async def names(client: Client) -> list[str]:
    return sorted(p["metadata"]["name"] for p in (await client.list("pods", namespace=NS))["items"])


async def release(client: Client, name: str) -> None:
    await client.patch("pods", name, {"metadata": {"finalizers": None}}, namespace=NS)


async def after_passes(loop: PodGCLoop, count: int) -> None:
    """Until `count` more passes than now have finished."""
    target = loop.passes + count

    async def done() -> bool:
        return loop.passes >= target

    await eventually(done)


def target_condition(p: Obj) -> Obj | None:
    for c in p["status"].get("conditions") or ():
        if c["type"] == "DisruptionTarget":
            return dict(c)
    return None


def gc(clock: Clock, threshold: int = 12500) -> Any:
    return lambda ctx: PodGCLoop(ctx, clock=clock, period=0.02,
                                 terminated_pod_gc_threshold=threshold)


async def test_finished_pods_over_the_threshold_go_evicted_then_oldest_first(
        client: Client) -> None:
    for name in ("t1", "t2", "t3"):
        await pod(client, name, phase="Succeeded")
    await pod(client, "t9", phase="Failed", reason="Evicted")
    await pod(client, "running", node="some-node")
    async with run_loops(client, gc(Clock(), threshold=2)):
        async def left() -> list[str] | None:
            now = await names(client)
            return now if len(now) == 3 else None

        assert await eventually(left) == ["running", "t2", "t3"]


async def test_pods_of_a_deleted_node_go_after_the_quarantine(client: Client) -> None:
    clock = Clock()
    await node(client, "alive", ready="True", taints=[])
    await pod(client, "orphan", node="gone", hold=True)
    await pod(client, "kept", node="alive")
    async with run_loops(client, gc(clock)) as [loop]:
        await after_passes(loop, 2)
        orphan = await client.get("pods", "orphan", namespace=NS)
        assert not orphan["metadata"].get("deletionTimestamp")  # quarantined, not yet gone
        clock.now += datetime.timedelta(seconds=41)

        async def deleted() -> Obj | None:
            p = await client.get("pods", "orphan", namespace=NS)
            return p if p["metadata"].get("deletionTimestamp") else None

        orphan = await eventually(deleted)
        assert orphan["status"]["phase"] == "Failed"
        cond = target_condition(orphan)
        assert cond is not None and (cond["status"], cond["reason"], cond["message"]) == (
            "True", "DeletionByPodGC", "PodGC: node no longer exists")
        await release(client, "orphan")
        await eventually(lambda: _gone(client, "orphan"))
        await after_passes(loop, 2)
        assert await names(client) == ["kept"]


async def _gone(client: Client, name: str) -> bool:
    try:
        await client.get("pods", name, namespace=NS)
    except errors.NotFound:
        return True
    return False


async def test_a_node_that_registers_during_the_quarantine_keeps_its_pods(
        client: Client) -> None:
    clock = Clock()
    await pod(client, "early", node="late-node")
    async with run_loops(client, gc(clock)) as [loop]:
        await after_passes(loop, 2)
        await node(client, "late-node", ready="True", taints=[])
        clock.now += datetime.timedelta(seconds=41)
        await after_passes(loop, 3)
        assert await names(client) == ["early"]


async def test_terminating_pods_on_an_out_of_service_node_are_failed_and_deleted(
        client: Client) -> None:
    taint = {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown",
             "effect": "NoExecute"}
    await node(client, "down", ready="False", taints=[taint])
    await node(client, "up", ready="True", taints=[taint])
    for name, where in (("on-down", "down"), ("on-up", "up"), ("idle-on-down", "down")):
        await pod(client, name, node=where, hold=True)
    for name in ("on-down", "on-up"):
        await client.delete("pods", name, namespace=NS)  # graceful: a kubelet should finish it
    async with run_loops(client, gc(Clock())) as [loop]:
        async def failed(name: str) -> Obj | None:
            p = await client.get("pods", name, namespace=NS)
            return p if p["status"]["phase"] == "Failed" else None

        down = await eventually(lambda: failed("on-down"))
        assert target_condition(down) is None
        await after_passes(loop, 2)
        assert (await client.get("pods", "on-up", namespace=NS))["status"]["phase"] == "Running"
        idle = await client.get("pods", "idle-on-down", namespace=NS)
        assert idle["status"]["phase"] == "Running" and not idle["metadata"].get("deletionTimestamp")
    for name in ("on-down", "on-up", "idle-on-down"):
        await release(client, name)


async def test_an_unscheduled_terminating_pod_is_failed_and_deleted(client: Client) -> None:
    await pod(client, "never-bound", phase="Pending", hold=True)
    await client.delete("pods", "never-bound", namespace=NS)
    async with run_loops(client, gc(Clock())):
        async def failed() -> Obj | None:
            p = await client.get("pods", "never-bound", namespace=NS)
            return p if p["status"]["phase"] == "Failed" else None

        assert await eventually(failed)
    await release(client, "never-bound")
