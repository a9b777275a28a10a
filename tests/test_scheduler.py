"""The scheduler's loop against a real in-process API server on SQLite, with simulated
nodes running what it binds. (Here, not in kubelite/scheduler/, because it wires three
components together, which only the CLI and the tests may do.)"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from kubelite.client.rest import Client
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.scheduler.scheduler import KubeScheduler

Obj = dict[str, Any]
TIMEOUT = 15.0
STOP_TIMEOUT = 20.0


async def eventually(probe: Callable[[], Awaitable[Any]], timeout: float = TIMEOUT) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            if answer := await probe():
                return answer
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(work: Awaitable[None]) -> AsyncIterator[asyncio.Task[None]]:
    """`work` as a task for the block, cancelled after it; a task that does not end
    within STOP_TIMEOUT of its cancellation fails the test with every task's stack,
    instead of hanging it."""
    task = asyncio.ensure_future(work)
    try:
        yield task
    finally:
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=STOP_TIMEOUT)
        if not done:
            stacks = io.StringIO()
            for other in asyncio.all_tasks():
                other.print_stack(limit=8, file=stacks)
            raise AssertionError(f"{task!r} ignored its cancellation:\n{stacks.getvalue()}")
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def nodes(client: Client) -> AsyncIterator[SimulatedNodes]:
    sim = SimulatedNodes(client, NodeConfig(count=3, cpu="4", memory="8Gi"))
    async with running(sim.run()):
        async with asyncio.timeout(TIMEOUT):
            await sim.registered.wait()
        yield sim


@pytest.fixture
async def scheduler(client: Client, nodes: SimulatedNodes) -> AsyncIterator[KubeScheduler]:
    sched = KubeScheduler(client, seed=1)
    async with running(sched.run()):
        async with asyncio.timeout(TIMEOUT):
            await sched.leading.wait()
        yield sched


def pod(name: str, *, cpu: str = "100m", **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                                     "resources": {"requests": {"cpu": cpu}}}], **spec}}


async def get_pod(client: Client, name: str) -> Obj:
    return await client.get("pods", name, namespace="default")


async def running_on(client: Client, name: str) -> str:
    p = await get_pod(client, name)
    return p["spec"].get("nodeName", "") if p["status"].get("phase") == "Running" else ""


async def unschedulable_condition(client: Client, name: str) -> Obj | None:
    for c in (await get_pod(client, name))["status"].get("conditions") or []:
        if c["type"] == "PodScheduled" and c["status"] == "False":
            return c
    return None


async def failed_scheduling_events(client: Client, name: str) -> list[Obj]:
    events = (await client.list("events", namespace="default"))["items"]
    return [e for e in events if e["involvedObject"]["name"] == name
            and e["reason"] == "FailedScheduling"]


async def test_a_pod_is_bound_and_runs_on_a_simulated_node(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("pods", pod("web"), namespace="default")
    node = await eventually(lambda: running_on(client, "web"))
    assert node in {"sim-0", "sim-1", "sim-2"}
    condition = {c["type"]: c["status"] for c in (await get_pod(client, "web"))["status"]["conditions"]}
    assert condition["PodScheduled"] == "True"
    lease = await client.get("leases.coordination.k8s.io", "kube-scheduler",
                             namespace="kube-system")
    assert lease["spec"]["holderIdentity"] == scheduler.identity

    async def scheduled_events() -> list[Obj]:
        events = (await client.list("events", namespace="default"))["items"]
        return [e for e in events if e["reason"] == "Scheduled"]

    [event] = await eventually(scheduled_events)
    assert (event["type"], event["message"]) == ("Normal", f"Successfully assigned default/web to {node}")
    assert event["involvedObject"]["name"] == "web" and event["source"]["component"] == "default-scheduler"


async def test_node_selector_picks_the_labelled_node(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.patch("nodes", "sim-1", {"metadata": {"labels": {"disk": "ssd"}}})
    for i in range(4):
        await client.create("pods", pod(f"ssd-{i}", nodeSelector={"disk": "ssd"}),
                            namespace="default")
    for i in range(4):
        assert await eventually(lambda: running_on(client, f"ssd-{i}")) == "sim-1"


async def test_a_pod_too_big_stays_pending_until_a_node_fits(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("pods", pod("huge", cpu="6"), namespace="default")
    condition = await eventually(lambda: unschedulable_condition(client, "huge"))
    # the nodes hold no pod of lower priority to preempt, and upstream says so
    message = ("0/3 nodes are available: 3 Insufficient cpu."
               " preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.")
    assert (condition["reason"], condition["message"]) == ("Unschedulable", message)
    assert (await get_pod(client, "huge"))["status"]["phase"] == "Pending"
    [event] = await eventually(lambda: failed_scheduling_events(client, "huge"))
    assert (event["type"], event["message"]) == ("Warning", message)
    assert event["source"]["component"] == "default-scheduler"
    assert event["reportingComponent"] == "default-scheduler"
    assert event["involvedObject"]["kind"] == "Pod"

    # a bigger node arriving wakes the pod (NodeAdd), with no backoff left to wait out
    big = SimulatedNodes(client, NodeConfig(count=1, name_prefix="big-", cpu="8",
                                            cluster_cidr="10.44.0.0/16"))
    async with running(big.run()):
        assert await eventually(lambda: running_on(client, "huge")) == "big-0"


async def test_a_pod_of_another_scheduler_is_left_alone(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("pods", pod("theirs", schedulerName="my-scheduler"),
                        namespace="default")
    await client.create("pods", pod("ours"), namespace="default")
    await eventually(lambda: running_on(client, "ours"))
    await scheduler.wait_idle()
    theirs = await get_pod(client, "theirs")
    assert "nodeName" not in theirs["spec"]
    assert not theirs["status"].get("conditions")
    assert await failed_scheduling_events(client, "theirs") == []


async def test_assumed_pods_keep_two_pods_off_a_node_only_one_fits(
        client: Client, scheduler: KubeScheduler) -> None:
    names = [f"half-{i}" for i in range(6)]
    for name in names:  # 3 nodes x 4 cpu hold three 3-cpu pods, not six
        await client.create("pods", pod(name, cpu="3"), namespace="default")
    bound, pending = await eventually(lambda: _settled(client, names))
    assert (bound, pending) == (["sim-0", "sim-1", "sim-2"], 3)


async def _settled(client: Client, names: list[str]) -> tuple[list[str], int] | None:
    """Nodes of the bound pods and the number of unschedulable ones, once all are one
    or the other."""
    bound, pending = [], 0
    for name in names:
        if node := (await get_pod(client, name))["spec"].get("nodeName"):
            bound.append(node)
        elif await unschedulable_condition(client, name) is not None:
            pending += 1
    return (sorted(bound), pending) if len(bound) + pending == len(names) else None


async def test_repeated_failures_add_to_one_event(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("pods", pod("huge", cpu="6"), namespace="default")
    await eventually(lambda: failed_scheduling_events(client, "huge"))
    # a label change may help (NodeResourcesFit listens for node updates, upstream's
    # widening without queueing hints): the pod is tried again and fails the same way
    await client.patch("nodes", "sim-0", {"metadata": {"labels": {"tier": "gold"}}})

    async def counted_twice() -> list[Obj]:
        events = await failed_scheduling_events(client, "huge")
        return events if events and events[0]["count"] >= 2 else []

    [event] = await eventually(counted_twice)
    assert event["message"] == ("0/3 nodes are available: 3 Insufficient cpu."
                                " preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.")
    condition = await unschedulable_condition(client, "huge")
    assert condition is not None and condition["reason"] == "Unschedulable"


async def test_a_rejected_binding_forgets_the_pod_and_backs_off(client: Client) -> None:
    # the loop's pieces driven by hand: the pod is bound by someone else between the
    # scheduler's informer seeing it and its own binding, so the API answers Conflict
    sched = KubeScheduler(client, seed=1)
    node = {"metadata": {"name": "n1"},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}
    sched.table.set_node(node)
    created = await client.create("pods", pod("raced"), namespace="default")
    sched.queue.add(created)
    info = await sched.queue.pop()
    assert info is not None
    await client.bind("raced", "elsewhere", namespace="default")
    sched.schedule_one(info)
    assert sched.table.pods_on("n1") == {"default/raced"}  # assumed while binding
    await sched.wait_idle()
    assert sched.table.pods_on("n1") == set()
    assert [p["metadata"]["name"] for p in sched.queue.pending_pods().backoff] == ["raced"]
    [event] = await failed_scheduling_events(client, "raced")
    assert event["message"].startswith('running Bind plugin "DefaultBinder": ')  # upstream's words
    assert "already assigned" in event["message"] or "elsewhere" in event["message"], event


class _NeedsClaim:
    """A plugin reading PersistentVolumeClaims through the lister the loop hands it: no node
    fits until a claim named `ticket` exists."""

    name = "NeedsClaim"
    watches = ("persistentvolumeclaims",)

    def __init__(self) -> None:
        self.claims: Any = None

    def use_listers(self, listers: Any) -> None:
        self.claims = listers["persistentvolumeclaims"]

    def filter(self, state: Any, pod: Obj, nodes: Any) -> Any:
        from kubelite.scheduler.framework import Verdict
        verdict = Verdict(len(nodes))
        if self.claims.get("default", "ticket") is None:
            verdict.reject(np.ones(len(nodes), dtype=np.bool_), "no ticket")
        return verdict


async def test_a_plugin_reads_a_watched_resource_and_its_changes_wake_pods(
        client: Client, nodes: SimulatedNodes) -> None:
    from kubelite.scheduler.schedule_one import Profile
    profile = Profile.default()
    profile.plugins.append(_NeedsClaim())
    sched = KubeScheduler(client, seed=1, profile=profile)
    async with running(sched.run()):
        await client.create("pods", pod("waiting"), namespace="default")
        condition = await eventually(lambda: unschedulable_condition(client, "waiting"))
        assert condition["message"] == ("0/3 nodes are available: 3 no ticket."
                                        " preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.")
        claim = {"metadata": {"name": "ticket"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
        await client.create("persistentvolumeclaims", claim, namespace="default")
        assert await eventually(lambda: running_on(client, "waiting"))
