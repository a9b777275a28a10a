"""In-process transport: call kubelite's API server handler without a socket.

Components that run inside the API server's process (the controller manager and
scheduler of `kubelite server`) use the same Client as remote ones, but their requests
skip TCP, HTTP parsing and serialization of the response head. Each request becomes an
aiohttp `BaseRequest` built directly from a `RawRequestMessage` with small stand-ins for
the protocol, payload and writer (`make_mocked_request` does the same with `Mock`
objects, which cost more than the request itself), and goes to the server's single
entry point `handle(request)`.

- A plain response (a `web.Response` the handler returns unprepared) is read straight
  from the object: its status, headers and body bytes, with no encoding step.
- A streamed response (a watch: the handler prepares it and writes chunks) runs as a
  task whose writer puts each chunk on a bounded queue; the queue's bound gives the
  same back-pressure a slow socket would. Closing the stream cancels that task, which
  is what a dropped connection does to the server's watch.

Guarantees: the handler sees exactly what it would over HTTP for path, query, method,
headers and body; the body limit is the server's own (`client_max_size`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.http import HttpVersion11, RawRequestMessage
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from kubelite.client.transport import Response, Stream, TransportError

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]

_EOF = b""  # queue sentinel: the handler finished its response


class _Protocol:
    """What BaseRequest reads from its connection: peer and limits, no socket."""

    ssl_context = None
    peername = ("127.0.0.1", 0)
    sockname = ("127.0.0.1", 0)
    transport = None
    max_field_size = 8190
    max_line_length = 8190
    max_headers = 128


_PROTOCOL = _Protocol()


class _Payload:
    """A request body already whole in memory, read the way StreamReader is."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def at_eof(self) -> bool:
        return not self._data

    def set_read_chunk_size(self, size: int) -> None:
        pass

    async def readany(self) -> bytes:
        data, self._data = self._data, b""
        return data

    async def read(self, n: int = -1) -> bytes:
        return await self.readany()

    def exception(self) -> BaseException | None:
        return None


class _Writer:
    """The response writer: records the head, queues body chunks for the reader."""

    buffer_size = 0
    output_size = 0
    length: int | None = 0
    on_body_write = None
    transport = None

    def __init__(self, max_chunks: int) -> None:
        self.status = 0
        self.headers: Mapping[str, str] = {}
        self.started = asyncio.Event()
        self.chunks: asyncio.Queue[bytes] = asyncio.Queue(max_chunks)
        self.eof_pending = False  # ended while the queue was full: no room for _EOF

    def end(self, _task: object = None) -> None:
        """Marks the end of the body even when the handler failed mid-stream, so a
        reader never waits on a handler that is gone."""
        try:
            self.chunks.put_nowait(_EOF)
        except asyncio.QueueFull:
            self.eof_pending = True

    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        self.status = int(status_line.split(" ", 2)[1])
        self.headers = headers
        self.started.set()

    def send_headers(self) -> None:
        pass

    def enable_chunking(self) -> None:
        pass

    def enable_compression(self, encoding: str = "deflate",
                           strategy: int | None = None) -> None:
        pass  # nothing to save by compressing bytes that never leave the process

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        if chunk:
            self.output_size += len(chunk)
            await self.chunks.put(bytes(chunk))

    async def write_eof(self, chunk: bytes = b"") -> None:
        await self.write(chunk)

    async def drain(self) -> None:
        pass


class _InProcessStream:
    def __init__(self, status: int, headers: Mapping[str, str], writer: _Writer | None,
                 task: asyncio.Future[Any] | None, body: bytes = b"") -> None:
        self.status = status
        self.headers = headers
        self._writer = writer
        self._task = task
        self._body = body

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._writer is None:
            if self._body:
                yield self._body
            return
        queue = self._writer.chunks
        while True:
            if queue.empty() and self._writer.eof_pending:
                return
            chunk = await queue.get()
            if not chunk:  # _EOF; write() never queues an empty chunk
                return
            yield chunk

    async def read(self) -> bytes:
        return b"".join([c async for c in self._chunks()])

    async def lines(self) -> AsyncIterator[bytes]:
        pending = b""
        async for chunk in self._chunks():
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line + b"\n"
        if pending:
            yield pending

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass  # the server's own handler logged what mattered

    async def __aenter__(self) -> _InProcessStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _plain(response: web.StreamResponse) -> tuple[int, Mapping[str, str], bytes] | None:
    """Status, headers and body of a response that was returned unprepared with its
    body in memory; None when it must be prepared and written to be read."""
    if response.prepared or not isinstance(response, web.Response):
        return None
    body = response.body
    if body is None:
        return response.status, response.headers, b""
    if isinstance(body, (bytes, bytearray)):
        return response.status, response.headers, bytes(body)
    return None


