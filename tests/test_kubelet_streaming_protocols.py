"""The kubelet's WebSocket protocols message by message, as upstream's wsstream speaks
them: the channel byte (or digit, base64), the error channel's text or v4 Status, v5's
CLOSE of stdin, resize, and port-forward's channels with their port prefix."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubelite.client.rest import Client
from tests.host_pods import Node, host_node

INSECURE = ssl.create_default_context()
INSECURE.check_hostname = False
INSECURE.verify_mode = ssl.CERT_NONE


@pytest.fixture
async def node(client: Client, tmp_path: Path) -> AsyncIterator[Node]:
    async with host_node(client, tmp_path) as n:
        await n.pods.run(client, "web", {"app": ["sleep", "600"]})
        yield n


async def _session(node: Node, path: str, protocol: str
                   ) -> list[tuple[int, bytes]]:
    """Every (channel, payload) the kubelet sends until it closes."""
    got: list[tuple[int, bytes]] = []
    async with asyncio.timeout(20), aiohttp.ClientSession() as session, session.ws_connect(
            f"https://127.0.0.1:{node.kubelet.port}{path}", protocols=(protocol,),
            ssl=INSECURE) as ws:
        assert ws.protocol == protocol
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                got.append((message.data[0], message.data[1:]))
            elif message.type == aiohttp.WSMsgType.TEXT:
                got.append((int(message.data[0]), base64.b64decode(message.data[1:])))
    return got


def _joined(got: list[tuple[int, bytes]], channel: int) -> bytes:
    return b"".join(data for ch, data in got if ch == channel)


EXEC = "/exec/default/web/app?command=/bin/sh&command=-c&command={}&output=1&error=1"


@pytest.mark.parametrize(("protocol", "error"), [
    ("v5.channel.k8s.io", {"metadata": {}, "status": "Failure",
                           "message": "command terminated with non-zero exit code: error "
                                      "executing command [/bin/sh -c echo out; echo err >&2; "
                                      "exit 7], exit code 7",
                           "reason": "NonZeroExitCode",
                           "details": {"causes": [{"reason": "ExitCode", "message": "7"}]}}),
    ("v4.channel.k8s.io", "NonZeroExitCode"),
    ("v4.base64.channel.k8s.io", "NonZeroExitCode"),
    ("channel.k8s.io", "text"),
    ("base64.channel.k8s.io", "text"),
], ids=["v5", "v4", "v4-base64", "channel", "base64"])
async def test_exec_channels_and_the_error_channel(node: Node, protocol: str,
                                                   error: Any) -> None:
    got = await _session(node, EXEC.format("echo%20out;%20echo%20err%20%3E%262;%20exit%207"),
                         protocol)
    assert _joined(got, 1) == b"out\n" and _joined(got, 2) == b"err\n"
    status = _joined(got, 3)
    if isinstance(error, dict):
        assert json.loads(status) == error
    elif error == "NonZeroExitCode":
        assert json.loads(status)["reason"] == "NonZeroExitCode"
    else:  # the older protocols carry the failure's text only
        assert status.startswith(b"command terminated with non-zero exit code")


async def test_v4_reports_success_as_a_status(node: Node) -> None:
    got = await _session(node, EXEC.format("true"), "v4.channel.k8s.io")
    assert json.loads(_joined(got, 3)) == {"metadata": {}, "status": "Success"}


async def test_v5_close_ends_stdin(node: Node) -> None:
    url = (f"https://127.0.0.1:{node.kubelet.port}/exec/default/web/app?command=cat"
           "&input=1&output=1")
    output = b""
    async with asyncio.timeout(20), aiohttp.ClientSession() as session, session.ws_connect(
            url, protocols=("v5.channel.k8s.io",), ssl=INSECURE) as ws:
        await ws.send_bytes(b"\x00hello\n")
        await ws.send_bytes(b"\xff\x00")  # CLOSE stdin: cat reads its end and exits
        async for message in ws:
            if message.data[0] == 1:
                output += message.data[1:]
            elif message.data[0] == 3:
                assert json.loads(message.data[1:])["status"] == "Success"
    assert output == b"hello\n"


async def test_resize_reaches_the_terminal(node: Node) -> None:
    url = (f"https://127.0.0.1:{node.kubelet.port}/exec/default/web/app?command=/bin/sh"
           "&command=-c&command=read%20line;%20stty%20size&input=1&output=1&tty=1")
    output = b""
    async with asyncio.timeout(20), aiohttp.ClientSession() as session, session.ws_connect(
            url, protocols=("v4.channel.k8s.io",), ssl=INSECURE) as ws:
        await ws.send_bytes(b"\x04" + json.dumps({"Width": 91, "Height": 17}).encode())
        await ws.send_bytes(b"\x00go\n")  # after the resize: stty reads the new size
        async for message in ws:
            if message.data[0] == 1:
                output += message.data[1:]
    assert b"17 91" in output


async def test_port_forward_over_websocket_with_port_prefixes(node: Node) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.setblocking(False)

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"echo:" + await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, sock=listener)
    try:
        url = f"https://127.0.0.1:{node.kubelet.port}/portForward/default/web?port={port}"
        async with asyncio.timeout(20), aiohttp.ClientSession() as session, \
                session.ws_connect(url, protocols=("v4.channel.k8s.io",), ssl=INSECURE) as ws:
            prefixes = [await ws.receive_bytes(), await ws.receive_bytes()]
            assert prefixes == [b"\x00" + struct.pack("<H", port),
                                b"\x01" + struct.pack("<H", port)]
            await ws.send_bytes(b"\x00ping\n")
            data = b""
            while data != b"echo:ping\n":
                message = await ws.receive_bytes()
                assert message[0] == 0
                data += message[1:]
    finally:
        server.close()
        await server.wait_closed()


async def test_bad_requests_are_refused_before_any_upgrade(node: Node) -> None:
    base = f"https://127.0.0.1:{node.kubelet.port}"
    async with aiohttp.ClientSession() as session:
        for path, status, text in [
            ("/exec/default/web/app?command=true", 400, "at least 1 of stdin, stdout, stderr"),
            ("/exec/default/web/app?output=1", 400, "you must specify a command"),
            ("/exec/default/web/nope?command=true&output=1", 404, 'container "nope"'),
            ("/exec/default/web/app?command=true&output=1", 400, "need an upgrade"),
            ("/portForward/default/nope?port=80", 404, 'pod "nope"'),
            ("/containerLogs/default/web/app?tailLines=x", 400, "tailLines"),
        ]:
            async with session.get(base + path, ssl=INSECURE) as answer:
                assert answer.status == status, path
                assert text in await answer.text(), path
