"""Simulated nodes against a real in-process API server on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.kubelet.simulated.podstatus import EXIT_AFTER, EXIT_CODE
from kubelite.kubelet.testing import gone_from_api
from kubelite.machinery import errors

Obj = dict[str, Any]
TIMEOUT = 10.0


async def eventually(probe: Callable[[], Awaitable[Any]], timeout: float = TIMEOUT) -> Any:
    """The first truthy answer of `probe`, polled until `timeout`."""
    async with asyncio.timeout(timeout):
        while True:
            answer = await probe()
            if answer:
                return answer
            await asyncio.sleep(0.02)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now


@contextlib.asynccontextmanager
async def running(client: Client, config: NodeConfig,
                  clock: Callable[[], datetime.datetime] | None = None
                  ) -> AsyncIterator[SimulatedNodes]:
    nodes = SimulatedNodes(client, config, **({"clock": clock} if clock else {}))
    task = asyncio.create_task(nodes.run())
    try:
        async with asyncio.timeout(TIMEOUT):
            await nodes.registered.wait()
        yield nodes
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def sim(client: Client) -> AsyncIterator[SimulatedNodes]:
    async with running(client, NodeConfig(count=3)) as nodes:
        await nodes.pods.informer.wait_for_sync(TIMEOUT)
        yield nodes


async def test_nodes_register_ready_with_the_kubelets_fields(
        client: Client, sim: SimulatedNodes) -> None:
    nodes = sorted((await client.list("nodes"))["items"], key=lambda n: n["metadata"]["name"])
    assert [n["metadata"]["name"] for n in nodes] == ["sim-0", "sim-1", "sim-2"]
    assert [n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes] == [
        "zone-a", "zone-b", "zone-c"]
    assert len({n["spec"]["podCIDR"] for n in nodes}) == 3
    version = await client.request("GET", "/version")
    for node in nodes:
        status = node["status"]
        ready = {c["type"]: c["status"] for c in status["conditions"]}
        assert ready == {"MemoryPressure": "False", "DiskPressure": "False",
                         "PIDPressure": "False", "Ready": "True"}
        assert status["nodeInfo"]["kubeletVersion"] == version["gitVersion"]
        assert {a["type"] for a in status["addresses"]} == {"InternalIP", "Hostname"}
        assert status["allocatable"]["memory"] == "256Gi"


async def test_registration_takes_over_an_existing_node(client: Client) -> None:
    await client.create("nodes", {"metadata": {"name": "sim-0", "labels": {"keep": "me"}}})
    async with running(client, NodeConfig(count=1)):
        node = await client.get("nodes", "sim-0")
    assert node["metadata"]["labels"]["keep"] == "me"
    assert node["metadata"]["labels"]["type"] == "kubelite-simulated"
    assert node["spec"]["podCIDR"] == "10.42.0.0/24"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "simulated://1"


async def test_lease_is_renewed_and_status_reported_on_schedule(client: Client) -> None:
    clock = Clock()
    config = NodeConfig(count=2, renew_interval=0.05, status_report_frequency=0.05)
    async with running(client, config, clock):
        async def lease() -> Obj | None:
            try:
                return await client.get("leases", "sim-1", namespace="kube-node-lease")
            except errors.NotFound:
                return None
        first = await eventually(lease)
        assert first["spec"]["holderIdentity"] == "sim-1"
        assert first["spec"]["leaseDurationSeconds"] == 40
        assert first["metadata"]["ownerReferences"][0]["kind"] == "Node"
        clock.now += datetime.timedelta(minutes=5, microseconds=250)

        async def renewed() -> bool:
            got = await lease()
            return bool(got) and got["spec"]["renewTime"] == "2026-03-01T12:05:00.000250Z"
        await eventually(renewed)
        # renewals write the kept Lease back without its managedFields: the server's stay
        assert (await lease() or {})["metadata"]["managedFields"]

        async def reported() -> bool:
            node = await client.get("nodes", "sim-1")
            ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
            return bool(ready["lastHeartbeatTime"] == "2026-03-01T12:05:00Z"
                        and ready["lastTransitionTime"] == "2026-03-01T12:00:00Z")
        await eventually(reported)


GUARANTEED = {"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}


def pod_manifest(name: str, annotations: dict[str, str] | None = None,
                 restart_policy: str = "Always") -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"restartPolicy": restart_policy,
                     "initContainers": [{"name": "init", "image": "busybox", **GUARANTEED}],
                     "containers": [{"name": "app", "image": "nginx", **GUARANTEED}]}}


async def bound_pod(client: Client, manifest: Obj, node: str = "sim-1") -> Obj:
    pod = await client.create("pods", manifest)
    await client.bind(manifest["metadata"]["name"], node, pod_uid=pod["metadata"]["uid"])
    return pod


async def pod_where(client: Client, name: str, check: Callable[[Obj], bool]) -> Obj:
    async def probe() -> Obj | None:
        pod = await client.get("pods", name)
        return pod if check(pod) else None
    result: Obj = await eventually(probe)
    return result


async def test_bound_pod_runs_with_an_ip_from_its_nodes_pod_cidr(
        client: Client, sim: SimulatedNodes) -> None:
    await bound_pod(client, pod_manifest("web"))
    pod = await pod_where(client, "web", lambda p: p["status"].get("phase") == "Running")
    status = pod["status"]
    node = await client.get("nodes", "sim-1")
    assert ipaddress.ip_address(status["podIP"]) in ipaddress.ip_network(node["spec"]["podCIDR"])
    assert status["hostIP"] == node["status"]["addresses"][0]["address"]
    assert status["startTime"]
    assert status["qosClass"] == "Guaranteed"
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"PodReadyToStartContainers": "True", "Initialized": "True",
                          "Ready": "True", "ContainersReady": "True", "PodScheduled": "True"}
    (app,) = status["containerStatuses"]
    assert app["ready"] and app["started"] and app["state"]["running"]["startedAt"]
    assert app["containerID"].startswith("simulated://")
    assert status["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


async def test_pods_on_one_node_get_distinct_ips(client: Client, sim: SimulatedNodes) -> None:
    for name in ("a", "b", "c"):
        await bound_pod(client, pod_manifest(name), node="sim-2")
    ips = set()
    for name in ("a", "b", "c"):
        pod = await pod_where(client, name, lambda p: p["status"].get("phase") == "Running")
        ips.add(pod["status"]["podIP"])
    assert len(ips) == 3


async def test_pods_on_other_nodes_are_left_alone(client: Client, sim: SimulatedNodes) -> None:
    await client.create("nodes", {"metadata": {"name": "real-0"}})
    await bound_pod(client, pod_manifest("elsewhere"), node="real-0")
    await bound_pod(client, pod_manifest("here"))
    await pod_where(client, "here", lambda p: p["status"].get("phase") == "Running")
    assert (await client.get("pods", "elsewhere"))["status"]["phase"] == "Pending"


@pytest.mark.parametrize("policy, code, phase, reason", [
    ("Never", "0", "Succeeded", "Completed"),
    ("Never", "3", "Failed", "Error"),
    ("OnFailure", "0", "Succeeded", "Completed"),
], ids=["never-exit-0", "never-exit-3", "onfailure-exit-0"])
async def test_exit_after_finishes_the_pod(client: Client, sim: SimulatedNodes, policy: str,
                                          code: str, phase: str, reason: str) -> None:
    await bound_pod(client, pod_manifest("job", {EXIT_AFTER: "0s", EXIT_CODE: code}, policy))
    pod = await pod_where(client, "job", lambda p: p["status"].get("phase") == phase)
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (int(code), reason)
    assert not pod["status"]["containerStatuses"][0]["ready"]


@pytest.mark.parametrize("policy, code", [("Always", "0"), ("OnFailure", "1")],
                         ids=["always", "onfailure-exit-1"])
async def test_exit_after_restarts_the_containers(client: Client, sim: SimulatedNodes,
                                                  policy: str, code: str) -> None:
    await bound_pod(client, pod_manifest("crashy", {EXIT_AFTER: "0s", EXIT_CODE: code},
                                         policy))
    pod = await pod_where(client, "crashy", lambda p: any(
        cs.get("restartCount", 0) >= 1 for cs in p["status"].get("containerStatuses") or ()))
    app = pod["status"]["containerStatuses"][0]
    assert pod["status"]["phase"] == "Running"
    assert app["lastState"]["terminated"]["exitCode"] == int(code)
    assert "running" in app["state"]


async def test_deleted_pod_is_finished_and_removed(client: Client, sim: SimulatedNodes) -> None:
    await bound_pod(client, pod_manifest("doomed"))
    await pod_where(client, "doomed", lambda p: p["status"].get("phase") == "Running")
    deleted = await client.delete("pods", "doomed")
    assert deleted["metadata"]["deletionTimestamp"]  # graceful: the kubelet must finish it

    await gone_from_api(client, "doomed")
    assert sim.pods.addresses.in_use(1) == 0
