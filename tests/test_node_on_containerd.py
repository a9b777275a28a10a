"""`--runtime cri --container-runtime-endpoint unix://...`: the node kubelite's
command line builds runs its pods in containerd (the cri runtime's fixture starts a
containerd of the test's own), and reports it as the node's runtime."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.cli import node
from kubelite.cli.main import build_parser
from kubelite.client.rest import Client
from kubelite.kubelet.runtime.cri.conftest import (  # noqa: F401 - the fixture
    Containerd, busybox_pod, containerd, remove_every_sandbox, requires_containerd)
from kubelite.machinery import errors

pytestmark = requires_containerd
CGROUP_ROOT = Path("/sys/fs/cgroup")


@pytest.fixture
async def pod_cgroups(containerd: Containerd) -> AsyncIterator[list[str]]:  # noqa: F811
    """The uids of the pods a test made: their sandboxes, then their pod cgroups
    under the node's cgroup root (/kubelite/kubepods/...), are removed after it."""
    uids: list[str] = []
    yield uids
    await remove_every_sandbox(containerd.endpoint)
    for uid in uids:
        for path in CGROUP_ROOT.glob(f"*/kubelite/kubepods/**/pod{uid}"):
            with contextlib.suppress(OSError):
                path.rmdir()


async def test_a_node_built_for_cri_runs_its_pods_in_containerd(
        client: Client, tmp_path: Path, containerd: Containerd,  # noqa: F811
        pod_cgroups: list[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = build_parser().parse_args([
        "agent", "--node-name", "here", "--node-ip", "127.0.0.1", "--kubelet-port", str(port),
        "--runtime", "cri", "--container-runtime-endpoint", containerd.endpoint])
    config = node.kubelet_config(args, tmp_path)
    assert node.choose_runtime(args.runtime, config.container_runtime_endpoint) == "cri"
    built = node.build_node(client, config, "cri")
    task = asyncio.create_task(built.run())
    try:
        manifest = busybox_pod("hello", "echo hi; exec sleep 300")
        manifest["spec"]["nodeName"] = "here"
        created = await client.create("pods", manifest, namespace="default")
        pod_cgroups.append(created["metadata"]["uid"])
        async with asyncio.timeout(30):
            while (await client.get("pods", "hello", namespace="default")).get(
                    "status", {}).get("phase") != "Running":
                await asyncio.sleep(0.05)
        got = await client.get("pods", "hello", namespace="default")
        assert got["status"]["containerStatuses"][0]["containerID"].startswith("containerd://")
        assert got["status"]["podIP"].startswith(containerd.subnet.rsplit(".", 1)[0] + ".")
        assert (await client.get("nodes", "here"))["status"]["nodeInfo"][
            "containerRuntimeVersion"].startswith("containerd://")
        await client.delete("pods", "hello", namespace="default")
        async with asyncio.timeout(30):
            while True:
                try:
                    await client.get("pods", "hello", namespace="default")
                except errors.NotFound:
                    break
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
