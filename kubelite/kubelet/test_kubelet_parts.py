"""The kubelet with its real parts: volumes (volumes/), probes (prober/) and lifecycle
hooks (lifecycle.py), on the host runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.client.events import EventRecorder
from kubelite.client.rest import Client
from kubelite.kubelet.kubelet import Kubelet
from kubelite.kubelet.lifecycle import LifecycleHooks
from kubelite.kubelet.prober.manager import ProbeManager
from kubelite.kubelet.runtime.host import HostRuntime
from kubelite.kubelet.testing import eventually, phase_of, pod, reasons, running_kubelet
from kubelite.kubelet.volumes.manager import VolumeManager

Obj = dict[str, Any]


@pytest.fixture
async def kubelet(client: Client, tmp_path: Path, runtime: HostRuntime) -> AsyncIterator[Kubelet]:
    events = EventRecorder(client, "kubelet", host="node-a")  # shared with the parts
    volumes = VolumeManager(client, tmp_path / "kubelet" / "pods", "node-a",
                            memory_backed=False)
    probes = ProbeManager(runtime, time_scale=0.05, events=events)
    hooks = LifecycleHooks(runtime, events=events, time_scale=0.05)
    async with running_kubelet(client, tmp_path / "kubelet", runtime, volumes=volumes,
                               probes=probes, hooks=hooks, loops=[volumes.run],
                               recorder=events) as k:
        yield k


async def test_readiness_follows_the_probe(client: Client, kubelet: Kubelet,
                                           tmp_path: Path) -> None:
    flag = tmp_path / "ready"
    spec = pod("ready", "sleep 60", restart="Always")
    spec["spec"]["containers"][0]["readinessProbe"] = {
        "exec": {"command": ["test", "-e", str(flag)]}, "periodSeconds": 1}
    await client.create("pods", spec, namespace="default")

    async def container(ready: bool) -> Obj | None:
        got = await client.get("pods", "ready", namespace="default")
        statuses = got.get("status", {}).get("containerStatuses") or [{}]
        running = "running" in statuses[0].get("state", {})
        return got if running and statuses[0].get("ready") is ready else None
    unready = await eventually(lambda: container(False))
    conditions = {c["type"]: c["status"] for c in unready["status"]["conditions"]}
    assert conditions["Ready"] == "False" and conditions["ContainersReady"] == "False"
    flag.touch()
    ready = await eventually(lambda: container(True))
    assert {c["type"]: c["status"] for c in ready["status"]["conditions"]}["Ready"] == "True"


async def test_a_failing_liveness_probe_restarts_the_container(client: Client,
                                                               kubelet: Kubelet) -> None:
    spec = pod("live", "sleep 60", restart="Always")
    spec["spec"]["containers"][0]["livenessProbe"] = {
        "exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 1}
    await client.create("pods", spec, namespace="default")

    async def restarted() -> Obj | None:
        got = await client.get("pods", "live", namespace="default")
        statuses = got.get("status", {}).get("containerStatuses") or [{}]
        return got if statuses[0].get("restartCount", 0) >= 1 else None
    await eventually(restarted)
    assert "Killing" in await reasons(client, "live")


async def test_hooks_run_after_start_and_before_stop(client: Client, kubelet: Kubelet,
                                                     tmp_path: Path) -> None:
    started, stopping = tmp_path / "post-start", tmp_path / "pre-stop"
    spec = pod("hooked", "sleep 60", restart="Always")
    spec["spec"]["containers"][0]["lifecycle"] = {
        "postStart": {"exec": {"command": ["touch", str(started)]}},
        "preStop": {"exec": {"command": ["touch", str(stopping)]}}}
    await client.create("pods", spec, namespace="default")
    await eventually(lambda: phase_of(client, "hooked", "Running"))
    assert started.exists()
    await client.delete("pods", "hooked", namespace="default")

    async def gone() -> bool:
        return not (await client.list("pods", namespace="default"))["items"]
    await eventually(gone)
    assert stopping.exists()


async def test_a_failing_post_start_hook_kills_the_container(client: Client,
                                                             kubelet: Kubelet) -> None:
    spec = pod("badhook", "sleep 60", restart="Never")
    spec["spec"]["containers"][0]["lifecycle"] = {"postStart": {"exec": {"command": ["false"]}}}
    await client.create("pods", spec, namespace="default")
    await eventually(lambda: phase_of(client, "badhook", "Failed"))
    assert "FailedPostStartHook" in await reasons(client, "badhook")


async def test_volumes_are_set_up_for_the_pod_and_torn_down_with_it(
        client: Client, kubelet: Kubelet, tmp_path: Path) -> None:
    await client.create("configmaps", {"metadata": {"name": "conf"}, "data": {"k": "v"}},
                        namespace="default")
    spec = pod("vols", "sleep 60", restart="Always")
    spec["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "conf"}}]
    spec["spec"]["containers"][0]["volumeMounts"] = [{"name": "cfg", "mountPath": "/cfg"}]
    created = await client.create("pods", spec, namespace="default")
    await eventually(lambda: phase_of(client, "vols", "Running"))
    pod_dir = tmp_path / "kubelet" / "pods" / created["metadata"]["uid"]
    assert {f.read_text() for f in pod_dir.rglob("k")} == {"v"}  # the file and its link
    await client.delete("pods", "vols", namespace="default")

    async def torn_down() -> bool:
        return not pod_dir.exists()
    await eventually(torn_down)


async def test_a_missing_config_map_volume_holds_the_pod_with_failed_mount(
        client: Client, kubelet: Kubelet) -> None:
    spec = pod("novol", "true")
    spec["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "absent"}}]
    await client.create("pods", spec, namespace="default")

    async def failed_mount() -> bool:
        return "FailedMount" in await reasons(client, "novol")
    await eventually(failed_mount)
    got = await client.get("pods", "novol", namespace="default")
    assert got["status"]["phase"] == "Pending"
    waiting = got["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ContainerCreating"
