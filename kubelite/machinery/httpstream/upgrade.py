"""Taking an HTTP connection over from aiohttp after a `101 Switching Protocols`.

aiohttp hands a WebSocket upgrade to its own reader; for any other protocol
(SPDY/3.1, or bytes spliced through a proxy) the handler answers 101 itself and
then owns the socket: `RawConnection.reader` gets every byte the client sends after
the request (including any it sent along with it), `write` sends bytes as they are.
The handler keeps running for as long as the connection lives; when it returns,
aiohttp closes the socket (keep-alive is off).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web


class _RawResponse(web.StreamResponse):
    _length_check = False  # no Content-Length, no chunking: the bytes that follow are raw


class _Feed:
    """The shape aiohttp's protocol wants of a payload parser, feeding a StreamReader."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.reader.feed_data(data)
        return False, b""

    def feed_eof(self) -> None:
        self.reader.feed_eof()


class RawConnection:
    def __init__(self, response: web.StreamResponse, reader: asyncio.StreamReader) -> None:
        self.response = response
        self.reader = reader

    async def write(self, data: bytes) -> None:
        await self.response.write(data)

    def close(self) -> None:
        transport = self.response._req.transport if self.response._req else None  # noqa: SLF001
        if transport is not None:
            transport.close()


async def hijack(request: web.Request, headers: Mapping[str, str]) -> RawConnection:
    """Answers `101 Switching Protocols` with `headers` and returns the raw connection."""
    response = _RawResponse(status=101, reason="Switching Protocols", headers=headers)
    response.force_close()
    await response.prepare(request)
    reader = asyncio.StreamReader(limit=1 << 22)
    request.protocol.set_parser(_Feed(reader))  # type: ignore[arg-type]
    request.protocol.keep_alive(False)
    return RawConnection(response, reader)


def wants_upgrade(request: web.Request, protocol: str) -> bool:
    """Whether the request asks to switch to `protocol` (case-insensitively)."""
    connection = request.headers.get("Connection", "").lower()
    upgrade = request.headers.get("Upgrade", "").lower()
    return "upgrade" in connection and protocol.lower() in upgrade
