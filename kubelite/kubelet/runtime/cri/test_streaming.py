"""exec, attach and port-forward through the kubelet's server on the cri runtime: the
runtime answers a URL on containerd's streaming server and the kubelet passes the
client's upgrade on there (upstream's proxyStream); the client sees the same
protocols it sees on any kubelet."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from kubelite.client.rest import Client
from kubelite.kubelet.kubelet import Kubelet
from kubelite.kubelet.runtime.cri import CRIRuntime
from kubelite.kubelet.runtime.cri.conftest import busybox_pod, requires_containerd
from kubelite.kubelet.server.server import KubeletServer
from kubelite.kubelet.testing import eventually, phase_of

pytestmark = requires_containerd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def kubelet_url(client: Client, kubelet: Kubelet, runtime: CRIRuntime
                 ) -> AsyncIterator[str]:
    manifest = busybox_pod("web", "exec httpd -f -p 8080 -h /")
    manifest["spec"]["containers"][0]["readinessProbe"] = {"tcpSocket": {"port": 8080},
                                                           "periodSeconds": 1}
    await client.create("pods", manifest, namespace="default")

    async def ready() -> bool:
        got = await phase_of(client, "web", "Running")
        statuses = (got or {}).get("status", {}).get("containerStatuses") or [{}]
        return bool(statuses[0].get("ready"))
    await eventually(ready)  # httpd listens
    serving = KubeletServer("node", runtime, kubelet, gate=None, ssl_context=None,
                            host="127.0.0.1", port=free_port())
    await serving.start()
    try:
        yield f"http://127.0.0.1:{serving.port}"
    finally:
        await serving.stop()


async def _channels(url: str, protocol: str) -> list[tuple[int, bytes]]:
    got: list[tuple[int, bytes]] = []
    async with asyncio.timeout(20), aiohttp.ClientSession() as session, \
            session.ws_connect(url, protocols=(protocol,)) as ws:
        assert ws.protocol == protocol
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                got.append((message.data[0], message.data[1:]))
    return got


def _joined(got: list[tuple[int, bytes]], channel: int) -> bytes:
    return b"".join(data for ch, data in got if ch == channel)


async def test_exec_streams_from_containerd_through_the_kubelet(kubelet_url: str) -> None:
    command = "echo%20out;%20echo%20err%20%3E%262;%20exit%207"
    got = await _channels(f"{kubelet_url}/exec/default/web/app?command=/bin/sh&command=-c"
                          f"&command={command}&output=1&error=1", "v4.channel.k8s.io")
    assert _joined(got, 1) == b"out\n" and _joined(got, 2) == b"err\n"
    status: dict[str, Any] = json.loads(_joined(got, 3))
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"][0] == {"reason": "ExitCode", "message": "7"}


async def test_port_forward_reaches_the_pod_through_containerd(kubelet_url: str) -> None:
    async with asyncio.timeout(20), aiohttp.ClientSession() as session, session.ws_connect(
            f"{kubelet_url}/portForward/default/web?port=8080",
            protocols=("v4.channel.k8s.io",)) as ws:
        prefixes = [await ws.receive_bytes(), await ws.receive_bytes()]
        assert prefixes == [b"\x00" + struct.pack("<H", 8080), b"\x01" + struct.pack("<H", 8080)]
        await ws.send_bytes(b"\x00GET / HTTP/1.0\r\n\r\n")
        data = b""
        while not data.startswith(b"HTTP/1."):
            message = await ws.receive_bytes()
            if message[0] == 1:
                pytest.fail(f"port-forward failed: {message[1:]!r}")
            data += message[1:]


async def test_exec_in_a_missing_container_is_not_found(kubelet_url: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(
            f"{kubelet_url}/exec/default/web/nope?command=true&output=1") as answer:
        assert answer.status == 404


async def test_attach_streams_the_container_output_through_the_kubelet(
        client: Client, kubelet_url: str) -> None:
    await client.create("pods", busybox_pod(
        "ticker", "while true; do echo tick; sleep 0.2; done"), namespace="default")
    await eventually(lambda: phase_of(client, "ticker", "Running"))
    async with asyncio.timeout(20), aiohttp.ClientSession() as session, session.ws_connect(
            f"{kubelet_url}/attach/default/ticker/app?output=1&error=1",
            protocols=("v4.channel.k8s.io",)) as ws:
        data = b""
        while b"tick\n" not in data:
            message = await ws.receive_bytes()
            if message[0] == 1:
                data += message[1:]
