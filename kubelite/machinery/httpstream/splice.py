"""Passing an upgrade request on to another server and splicing the two connections
(apimachinery's UpgradeAwareHandler): the API server does it towards kubelets, and a
kubelet on a CRI runtime does it towards the runtime's streaming server, as upstream's
kubelet proxies exec, attach and port-forward to containerd's.

`open_upgrade` sends the request (method and headers as the client sent them, no
body) on a connection of its own and reads the answer's head; `splice_upgrade`
answers the client with the other server's `101` and its headers, then copies bytes
both ways unread until either side closes; an answer other than 101 goes back to the
client as it came. Connecting has a deadline; a server that closes or garbles its
answer is a 503 with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp import web

from kubelite.machinery import errors
from kubelite.machinery.httpstream.upgrade import RawConnection, hijack

Headers = list[tuple[str, str]]
# hop-by-hop answer headers that aiohttp sets itself
_ANSWER_DROPPED = frozenset({"transfer-encoding", "content-length", "connection"})


async def open_upgrade(url: str, method: str, headers: Iterable[tuple[str, str]], *,
                       ssl_context: ssl.SSLContext | None = None, connect_timeout: float = 10.0,
                       peer: str = "the server"
                       ) -> tuple[int, Headers, bytes, asyncio.StreamReader, asyncio.StreamWriter]:
    """Sends a request on a connection of its own; returns the answer's status,
    headers and (for a non-101) body, and the connection. errors.ServiceUnavailable
    names `peer` when it cannot be reached or answers garbage."""
    parts = urlsplit(url)
    secure = parts.scheme in ("https", "wss")
    port = parts.port or (443 if secure else 80)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            parts.hostname, port, ssl=ssl_context if secure else None, limit=1 << 22),
            connect_timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise errors.ServiceUnavailable(f"error trying to reach {peer}: {exc}") from None
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}",
             *(f"{k}: {v}" for k, v in headers), "Content-Length: 0", "", ""]
    writer.write("\r\n".join(lines).encode("latin-1"))
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as exc:
        writer.close()
        raise errors.ServiceUnavailable(f"{peer} closed the connection: {exc}") from None
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(status_line.split(" ", 2)[1])
    except (IndexError, ValueError):
        writer.close()
        raise errors.ServiceUnavailable(f"bad answer from {peer}: {status_line!r}") from None
    answer = [(k.strip(), v.strip()) for k, _, v in
              (line.partition(":") for line in header_lines if line)]
    body = b""
    if status != 101:
        length = next((int(v) for k, v in answer if k.lower() == "content-length"), None)
        with contextlib.suppress(asyncio.IncompleteReadError, OSError, asyncio.TimeoutError):
            body = (await reader.readexactly(length) if length is not None
                    else await asyncio.wait_for(reader.read(1 << 16), 5))
        writer.close()
    return status, answer, body, reader, writer


async def splice_upgrade(request: web.Request, url: str, headers: Iterable[tuple[str, str]], *,
                         ssl_context: ssl.SSLContext | None = None,
                         connect_timeout: float = 10.0,
                         peer: str = "the server") -> web.StreamResponse:
    """Passes the upgrade request on to `url` and splices the connections."""
    status, answer, body, reader, writer = await open_upgrade(
        url, request.method, headers, ssl_context=ssl_context,
        connect_timeout=connect_timeout, peer=peer)
    if status != 101:
        return web.Response(status=status, body=body, headers={
            k: v for k, v in answer if k.lower() not in _ANSWER_DROPPED})
    client = await hijack(request, {k: v for k, v in answer
                                    if k.lower() not in ("date", "server")})
    await splice(client, reader, writer)
    return client.response


async def splice(client: RawConnection, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
    """Copies bytes both ways until either side closes, then closes both."""
    async def up() -> None:
        while chunk := await client.reader.read(64 * 1024):
            writer.write(chunk)
            await writer.drain()

    async def down() -> None:
        while chunk := await reader.read(64 * 1024):
            await client.write(chunk)

    await race(up(), down())
    writer.close()
    client.close()


async def race(*coroutines: object) -> None:
    """Runs the copies until the first ends (its side closed), then stops the rest."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]  # type: ignore[call-overload]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