class InProcessTransport:
    """A Transport whose server is a handler in this event loop:
    `InProcessTransport(server.handle)` for a kubelite APIServer. `token` becomes
    `Authorization: Bearer`, as with HTTPTransport: a component in the server's
    process is authenticated like any other client."""

    def __init__(self, handler: Handler, *, token: str | None = None,
                 client_max_size: int = 16 << 20, stream_buffer: int = 256) -> None:
        self._handler = handler
        self._authorization = f"Bearer {token}" if token else None
        self._client_max_size = client_max_size
        self._stream_buffer = stream_buffer

    def _build(self, method: str, path: str, params: Mapping[str, str] | None,
               body: bytes | None, headers: Mapping[str, str] | None,
               writer: _Writer) -> web.BaseRequest:
        url = URL.build(path=path, query=params or None)
        hdrs: CIMultiDict[str] = CIMultiDict(headers or {})
        hdrs.setdefault("Host", "kubelite.in-process")
        if self._authorization is not None:
            hdrs.setdefault("Authorization", self._authorization)
        if body:
            hdrs["Content-Length"] = str(len(body))
        message = RawRequestMessage(
            method, str(url), HttpVersion11, CIMultiDictProxy(hdrs), (), False, None,
            False, False, url)
        return web.BaseRequest(message, _Payload(body or b""), _PROTOCOL, writer,  # type: ignore[arg-type]
                               asyncio.current_task(), asyncio.get_running_loop(),  # type: ignore[arg-type]
                               client_max_size=self._client_max_size)

    async def request(self, method: str, path: str, *,
                      params: Mapping[str, str] | None = None,
                      body: bytes | None = None,
                      headers: Mapping[str, str] | None = None) -> Response:
        writer = _Writer(0)  # unbounded: the whole body is wanted anyway
        request = self._build(method, path, params, body, headers, writer)
        response = await self._handler(request)
        plain = _plain(response)
        if plain is not None:
            return Response(plain[0], plain[2], plain[1])
        if not response.prepared:
            await response.prepare(request)
            await response.write_eof()
        chunks = []
        while not writer.chunks.empty():
            chunks.append(writer.chunks.get_nowait())
        return Response(writer.status, b"".join(chunks), writer.headers)

    async def stream(self, method: str, path: str, *,
                     params: Mapping[str, str] | None = None,
                     headers: Mapping[str, str] | None = None) -> Stream:
        writer = _Writer(self._stream_buffer)
        request = self._build(method, path, params, None, headers, writer)
        task: asyncio.Future[web.StreamResponse] = asyncio.ensure_future(
            self._handler(request))
        task.add_done_callback(writer.end)
        started = asyncio.create_task(writer.started.wait())
        try:
            await asyncio.wait((task, started), return_when=asyncio.FIRST_COMPLETED)
        finally:
            started.cancel()
        if writer.started.is_set():
            return _InProcessStream(writer.status, writer.headers, writer, task)
        try:
            response = task.result()
        except Exception as exc:
            raise TransportError(f"{method} {path}: handler failed: {exc}") from exc
        plain = _plain(response)
        if plain is None:  # a handler that returned a payload object: write it out
            writer = _Writer(0)
            request._payload_writer = writer  # type: ignore[assignment]
            await response.prepare(request)
            await response.write_eof()
            writer.end()
            return _InProcessStream(writer.status, writer.headers, writer, None)
        return _InProcessStream(plain[0], plain[1], None, None, plain[2])

    async def close(self) -> None:
        pass
