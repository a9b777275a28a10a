"""The kubelet, unchanged, on the cri runtime over a real containerd (conftest.py):
the node says it runs containerd, a pod runs with an IP from containerd's CNI
network, its logs are where the kubelet reads them, an exec readiness probe makes it
Ready, the node's stats name its container, and a deleted pod's sandbox and
containers are gone from containerd."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubelite.client.rest import Client
from kubelite.kubelet import stats
from kubelite.kubelet.kubelet import Kubelet
from kubelite.kubelet.runtime.cri import CRIRuntime
from kubelite.kubelet.runtime.cri.conftest import Containerd, busybox_pod, requires_containerd
from kubelite.kubelet.testing import NODE, eventually, gone_from_api, phase_of

pytestmark = requires_containerd
Obj = dict[str, Any]


async def test_a_pod_runs_logs_probes_and_is_removed(client: Client, kubelet: Kubelet,
                                                     runtime: CRIRuntime,
                                                     containerd: Containerd) -> None:
    node = await client.get("nodes", NODE)
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.")

    manifest = busybox_pod("web", "echo started; exec sleep 300")
    manifest["spec"]["containers"][0]["readinessProbe"] = {
        "exec": {"command": ["/bin/sh", "-c", "test -n \"$HOSTNAME\""]},
        "periodSeconds": 1}
    await client.create("pods", manifest, namespace="default")

    async def ready() -> Obj | None:
        got = await phase_of(client, "web", "Running")
        statuses = (got or {}).get("status", {}).get("containerStatuses") or [{}]
        return got if statuses[0].get("ready") else None
    running = await eventually(ready)
    status = running["status"]
    prefix = containerd.subnet.rsplit(".", 1)[0] + "."
    assert status["podIP"].startswith(prefix)
    container = status["containerStatuses"][0]
    assert container["containerID"].startswith("containerd://")
    assert container["imageID"].startswith("sha256:")

    logs = kubelet.log_path("default", "web", "app")
    assert logs is not None

    async def logged() -> str | None:
        text = Path(logs).read_text() if Path(logs).exists() else ""
        return text if "stdout F started" in text else None
    await eventually(logged)

    reading = await stats.read(runtime)
    container_id = kubelet.container_id("default", "web", "app")
    assert container_id is not None and container_id in {c.stats.id for c in reading.containers}

    sandbox_id = kubelet.sandbox_id("default", "web")
    await client.delete("pods", "web", namespace="default")
    await gone_from_api(client, "web")

    async def removed() -> bool:
        sandboxes = {s.id for s in await runtime.list_pod_sandboxes()}
        containers = {c.id for c in await runtime.list_containers()}
        return sandbox_id not in sandboxes and container_id not in containers
    await eventually(removed)


async def test_a_failing_container_is_reported_with_its_exit_code(
        client: Client, kubelet: Kubelet) -> None:
    await client.create("pods", busybox_pod("bad", "echo bye; exit 3"), namespace="default")
    failed = await eventually(lambda: phase_of(client, "bad", "Failed"))
    terminated = failed["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")
