"""exec and attach over SPDY/3.1 (upstream's remotecommand/httpstream.go): what a
kube-apiserver speaks to kubelets (it translates kubectl's WebSocket into SPDY), and
what kubectl falls back to where WebSocket is refused.

The client upgrades with `X-Stream-Protocol-Version` listing the protocols it speaks
(v5.channel.k8s.io ... channel.k8s.io); the kubelet picks the first it knows and
waits for one stream per channel the request asked for, each named by its
`streamtype` header: error, stdin, stdout, stderr, and resize with a terminal.
stdin ends at the stream's FIN; resize carries JSON TerminalSize objects one after
another. When the process ends, the error stream gets the v4 Status (v4 and v5), or
the text of a failure (older protocols), and the connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from kubelite.kubelet import cri
from kubelite.kubelet.server.remotecommand import (
    StreamOptions, exit_code_unless_left, exit_status, failure_status)
from kubelite.machinery.httpstream import spdy
from kubelite.machinery.httpstream.upgrade import hijack

log = logging.getLogger(__name__)

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io",
             "v2.channel.k8s.io", "channel.k8s.io")
STRUCTURED = frozenset({"v5.channel.k8s.io", "v4.channel.k8s.io"})
STREAMS_TIMEOUT = 30.0  # upstream's DefaultStreamCreationTimeout

StartProcess = Callable[[], Awaitable[cri.StreamingProcess]]


def negotiate(request: web.Request) -> str | None:
    asked = [p.strip() for header in request.headers.getall("X-Stream-Protocol-Version", ())
             for p in header.split(",")]
    return next((p for p in asked if p in PROTOCOLS), None)


async def serve(request: web.Request, protocol: str, options: StreamOptions,
                start: StartProcess, *, detach_on_leave: bool) -> web.StreamResponse:
    connection = await hijack(request, {"Connection": "Upgrade", "Upgrade": "SPDY/3.1",
                                        "X-Stream-Protocol-Version": protocol})
    session = spdy.Session(connection.reader, connection.write)
    streams: dict[str, spdy.Stream] = {}
    wanted = {"error"} | {name for name, on in (("stdin", options.stdin),
                                                 ("stdout", options.stdout),
                                                 ("stderr", options.stderr)) if on}
    if options.tty and protocol != "channel.k8s.io" and protocol != "v2.channel.k8s.io":
        wanted.add("resize")
    arrived = asyncio.Event()

    def on_stream(stream: spdy.Stream) -> None:
        streams[stream.header("streamtype")] = stream
        if wanted <= streams.keys():
            arrived.set()

    serving = asyncio.ensure_future(session.serve(on_stream))
    try:
        try:
            await asyncio.wait_for(arrived.wait(), STREAMS_TIMEOUT)
        except asyncio.TimeoutError:
            log.info("exec: the client opened %s of %s", sorted(streams), sorted(wanted))
            return connection.response
        error = streams["error"]
        try:
            process = await start()
        except cri.CRIError as exc:
            await _send_status(error, protocol, failure_status(str(exc)))
            return connection.response
        await _run(process, streams, options, serving, protocol, detach_on_leave)
    finally:
        serving.cancel()
        with contextlib.suppress(BaseException):
            await serving
        connection.close()
    return connection.response


async def _send_status(error: spdy.Stream, protocol: str, status: dict[str, object]) -> None:
    if protocol in STRUCTURED:
        await error.write(json.dumps(status).encode())
    elif status.get("status") != "Success":
        await error.write(str(status.get("message", "")).encode())
    await error.close()


async def _copy_out(source: asyncio.StreamReader | None, sink: spdy.Stream | None) -> None:
    if source is None:
        return
    while chunk := await source.read(32 * 1024):
        if sink is not None:
            await sink.write(chunk)
    if sink is not None:
        await sink.close()


async def _copy_in(source: spdy.Stream | None, process: cri.StreamingProcess) -> None:
    if source is None or process.stdin is None:
        return
    with contextlib.suppress(ConnectionError, RuntimeError):
        while chunk := await source.reader.read(32 * 1024):
            process.stdin.write(chunk)
            await process.stdin.drain()
        process.stdin.close()


async def _resize(source: spdy.Stream | None, process: cri.StreamingProcess) -> None:
    if source is None:
        return
    decoder, buffer = json.JSONDecoder(), ""
    while chunk := await source.reader.read(4096):
        buffer += chunk.decode("utf-8", "replace")
        while buffer.strip():
            try:
                size, end = decoder.raw_decode(buffer.lstrip())
            except ValueError:
                break  # the rest of an object is still on its way
            buffer = buffer.lstrip()[end:]
            with contextlib.suppress(KeyError, TypeError, ValueError, OSError):
                process.resize(int(size["Width"]), int(size["Height"]))


async def _run(process: cri.StreamingProcess, streams: dict[str, spdy.Stream],
               options: StreamOptions, serving: asyncio.Future[None], protocol: str,
               detach_on_leave: bool) -> None:
    outputs = asyncio.gather(_copy_out(process.stdout, streams.get("stdout")),
                             _copy_out(process.stderr, streams.get("stderr")))
    inputs = [asyncio.ensure_future(_copy_in(streams.get("stdin"), process)),
              asyncio.ensure_future(_resize(streams.get("resize"), process))]
    try:
        # the connection ending (`serving`) is the client going away
        code = await exit_code_unless_left(process, serving, outputs, detach_on_leave=detach_on_leave)
        if code is not None:
            await _send_status(streams["error"], protocol, exit_status(code, options.command))
    finally:
        outputs.cancel()
        for task in inputs:
            task.cancel()
        with contextlib.suppress(BaseException):
            await outputs
