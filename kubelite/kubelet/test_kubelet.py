"""The kubelet end to end: a real in-process API server, the host runtime running
/bin/sh commands as host processes, pods bound by setting spec.nodeName."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.kubelet import cri
from kubelite.kubelet.images.service import ImageService
from kubelite.kubelet.images.store import ImageStore
from kubelite.kubelet.kubelet import Kubelet
from kubelite.kubelet.runtime.host import HostImages, HostRuntime
from kubelite.kubelet.sandbox_config import POD_UID_LABEL
from kubelite.kubelet.testing import (
    NODE, eventually, gone_from_api, phase_of, pod, reasons, running_kubelet, short_config)
from kubelite.machinery import errors

Obj = dict[str, Any]


@pytest.fixture
async def kubelet(client: Client, tmp_path: Path, runtime: HostRuntime) -> AsyncIterator[Kubelet]:
    async with running_kubelet(client, tmp_path / "kubelet", runtime) as k:
        yield k


async def test_the_node_registers_with_its_capacity_conditions_and_lease(
        client: Client, kubelet: Kubelet) -> None:
    node = await client.get("nodes", NODE)
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == NODE and labels["kubernetes.io/os"] == "linux"
    status = node["status"]
    assert status["capacity"]["pods"] == "110"
    assert int(status["capacity"]["cpu"]) >= 1
    assert status["allocatable"]["cpu"] == status["capacity"]["cpu"]
    # the test kubelet has no hard eviction thresholds to reserve (test_node_status.py
    # covers the reservation)
    assert status["allocatable"]["memory"] == status["capacity"]["memory"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions == {"MemoryPressure": ("False", "KubeletHasSufficientMemory"),
                          "DiskPressure": ("False", "KubeletHasNoDiskPressure"),
                          "PIDPressure": ("False", "KubeletHasSufficientPID"),
                          "Ready": ("True", "KubeletReady")}
    assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
    assert status["nodeInfo"]["containerRuntimeVersion"].startswith("host://")
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == 10250

    async def renewed() -> Obj | None:
        try:
            lease = await client.get("leases", NODE, namespace="kube-node-lease")
        except errors.NotFound:
            return None
        return lease if lease["spec"]["holderIdentity"] == NODE else None
    lease = await eventually(renewed)
    assert lease["metadata"]["ownerReferences"][0]["uid"] == node["metadata"]["uid"]


async def test_the_pod_cidr_the_node_gets_is_handed_on(client: Client, tmp_path: Path,
                                                       runtime: HostRuntime) -> None:
    seen: list[str] = []
    async with running_kubelet(client, tmp_path / "k", runtime, on_pod_cidr=seen.append):
        assert seen == []
        await client.patch("nodes", NODE, {"spec": {"podCIDR": "10.42.7.0/24",
                                                    "podCIDRs": ["10.42.7.0/24"]}})

        async def handed() -> bool:
            return seen == ["10.42.7.0/24"]
        await eventually(handed)


async def test_a_pod_that_exits_0_succeeds_and_reports_its_container(
        client: Client, kubelet: Kubelet) -> None:
    await client.create("pods", pod("ok", "echo hello; exit 0"), namespace="default")
    done = await eventually(lambda: phase_of(client, "ok", "Succeeded"))
    status = done["status"]
    container = status["containerStatuses"][0]
    terminated = container["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    assert container["containerID"].startswith("host://")
    assert (container["ready"], container["started"], container["restartCount"]) == (False, False, 0)
    assert status["hostIP"] == "127.0.0.1" and status["podIP"] == "127.0.0.1"
    assert status["qosClass"] == "BestEffort" and status["startTime"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "PodCompleted"
    assert conditions["Initialized"]["status"] == "True"
    assert conditions["PodScheduled"]["status"] == "True"
    logs = kubelet.log_path("default", "ok", "app")
    assert logs is not None and "stdout F hello" in Path(logs).read_text()
    assert {"Pulling", "Pulled", "Created", "Started"} <= await eventually(
        lambda: _having(client, "ok", {"Pulling", "Pulled", "Created", "Started"}))


async def _having(client: Client, name: str, wanted: set[str]) -> set[str] | None:
    got = await reasons(client, name)
    return got if wanted <= got else None


async def test_a_pod_that_exits_non_zero_under_never_fails_with_its_exit_code(
        client: Client, kubelet: Kubelet) -> None:
    await client.create("pods", pod("bad", "exit 3"), namespace="default")
    failed = await eventually(lambda: phase_of(client, "bad", "Failed"))
    terminated = failed["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")


async def test_a_crashing_container_restarts_with_back_off(client: Client,
                                                           kubelet: Kubelet) -> None:
    await client.create("pods", pod("crash", "exit 1", restart="Always"), namespace="default")

    async def restarted_twice() -> Obj | None:
        got = await client.get("pods", "crash", namespace="default")
        statuses = got.get("status", {}).get("containerStatuses") or [{}]
        return got if statuses[0].get("restartCount", 0) >= 2 else None
    got = await eventually(restarted_twice)
    container = got["status"]["containerStatuses"][0]
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert got["status"]["phase"] == "Running"
    assert "BackOff" in await eventually(lambda: _having(client, "crash", {"BackOff"}))
    current = kubelet.log_path("default", "crash", "app")
    previous = kubelet.log_path("default", "crash", "app", previous=True)
    assert current and previous and current != previous
    assert kubelet.container_id("default", "crash", "app") is not None
    assert kubelet.sandbox_id("default", "crash") is not None
    assert kubelet.container_id("default", "crash", "nope") is None
    assert kubelet.sandbox_id("default", "unknown") is None
    assert [p["metadata"]["name"] for p in kubelet.pods()] == ["crash"]


async def test_init_containers_run_in_order_before_the_app(client: Client, kubelet: Kubelet,
                                                           tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    spec = pod("job", f"echo app >> {trace}", restart="OnFailure")
    spec["spec"]["initContainers"] = [
        {"name": "first", "image": "busybox", "command": ["/bin/sh", "-c", f"echo first >> {trace}"]},
        {"name": "second", "image": "busybox",
         "command": ["/bin/sh", "-c", f"echo second >> {trace}"]}]
    await client.create("pods", spec, namespace="default")
    done = await eventually(lambda: phase_of(client, "job", "Succeeded"))
    assert trace.read_text().split() == ["first", "second", "app"]
    inits = done["status"]["initContainerStatuses"]
    assert [s["state"]["terminated"]["reason"] for s in inits] == ["Completed", "Completed"]


async def test_a_failing_init_container_fails_a_never_pod(client: Client, kubelet: Kubelet,
                                                          tmp_path: Path) -> None:
    spec = pod("initfail", f"touch {tmp_path / 'ran'}")
    spec["spec"]["initContainers"] = [{"name": "setup", "image": "busybox",
                                       "command": ["/bin/sh", "-c", "exit 2"]}]
    await client.create("pods", spec, namespace="default")
    failed = await eventually(lambda: phase_of(client, "initfail", "Failed"))
    assert failed["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 2
    assert not (tmp_path / "ran").exists()


async def test_deleting_a_pod_stops_it_gracefully_then_removes_it(
        client: Client, kubelet: Kubelet, runtime: HostRuntime, tmp_path: Path) -> None:
    marker = tmp_path / "terminated"
    await client.create("pods", pod("web", f"trap 'echo bye > {marker}; exit 0' TERM; "
                                           "while true; do sleep 0.05; done", restart="Always"),
                        namespace="default")
    running = await eventually(lambda: phase_of(client, "web", "Running"))
    uid = running["metadata"]["uid"]
    assert running["status"]["containerStatuses"][0]["ready"] is True
    await client.delete("pods", "web", namespace="default")
    await gone_from_api(client, "web")
    assert marker.read_text() == "bye\n"  # it got SIGTERM, not SIGKILL

    async def cleaned() -> bool:
        return not [s for s in await runtime.list_pod_sandboxes()
                    if s.labels.get(POD_UID_LABEL) == uid]
    await eventually(cleaned)


async def test_environment_from_fields_config_maps_and_services(
        client: Client, kubelet: Kubelet, tmp_path: Path) -> None:
    await client.create("configmaps", {"metadata": {"name": "cfg"}, "data": {"mode": "fast"}},
                        namespace="default")
    await client.create("services", {"metadata": {"name": "redis-primary"},
                                     "spec": {"ports": [{"name": "db", "port": 6379}]}},
                        namespace="default")
    service = await client.get("services", "redis-primary", namespace="default")

    async def known() -> bool:
        return any(s["metadata"]["name"] == "redis-primary"
                   for s in kubelet.service_informer.lister.list())
    await eventually(known)
    out = tmp_path / "env"
    spec = pod("env", f"env > {out}")
    spec["spec"]["containers"][0]["env"] = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
        {"name": "GREETING", "value": "mode is $(MODE)"}]
    await client.create("pods", spec, namespace="default")
    await eventually(lambda: phase_of(client, "env", "Succeeded"))
    env = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    assert env["POD_NAME"] == "env" and env["GREETING"] == "mode is fast"
    assert env["REDIS_PRIMARY_SERVICE_HOST"] == service["spec"]["clusterIP"]
    assert env["REDIS_PRIMARY_SERVICE_PORT_DB"] == "6379"


async def test_a_missing_config_map_keeps_the_container_waiting(client: Client,
                                                                kubelet: Kubelet) -> None:
    spec = pod("nocfg", "true")
    spec["spec"]["containers"][0]["env"] = [
        {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k"}}}]
    await client.create("pods", spec, namespace="default")

    async def waiting() -> Obj | None:
        got = await client.get("pods", "nocfg", namespace="default")
        statuses = got.get("status", {}).get("containerStatuses") or [{}]
        state = statuses[0].get("state", {}).get("waiting") or {}
        return state if state.get("reason") == "CreateContainerConfigError" else None
    state = await eventually(waiting)
    assert state["message"] == 'configmap "absent" not found'


async def test_image_pull_policy_never_without_the_image(client: Client, kubelet: Kubelet) -> None:
    spec = pod("never", "true")
    spec["spec"]["containers"][0]["imagePullPolicy"] = "Never"
    await client.create("pods", spec, namespace="default")

    async def waiting() -> str | None:
        got = await client.get("pods", "never", namespace="default")
        statuses = got.get("status", {}).get("containerStatuses") or [{}]
        return (statuses[0].get("state", {}).get("waiting") or {}).get("reason")
    assert await eventually(waiting) == "ErrImageNeverPull"


async def test_active_deadline_fails_the_pod(client: Client, kubelet: Kubelet) -> None:
    await client.create("pods", pod("slow", "sleep 60", activeDeadlineSeconds=1),
                        namespace="default")
    failed = await eventually(lambda: phase_of(client, "slow", "Failed"))
    assert failed["status"]["reason"] == "DeadlineExceeded"
    state = failed["status"]["containerStatuses"][0]["state"]
    assert "terminated" in state


async def test_leftovers_of_a_previous_run_are_removed(client: Client, tmp_path: Path,
                                                       runtime: HostRuntime) -> None:
    config = cri.PodSandboxConfig(cri.PodSandboxMetadata("old", "default", "uid-gone"),
                                  labels={POD_UID_LABEL: "uid-gone"})
    await runtime.run_pod_sandbox(config)
    async with running_kubelet(client, tmp_path / "k", runtime):
        async def removed() -> bool:
            return not await runtime.list_pod_sandboxes()
        await eventually(removed)


async def test_stopping_the_kubelet_stops_its_pods(client: Client, tmp_path: Path,
                                                   runtime: HostRuntime) -> None:
    async with running_kubelet(client, tmp_path / "k", runtime):
        await client.create("pods", pod("long", "sleep 60", restart="Always"),
                            namespace="default")
        await eventually(lambda: phase_of(client, "long", "Running"))
    containers = await runtime.list_containers()
    assert containers and all(c.state is cri.ContainerState.EXITED for c in containers)


async def test_a_sidecar_runs_beside_the_job_and_stops_when_it_is_done(
        client: Client, kubelet: Kubelet, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    spec = pod("with-sidecar", f"sleep 0.3; echo app >> {trace}")
    spec["spec"]["initContainers"] = [
        {"name": "proxy", "image": "busybox", "restartPolicy": "Always",
         "command": ["/bin/sh", "-c", f"echo proxy >> {trace}; trap 'exit 0' TERM; "
                                      "while true; do sleep 0.05; done"]}]
    await client.create("pods", spec, namespace="default")
    done = await eventually(lambda: phase_of(client, "with-sidecar", "Succeeded"))
    assert trace.read_text().split() == ["proxy", "app"]
    sidecar = done["status"]["initContainerStatuses"][0]
    assert "terminated" in sidecar["state"]  # stopped with the pod


async def test_on_failure_restarts_until_the_container_succeeds(
        client: Client, kubelet: Kubelet, tmp_path: Path) -> None:
    marker = tmp_path / "tried"
    await client.create("pods", pod(
        "retry", f"if [ -e {marker} ]; then exit 0; fi; touch {marker}; exit 1",
        restart="OnFailure"), namespace="default")
    done = await eventually(lambda: phase_of(client, "retry", "Succeeded"))
    container = done["status"]["containerStatuses"][0]
    assert container["restartCount"] == 1
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert container["state"]["terminated"]["exitCode"] == 0


async def test_a_pass_that_changes_nothing_writes_nothing(client: Client, kubelet: Kubelet) -> None:
    await client.create("pods", pod("quiet", "exit 0"), namespace="default")
    await eventually(lambda: phase_of(client, "quiet", "Succeeded"))
    settled = await client.get("pods", "quiet", namespace="default")
    writes = kubelet.status.writes
    await kubelet.syncer.sync(settled)
    await kubelet.syncer.sync(settled)
    assert kubelet.status.writes == writes
    assert (await client.get("pods", "quiet", namespace="default"))["metadata"][
        "resourceVersion"] == settled["metadata"]["resourceVersion"]


async def test_the_node_status_is_posted_on_change_or_when_due(kubelet: Kubelet) -> None:
    reports = kubelet.node.reports
    assert await kubelet.node.report() is False  # unchanged, and 5 min are not up
    assert await kubelet.node.report(force=True) is True
    assert kubelet.node.reports == reports + 1


async def test_a_failed_pull_is_err_image_pull_then_image_pull_back_off(
        client: Client, tmp_path: Path, runtime: HostRuntime) -> None:
    # a registry nobody listens on: every pull fails at once
    images = ImageService(ImageStore(tmp_path / "images"))
    async with running_kubelet(client, tmp_path / "k", runtime, images=images):
        spec = pod("unpullable", "true")
        spec["spec"]["containers"][0]["image"] = "127.0.0.1:9/nothing:v1"
        await client.create("pods", spec, namespace="default")
        seen: set[str] = set()

        async def both() -> bool:
            got = await client.get("pods", "unpullable", namespace="default")
            statuses = got.get("status", {}).get("containerStatuses") or [{}]
            seen.add((statuses[0].get("state", {}).get("waiting") or {}).get("reason", ""))
            return {"ErrImagePull", "ImagePullBackOff"} <= seen
        await eventually(both)
        assert {"Pulling", "Failed", "BackOff"} <= await reasons(client, "unpullable")


class NetworkComesLater(HostRuntime):
    """The host runtime, with a pod network that is not ready until the test says so
    (as a bridge network before the node has its podCIDR)."""

    network_ready = False

    async def status(self) -> list[cri.RuntimeCondition]:
        return [cri.RuntimeCondition("RuntimeReady", True),
                cri.RuntimeCondition("NetworkReady", self.network_ready, "NetworkPluginNotReady",
                                     "no podCIDR assigned to this node yet")]


async def test_the_node_is_ready_at_once_not_at_the_next_status_report(
        client: Client, tmp_path: Path) -> None:
    runtime = NetworkComesLater(tmp_path / "host", "127.0.0.1")
    config = dataclasses.replace(short_config(tmp_path / "k"), node_status_update_frequency=3600.0)
    kubelet = Kubelet(client, config, runtime, HostImages())
    task = asyncio.create_task(kubelet.run())

    async def ready() -> str | None:
        try:
            node = await client.get("nodes", config.node_name)
        except errors.NotFound:
            return None
        return next((c["status"] for c in node.get("status", {}).get("conditions") or ()
                     if c["type"] == "Ready"), None)

    try:
        assert await eventually(ready) == "False"
        runtime.network_ready = True
        assert await eventually(lambda: _is(ready, "True"))
    finally:
        await kubelet.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _is(probe: Callable[[], Awaitable[str | None]], wanted: str) -> bool:
    return await probe() == wanted
