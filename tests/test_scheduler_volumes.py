"""The scheduler's binding cycle against a real in-process API server with simulated nodes:
volumes bound through VolumeBinding's Reserve and PreBind, Permit's waiting pods, and
extended resources. No PV controller or provisioner runs here yet, so the tests play their
part by hand, writing what they would write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.kubelet.simulated import SimulatedNodes
from kubelite.scheduler.framework import Code, CycleState, Status
from kubelite.scheduler.plugins.volume_binding import VolumeBinding
from kubelite.api.volume_claims import ANN_BIND_COMPLETED, ANN_SELECTED_NODE
from kubelite.scheduler.schedule_one import Profile
from kubelite.scheduler.scheduler import KubeScheduler
from tests.test_scheduler import (
    TIMEOUT, eventually, get_pod, nodes, pod, running, running_on, scheduler,
    unschedulable_condition)

__all__ = ["nodes", "scheduler"]  # fixtures shared with test_scheduler.py

Obj = dict[str, Any]


def storage_class(name: str, mode: str, provisioner: str = "example.com/csi") -> Obj:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": provisioner, "volumeBindingMode": mode}


def claim(name: str, storage_class_name: str) -> Obj:
    return {"metadata": {"name": name}, "spec": {
        "storageClassName": storage_class_name, "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}}}}


def local_volume(name: str, node: str, storage_class_name: str, claim_ref: Obj | None = None) -> Obj:
    spec: Obj = {
        "storageClassName": storage_class_name, "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "1Gi"}, "local": {"path": f"/mnt/{name}"},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}
    if claim_ref is not None:
        spec["claimRef"] = claim_ref
    return {"metadata": {"name": name}, "spec": spec}


def pod_using(name: str, claim_name: str) -> Obj:
    return pod(name, volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}])


def reference(pvc: Obj) -> Obj:
    meta = pvc["metadata"]
    return {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": meta["namespace"],
            "name": meta["name"], "uid": meta["uid"]}


async def bind_claim(client: Client, name: str, volume: str) -> None:
    """What the PV controller writes once a claim and its volume point at each other."""
    pvc = await client.get("persistentvolumeclaims", name, namespace="default")
    pvc["spec"]["volumeName"] = volume
    pvc["metadata"].setdefault("annotations", {})[ANN_BIND_COMPLETED] = "yes"
    pvc = await client.update("persistentvolumeclaims", pvc, namespace="default")
    pvc["status"] = {"phase": "Bound"}
    await client.update_status("persistentvolumeclaims", pvc, namespace="default")


async def test_a_wait_for_first_consumer_claim_is_given_the_pods_node_then_binds(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("storageclasses", storage_class("wffc", "WaitForFirstConsumer"))
    await client.create("persistentvolumeclaims", claim("data", "wffc"), namespace="default")
    await client.create("pods", pod_using("app", "data"), namespace="default")

    async def selected_node() -> str:
        pvc = await client.get("persistentvolumeclaims", "data", namespace="default")
        return str((pvc["metadata"].get("annotations") or {}).get(ANN_SELECTED_NODE, ""))

    node = await eventually(selected_node)
    assert node in {"sim-0", "sim-1", "sim-2"}
    # the scheduler waits in PreBind: the pod is not bound while its claim is not
    assert "nodeName" not in (await get_pod(client, "app"))["spec"]

    # a provisioner makes a volume on that node for the claim, and the claim binds to it
    pvc = await client.get("persistentvolumeclaims", "data", namespace="default")
    await client.create("persistentvolumes", local_volume("pv-data", node, "wffc", reference(pvc)))
    await bind_claim(client, "data", "pv-data")
    assert await eventually(lambda: running_on(client, "app")) == node


async def test_a_pod_with_an_unbound_immediate_claim_stays_pending(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("storageclasses", storage_class("fast", "Immediate"))
    await client.create("persistentvolumeclaims", claim("waiting", "fast"), namespace="default")
    await client.create("pods", pod_using("stuck", "waiting"), namespace="default")
    condition = await eventually(lambda: unschedulable_condition(client, "stuck"))
    assert condition["reason"] == "Unschedulable"
    assert condition["message"].startswith(
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.")
    assert "nodeName" not in (await get_pod(client, "stuck"))["spec"]


async def test_a_missing_claim_keeps_the_pod_pending_until_it_exists(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("pods", pod_using("early", "later"), namespace="default")
    condition = await eventually(lambda: unschedulable_condition(client, "early"))
    assert condition["message"].startswith('0/3 nodes are available: persistentvolumeclaim "later" not found.')
    await client.create("storageclasses", storage_class("wffc-later", "WaitForFirstConsumer"))
    await client.create("persistentvolumeclaims", claim("later", "wffc-later"), namespace="default")

    async def selected() -> bool:  # the new claim woke the pod (PersistentVolumeClaim/Add)
        pvc = await client.get("persistentvolumeclaims", "later", namespace="default")
        return ANN_SELECTED_NODE in (pvc["metadata"].get("annotations") or {})

    assert await eventually(selected)


async def test_a_local_volume_pins_its_pods_to_its_node(client: Client, scheduler: KubeScheduler) -> None:
    # a claim already bound to a local volume on sim-1
    await client.create("storageclasses", storage_class("local", "WaitForFirstConsumer",
                                                        provisioner="kubernetes.io/no-provisioner"))
    pvc = await client.create("persistentvolumeclaims", claim("bound", "local"), namespace="default")
    await client.create("persistentvolumes", local_volume("pv-sim-1", "sim-1", "local", reference(pvc)))
    await bind_claim(client, "bound", "pv-sim-1")
    for i in range(3):
        await client.create("pods", pod_using(f"pinned-{i}", "bound"), namespace="default")
    for i in range(3):
        assert await eventually(lambda: running_on(client, f"pinned-{i}")) == "sim-1"

    # an unbound claim whose only Available volume is on sim-2: the scheduler picks sim-2,
    # writes the volume's claimRef, and the pod binds once the claim does
    await client.create("persistentvolumeclaims", claim("unbound", "local"), namespace="default")
    volume = await client.create("persistentvolumes", local_volume("pv-sim-2", "sim-2", "local"))
    volume["status"] = {"phase": "Available"}  # what the PV controller says of a free volume
    await client.update_status("persistentvolumes", volume)
    await client.create("pods", pod_using("follower", "unbound"), namespace="default")

    async def claimed() -> bool:
        pv = await client.get("persistentvolumes", "pv-sim-2")
        return (pv["spec"].get("claimRef") or {}).get("name") == "unbound"

    assert await eventually(claimed)
    await bind_claim(client, "unbound", "pv-sim-2")
    assert await eventually(lambda: running_on(client, "follower")) == "sim-2"


async def test_a_pod_asking_for_an_extended_resource_lands_where_it_is_offered(
        client: Client, scheduler: KubeScheduler) -> None:
    widgets = {"example.com/widget": "2"}
    await client.patch("nodes", "sim-2", {"status": {"capacity": widgets, "allocatable": widgets}},
                       subresource="status")

    def widget_pod(name: str) -> Obj:
        out = pod(name)
        out["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100m", **widgets},
                                                     "limits": widgets}
        return out

    await client.create("pods", widget_pod("w-1"), namespace="default")
    assert await eventually(lambda: running_on(client, "w-1")) == "sim-2"
    await client.create("pods", widget_pod("w-2"), namespace="default")  # sim-2 has none left
    condition = await eventually(lambda: unschedulable_condition(client, "w-2"))
    assert condition["message"].startswith("0/3 nodes are available: 3 Insufficient example.com/widget.")


class _Gate:
    """A Permit plugin holding every pod until it is allowed through the framework handle."""

    name = "Gate"

    def permit(self, state: CycleState, pod: Obj, node: str) -> tuple[Status, float]:
        return Status(Code.WAIT), 600.0


@pytest.fixture
async def gated(client: Client, nodes: SimulatedNodes) -> AsyncIterator[KubeScheduler]:
    profile = Profile.default()
    profile.plugins.append(_Gate())
    sched = KubeScheduler(client, seed=1, profile=profile)
    async with running(sched.run()):
        async with asyncio.timeout(TIMEOUT):
            await sched.leading.wait()
        yield sched


async def test_a_pod_waiting_at_permit_binds_once_allowed(client: Client, gated: KubeScheduler) -> None:
    created = await client.create("pods", pod("held"), namespace="default")
    uid = created["metadata"]["uid"]

    async def waiting() -> Any:
        return gated.handle.get_waiting_pod(uid)

    held = await eventually(waiting)
    assert held.pending_plugins() == ["Gate"]
    assert "nodeName" not in (await get_pod(client, "held"))["spec"]
    held.allow("Gate")
    assert await eventually(lambda: running_on(client, "held"))


async def test_a_pod_rejected_at_permit_is_unschedulable_and_its_room_freed(
        client: Client, gated: KubeScheduler) -> None:
    created = await client.create("pods", pod("refused", cpu="3"), namespace="default")

    async def waiting() -> Any:
        return gated.handle.get_waiting_pod(created["metadata"]["uid"])

    (await eventually(waiting)).reject("Gate", "not this one")
    condition = await eventually(lambda: unschedulable_condition(client, "refused"))
    assert condition["message"] == "0/1 nodes are available: 1 not this one."
    assert all(not gated.table.pods_on(n) for n in ("sim-0", "sim-1", "sim-2"))


async def test_a_claim_not_bound_in_time_sends_the_pod_back_with_upstreams_error(
        client: Client, nodes: SimulatedNodes) -> None:
    profile = Profile.default(VolumeBinding=VolumeBinding.from_args({"bindTimeoutSeconds": 0}))
    sched = KubeScheduler(client, seed=1, profile=profile)
    await client.create("storageclasses", storage_class("slow", "WaitForFirstConsumer"))
    await client.create("persistentvolumeclaims", claim("slow-data", "slow"), namespace="default")
    async with running(sched.run()):
        await client.create("pods", pod_using("impatient", "slow-data"), namespace="default")

        async def scheduler_error() -> Obj | None:
            for c in (await get_pod(client, "impatient"))["status"].get("conditions") or []:
                if c["type"] == "PodScheduled" and c["reason"] == "SchedulerError":
                    return c
            return None

        condition = await eventually(scheduler_error)
        assert condition["message"] == (
            'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded')
        # the claim keeps the node it was given, and the pod comes back to that node only
        pvc = await client.get("persistentvolumeclaims", "slow-data", namespace="default")
        assert pvc["metadata"]["annotations"][ANN_SELECTED_NODE] in {"sim-0", "sim-1", "sim-2"}
        assert "nodeName" not in (await get_pod(client, "impatient"))["spec"]


class _Faulty:
    """A Reserve plugin with a bug, and a record of the Unreserve calls it sees."""

    name = "Faulty"

    def __init__(self) -> None:
        self.unreserved: list[str] = []

    def reserve(self, state: CycleState, pod: Obj, node: str) -> Status:
        raise RuntimeError("a bug")

    def unreserve(self, state: CycleState, pod: Obj, node: str) -> None:
        self.unreserved.append(node)


async def test_a_reserve_plugin_that_raises_costs_the_pod_a_backoff_and_unwinds(client: Client) -> None:
    faulty = _Faulty()
    profile = Profile.default()
    profile.plugins.append(faulty)
    sched = KubeScheduler(client, seed=1, profile=profile)
    sched.table.set_node({"metadata": {"name": "n1"},
                          "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
    sched.queue.add(await client.create("pods", pod("victim"), namespace="default"))
    info = await sched.queue.pop()
    assert info is not None
    sched.schedule_one(info)
    await sched.wait_idle()
    assert faulty.unreserved == ["n1"]
    assert sched.table.pods_on("n1") == set()
    assert [p["metadata"]["name"] for p in sched.queue.pending_pods().backoff] == ["victim"]
    assert "nodeName" not in (await get_pod(client, "victim"))["spec"]


async def test_deleting_a_pod_waiting_for_its_volumes_ends_its_binding_cycle(
        client: Client, scheduler: KubeScheduler) -> None:
    await client.create("storageclasses", storage_class("wffc-gone", "WaitForFirstConsumer"))
    await client.create("persistentvolumeclaims", claim("orphan", "wffc-gone"), namespace="default")
    await client.create("pods", pod_using("gone", "orphan"), namespace="default")

    async def selected() -> bool:
        pvc = await client.get("persistentvolumeclaims", "orphan", namespace="default")
        return ANN_SELECTED_NODE in (pvc["metadata"].get("annotations") or {})

    await eventually(selected)
    await client.delete("pods", "gone", namespace="default", grace_period_seconds=0)
    async with asyncio.timeout(TIMEOUT):  # no 10-minute wait for a claim nobody needs now
        await scheduler.wait_idle()
    assert all("default/gone" not in scheduler.table.pods_on(n) for n in ("sim-0", "sim-1", "sim-2"))
