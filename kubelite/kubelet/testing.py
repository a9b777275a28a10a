"""What the kubelet's tests share: a kubelet with short intervals on a real in-process
API server, pods that run /bin/sh commands on the host, and waiting for conditions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from kubelite.client.rest import Client
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.kubelet import Kubelet
from kubelite.kubelet.runtime.host import HostImages, HostRuntime
from kubelite.machinery import errors

Obj = dict[str, Any]
TIMEOUT = 15.0
NODE = "node-a"


async def eventually(probe: Callable[[], Awaitable[Any]], timeout: float = TIMEOUT) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            answer = await probe()
            if answer:
                return answer
            await asyncio.sleep(0.05)


def short_config(root: Path) -> KubeletConfig:
    return KubeletConfig(
        node_name=NODE, root_dir=root, node_ip="127.0.0.1",
        crashloop_backoff_initial=0.2, crashloop_backoff_max=0.8,
        image_backoff_initial=0.2, image_backoff_max=0.8,
        relist_interval=0.05, pod_resync_interval=1.0, volume_retry_interval=0.2,
        lease_renew_interval=0.2, node_status_update_frequency=0.2,
        # no pressure thresholds: how full this machine is must not move the tests
        eviction_hard="", eviction_monitoring_interval=0.2)


@contextlib.asynccontextmanager
async def running_kubelet(client: Client, root: Path, runtime: HostRuntime,
                          **options: Any) -> AsyncIterator[Kubelet]:
    images = options.pop("images", None) or HostImages()
    config = options.pop("config", None) or short_config(root)
    kubelet = Kubelet(client, config, runtime, images, **options)
    task = asyncio.create_task(kubelet.run())
    try:
        async with asyncio.timeout(TIMEOUT):
            while not kubelet.ready.is_set():
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield kubelet
    finally:
        await kubelet.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def pod(name: str, *commands: str, restart: str = "Never", **spec: Any) -> Obj:
    containers = [{"name": f"c{i}" if len(commands) > 1 else "app", "image": "busybox",
                   "command": ["/bin/sh", "-c", command]} for i, command in enumerate(commands)]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": NODE, "restartPolicy": restart, "containers": containers,
                     "terminationGracePeriodSeconds": 5, **spec}}


async def phase_of(client: Client, name: str, *phases: str) -> Obj | None:
    got = await client.get("pods", name, namespace="default")
    return got if got.get("status", {}).get("phase") in phases else None


async def reasons(client: Client, name: str) -> set[str]:
    events = await client.list("events", namespace="default",
                               field_selector=f"involvedObject.name={name}")
    return {e["reason"] for e in events["items"]}


async def gone_from_api(client: Client, name: str, namespace: str = "default") -> None:
    """Until the pod is deleted for good (the kubelet finished it), or TIMEOUT."""
    async def gone() -> bool:
        try:
            await client.get("pods", name, namespace=namespace)
        except errors.NotFound:
            return True
        return False
    await eventually(gone)
