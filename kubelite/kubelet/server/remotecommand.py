"""exec and attach over WebSocket: the channel protocols of upstream's wsstream
(staging/src/k8s.io/apimachinery/pkg/util/httpstream/wsstream, and
pkg/kubelet/cri/streaming/remotecommand).

Every message carries one channel: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize.
The binary protocols put the channel in the first byte; the base64 ones send text,
the channel as an ASCII digit and the payload in base64. The protocols, best first:

- v5.channel.k8s.io: v4, plus a CLOSE message (channel 255, then the channel to
  close), so a client can end stdin without ending the connection;
- v4.channel.k8s.io (and v4.base64.channel.k8s.io): the error channel carries a
  metav1.Status as JSON when the command ends, Success or a NonZeroExitCode failure
  with the exit code as its cause (how `kubectl exec` exits with the command's code);
- channel.k8s.io, base64.channel.k8s.io: the error channel carries only the text of
  a failure.

Resize messages are JSON `{"Width": w, "Height": h}`. When the process ends and its
output has been sent, the status goes out on the error channel and the connection
closes. A client that goes away ends an exec's process (attach only detaches).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from kubelite.kubelet import cri

log = logging.getLogger(__name__)

STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE = 255
V5, V4, V4_BASE64 = "v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io"
BASE64, CHANNEL = "base64.channel.k8s.io", "channel.k8s.io"
PROTOCOLS = (V5, V4, V4_BASE64, BASE64, CHANNEL)

Obj = dict[str, Any]


@dataclass(frozen=True)
class StreamOptions:
    """What the request asks for (upstream's remotecommand NewOptions): `input`,
    `output`, `error` and `tty` (the names the API server sends, corev1.ExecStdinParam
    and friends; `stdin`, `stdout`, `stderr` are taken too), each on when `1` or `true`."""

    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool
    command: tuple[str, ...] = ()

    @classmethod
    def parse(cls, query: Any) -> StreamOptions:
        def on(name: str) -> bool:
            return str(query.get(name, "")).lower() in ("1", "true")
        tty = on("tty")
        return cls(on("input") or on("stdin"), on("output") or on("stdout"),
                   (on("error") or on("stderr")) and not tty, tty,
                   tuple(query.getall("command", ())))

    def problem(self) -> str | None:
        if not (self.stdin or self.stdout or self.stderr):
            return "you must specify at least 1 of stdin, stdout, stderr"
        return None


def exit_status(code: int, command: Sequence[str]) -> Obj:
    """The v4 error-channel Status of a finished command."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": (f"command terminated with non-zero exit code: error executing "
                        f"command [{' '.join(command)}], exit code {code}"),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def failure_status(message: str) -> Obj:
    return {"metadata": {}, "status": "Failure", "message": message,
            "reason": "InternalError", "code": 500}


class ChannelSocket:
    """One WebSocket speaking a channel protocol."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.protocol = ws.ws_protocol or CHANNEL
        self.base64 = "base64" in self.protocol
        self.structured = self.protocol in (V5, V4, V4_BASE64)  # JSON Status on ERROR

    async def send(self, channel: int, data: bytes) -> None:
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            if self.base64:
                await self.ws.send_str(chr(ord("0") + channel) + base64.b64encode(data).decode())
            else:
                await self.ws.send_bytes(bytes([channel]) + data)

    def decode(self, message: Any) -> tuple[int, bytes] | None:
        if message.type == WSMsgType.BINARY and not self.base64 and message.data:
            return message.data[0], bytes(message.data[1:])
        if message.type == WSMsgType.TEXT and self.base64 and message.data:
            try:
                return ord(message.data[0]) - ord("0"), base64.b64decode(message.data[1:])
            except ValueError:
                return None
        return None

    async def send_status(self, status: Obj) -> None:
        if self.structured:
            await self.send(ERROR, orjson.dumps(status))
        elif status.get("status") != "Success":
            await self.send(ERROR, str(status.get("message", "")).encode())


async def accept(request: web.Request) -> ChannelSocket:
    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True)
    await ws.prepare(request)
    return ChannelSocket(ws)


async def _pump(source: asyncio.StreamReader | None, socket: ChannelSocket, channel: int,
                wanted: bool) -> None:
    if source is None:
        return
    while chunk := await source.read(32 * 1024):
        if wanted:
            await socket.send(channel, chunk)


async def _read_client(socket: ChannelSocket, process: cri.StreamingProcess) -> None:
    """stdin, resize and close messages until the client goes."""
    async for message in socket.ws:
        decoded = socket.decode(message)
        if decoded is None:
            continue
        channel, data = decoded
        if channel == STDIN and process.stdin is not None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                process.stdin.write(data)
                await process.stdin.drain()
        elif channel == RESIZE:
            with contextlib.suppress(ValueError, TypeError, KeyError, OSError):
                size = orjson.loads(data)
                process.resize(int(size["Width"]), int(size["Height"]))
        elif channel == CLOSE and socket.protocol == V5 and data[:1] == bytes([STDIN]):
            if process.stdin is not None:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    process.stdin.close()


async def exit_code_unless_left(process: cri.StreamingProcess, client: asyncio.Future[Any],
                                output: asyncio.Future[Any], *, detach_on_leave: bool) -> int | None:
    """The process's exit code once it has ended and its output is copied out, or None
    when the client (`client` ends when it goes away) left first and the session
    detaches (attach: the container runs on). A client leaving kills an exec."""
    waiting = asyncio.ensure_future(process.wait())
    await asyncio.wait({waiting, client}, return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():  # the client went away first
        await process.kill()
        if detach_on_leave:
            waiting.cancel()
            return None
    code = await waiting
    with contextlib.suppress(asyncio.TimeoutError):
        # the output the process wrote before exiting; a child holding the pipes open
        # must not hold the connection too
        await asyncio.wait_for(asyncio.shield(output), timeout=2.0)
    return code


async def stream_process(socket: ChannelSocket, process: cri.StreamingProcess,
                         options: StreamOptions, *, detach_on_leave: bool) -> None:
    """Carries the process's streams until it ends (or the client leaves), then sends
    its status and closes the connection."""
    pumps = asyncio.gather(_pump(process.stdout, socket, STDOUT, options.stdout or options.tty),
                           _pump(process.stderr, socket, STDERR, options.stderr))
    client = asyncio.ensure_future(_read_client(socket, process))
    try:
        code = await exit_code_unless_left(process, client, pumps, detach_on_leave=detach_on_leave)
        if code is not None:
            await socket.send_status(exit_status(code, options.command))
    finally:
        pumps.cancel()
        client.cancel()
        with contextlib.suppress(BaseException):
            await pumps
        with contextlib.suppress(BaseException):
            await client
        await socket.ws.close()
