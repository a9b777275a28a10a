"""port-forward into a pod's network (pkg/kubelet/cri/streaming/portforward).

Two ways in, as upstream:

- SPDY/3.1 (`X-Stream-Protocol-Version: portforward.k8s.io`), what kubectl speaks,
  directly or tunnelled through a WebSocket by the API server: the client opens a
  pair of streams per connection it forwards, both with headers `port` and
  `requestid`, one `streamtype: error` and one `streamtype: data`. Once both are
  there the kubelet connects to the port inside the pod and copies bytes both ways;
  a failure to connect is written to the error stream. The client's FIN on the data
  stream half-closes the pod connection; the pod's EOF ends the data stream.
- WebSocket (`?port=8080&port=9090`): per port i, channel 2i carries data and 2i+1
  errors; under v4.channel.k8s.io (and its base64 form) each channel first sends the
  port as two little-endian bytes. portforward.k8s.io sends no such prefix. The socket
  closes once every port's pod connection has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Awaitable, Callable

from aiohttp import web

from kubelite.kubelet.server.remotecommand import V4, V4_BASE64, BASE64, ChannelSocket
from kubelite.machinery.httpstream import spdy
from kubelite.machinery.httpstream.upgrade import RawConnection

log = logging.getLogger(__name__)

PROTOCOL = "portforward.k8s.io"
WEBSOCKET_PROTOCOLS = (V4, V4_BASE64, BASE64, PROTOCOL)
Dial = Callable[[int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


async def _copy_to_writer(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        while chunk := await source.read(64 * 1024):
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()


async def serve_spdy(connection: RawConnection, dial: Dial, describe: str) -> None:
    """Runs the SPDY session until the client closes the connection."""
    session = spdy.Session(connection.reader, connection.write)
    pending: dict[str, dict[str, spdy.Stream]] = {}
    tasks: set[asyncio.Task[None]] = set()

    def on_stream(stream: spdy.Stream) -> None:
        request = stream.header("requestid") or str(stream.id)
        pair = pending.setdefault(request, {})
        pair[stream.header("streamtype")] = stream
        if "data" in pair and "error" in pair:
            del pending[request]
            task = asyncio.ensure_future(_forward(pair["data"], pair["error"], dial, describe))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    try:
        await session.serve(on_stream)
    finally:
        for task in list(tasks):
            task.cancel()
        connection.close()


async def _forward(data: spdy.Stream, error: spdy.Stream, dial: Dial, describe: str) -> None:
    port_text = data.header("port")
    try:
        port = int(port_text)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        await error.write(f'invalid port "{port_text}"'.encode())
        await error.close()
        await data.close()
        return
    try:
        reader, writer = await dial(port)
    except Exception as exc:  # noqa: BLE001 - every failure goes to the client
        await error.write(f"error forwarding port {port} to pod {describe}: {exc}".encode())
        await error.close()
        await data.close()
        return
    upstream = asyncio.ensure_future(_copy_to_writer(data.reader, writer))
    try:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(64 * 1024):
                await data.write(chunk)
        await data.close()
        await upstream
    finally:
        upstream.cancel()
        writer.close()
        await error.close()


async def serve_websocket(request: web.Request, dial: Dial, describe: str) -> web.StreamResponse:
    ports: list[int] = []
    for text in request.query.getall("port", ()):
        try:
            port = int(text)
        except ValueError:
            raise web.HTTPBadRequest(text=f'unable to parse "{text}" as a port') from None
        if not 0 < port < 65536:
            raise web.HTTPBadRequest(text=f"port {port} must be > 0 and < 65536")
        ports.append(port)
    if not ports:
        raise web.HTTPBadRequest(text="query parameter \"port\" is required")
    ws = web.WebSocketResponse(protocols=WEBSOCKET_PROTOCOLS)
    await ws.prepare(request)
    socket = ChannelSocket(ws)
    prefixed = socket.protocol != PROTOCOL
    connections: dict[int, asyncio.StreamWriter] = {}
    tasks = []
    for index, port in enumerate(ports):
        if prefixed:
            await socket.send(2 * index, struct.pack("<H", port))
            await socket.send(2 * index + 1, struct.pack("<H", port))
        try:
            reader, writer = await dial(port)
        except Exception as exc:  # noqa: BLE001
            await socket.send(2 * index + 1,
                              f"error forwarding port {port} to pod {describe}: {exc}".encode())
            continue
        connections[2 * index] = writer
        tasks.append(asyncio.ensure_future(_pump_port(reader, socket, 2 * index)))

    async def close_when_done() -> None:
        # as upstream: once every port's pod connection has ended, the socket closes
        await asyncio.gather(*tasks, return_exceptions=True)
        await ws.close()

    closer = asyncio.ensure_future(close_when_done())
    try:
        async for message in ws:
            decoded = socket.decode(message)
            if decoded is None:
                continue
            channel, payload = decoded
            if (target := connections.get(channel)) is not None:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    target.write(payload)
                    await target.drain()
    finally:
        closer.cancel()
        for task in tasks:
            task.cancel()
        for writer in connections.values():
            writer.close()
    return ws


async def _pump_port(reader: asyncio.StreamReader, socket: ChannelSocket, channel: int) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(64 * 1024):
            await socket.send(channel, chunk)
