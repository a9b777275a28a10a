"""SPDY/3.1, the subset Kubernetes streams use (moby/spdystream as client-go drives it).

kubectl's port-forward, and its exec/attach where a server refuses WebSocket, upgrade
the HTTP connection to `SPDY/3.1` and open streams on it: each a SYN_STREAM with a
header block (`streamtype: data`, `port: 8080`, ...), then DATA frames each way, a
FIN flag to half-close, RST_STREAM to abort. That is what is here: frame encoding
and decoding (pure, `encode_frame` / `FrameDecoder`), and a `Session` that accepts
the peer's streams and carries their bytes.

Wire format (draft 3): a control frame is `1 | version(15) | type(16) | flags(8) |
length(24) | data`, a data frame `0 | stream-id(31) | flags(8) | length(24) | data`.
Header blocks are a count and length-prefixed names and values (several values of
one name joined by NUL), zlib-compressed with SPDY's dictionary in ONE stream per
direction for the whole connection, flushed (Z_SYNC_FLUSH) after each block: the
order frames are encoded in is the order they must be sent in, so the session
encodes and writes under one lock.

Flow control (WINDOW_UPDATE) is read and ignored, as spdystream does: neither end
enforces windows. PINGs are answered.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS = 1, 2, 3, 4
PING, GOAWAY, HEADERS, WINDOW_UPDATE = 6, 7, 8, 9
FLAG_FIN = 0x01
MAX_DATA = (1 << 24) - 1

# RST_STREAM status codes
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, CANCEL, INTERNAL_ERROR = 1, 2, 3, 5, 6

_WORDS = (
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
    "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
    "cache-control", "connection", "content-base", "content-encoding", "content-language",
    "content-length", "content-location", "content-md5", "content-range", "content-type",
    "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
    "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
    "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range",
    "referer", "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
    "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get", "status",
    "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin",
)
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417"
    "502504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
    "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
    "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct"
    " Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
    "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8"
    "charset=iso-8859-1,utf-,*,enq=0."
)
# The zlib dictionary of SPDY/3 header blocks (draft 3, section 2.6.10.1): each word
# with its 32-bit length, then the tail as is.
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()

Headers = dict[str, list[str]]


class ProtocolError(Exception):
    """The peer sent something that is not SPDY/3.1."""


@dataclass(frozen=True)
class DataFrame:
    stream_id: int
    data: bytes
    fin: bool = False


@dataclass(frozen=True)
class ControlFrame:
    """A control frame, decoded: `stream_id` for the stream-scoped ones, `headers` for
    SYN_STREAM, SYN_REPLY and HEADERS, `value` the status (RST_STREAM, GOAWAY), ping
    id or window delta."""

    kind: int
    flags: int = 0
    stream_id: int = 0
    headers: Headers = field(default_factory=dict)
    value: int = 0
    associated_id: int = 0
    priority: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


Frame = DataFrame | ControlFrame


def _header_block(headers: Headers) -> bytes:
    out = [struct.pack(">I", len(headers))]
    for name, values in headers.items():
        raw_name = name.lower().encode()
        raw_value = "\0".join(values).encode()
        out += [struct.pack(">I", len(raw_name)), raw_name,
                struct.pack(">I", len(raw_value)), raw_value]
    return b"".join(out)


def _parse_header_block(block: bytes) -> Headers:
    try:
        (count,) = struct.unpack_from(">I", block, 0)
        at, headers = 4, {}
        for _ in range(count):
            (size,) = struct.unpack_from(">I", block, at)
            name = block[at + 4:at + 4 + size].decode()
            at += 4 + size
            (size,) = struct.unpack_from(">I", block, at)
            value = block[at + 4:at + 4 + size].decode()
            at += 4 + size
            headers[name] = value.split("\0")
    except (struct.error, UnicodeDecodeError) as exc:
        raise ProtocolError(f"bad header block: {exc}") from None
    return headers


class FrameEncoder:
    """Frames to bytes; one per connection direction (it owns the header compressor)."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zdict=DICTIONARY)

    def _compress(self, headers: Headers) -> bytes:
        return (self._compressor.compress(_header_block(headers))
                + self._compressor.flush(zlib.Z_SYNC_FLUSH))

    def encode(self, frame: Frame) -> bytes:
        if isinstance(frame, DataFrame):
            if len(frame.data) > MAX_DATA:
                raise ValueError("data frame too large")
            return (struct.pack(">II", frame.stream_id & 0x7FFFFFFF,
                                (FLAG_FIN if frame.fin else 0) << 24 | len(frame.data))
                    + frame.data)
        kind = frame.kind
        if kind == SYN_STREAM:
            body = struct.pack(">IIBB", frame.stream_id, frame.associated_id,
                               (frame.priority & 7) << 5, 0) + self._compress(frame.headers)
        elif kind in (SYN_REPLY, HEADERS):
            body = struct.pack(">I", frame.stream_id) + self._compress(frame.headers)
        elif kind in (RST_STREAM, WINDOW_UPDATE):
            body = struct.pack(">II", frame.stream_id, frame.value)
        elif kind == GOAWAY:
            body = struct.pack(">II", frame.stream_id, frame.value)
        elif kind == PING:
            body = struct.pack(">I", frame.value)
        elif kind == SETTINGS:
            body = struct.pack(">I", 0)
        else:
            raise ValueError(f"unknown control frame type {kind}")
        return struct.pack(">HHI", 0x8000 | VERSION, kind, frame.flags << 24 | len(body)) + body


class FrameDecoder:
    """Bytes to frames; one per connection direction (it owns the decompressor)."""

    def __init__(self) -> None:
        self._decompressor = zlib.decompressobj(zdict=DICTIONARY)

    def _headers(self, compressed: bytes) -> Headers:
        try:
            return _parse_header_block(self._decompressor.decompress(compressed))
        except zlib.error as exc:
            raise ProtocolError(f"bad header compression: {exc}") from None

    def decode(self, head: bytes, body: bytes) -> Frame:
        """One frame from its 8-byte head and the `length` bytes after it."""
        first, second = struct.unpack(">II", head)
        flags = second >> 24
        if not first & 0x80000000:
            return DataFrame(first & 0x7FFFFFFF, body, bool(flags & FLAG_FIN))
        version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"unsupported SPDY version {version}")
        try:
            if kind == SYN_STREAM:
                stream_id, associated, priority = struct.unpack_from(">IIB", body)
                return ControlFrame(kind, flags, stream_id & 0x7FFFFFFF,
                                    self._headers(body[10:]),
                                    associated_id=associated & 0x7FFFFFFF,
                                    priority=priority >> 5)
            if kind in (SYN_REPLY, HEADERS):
                (stream_id,) = struct.unpack_from(">I", body)
                return ControlFrame(kind, flags, stream_id & 0x7FFFFFFF, self._headers(body[4:]))
            if kind in (RST_STREAM, WINDOW_UPDATE, GOAWAY):
                stream_id, value = struct.unpack_from(">II", body)
                return ControlFrame(kind, flags, stream_id & 0x7FFFFFFF, value=value)
            if kind == PING:
                (ping_id,) = struct.unpack_from(">I", body)
                return ControlFrame(kind, flags, value=ping_id)
        except struct.error:
            raise ProtocolError(f"short control frame of type {kind}") from None
        return ControlFrame(kind, flags)  # SETTINGS and others: nothing kept

    async def read(self, reader: asyncio.StreamReader) -> Frame | None:
        """The next frame, or None at the end of the connection."""
        try:
            head = await reader.readexactly(8)
            length = struct.unpack(">I", head[4:])[0] & 0xFFFFFF
            body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return None
        return self.decode(head, body)


class Stream:
    """One SPDY stream as the server sees it: what the peer sends arrives in `reader`
    (EOF at its FIN or a reset); `write` and `close` send and half-close."""

    def __init__(self, session: Session, stream_id: int, headers: Headers) -> None:
        self.session = session
        self.id = stream_id
        self.headers = headers
        self.reader = asyncio.StreamReader(limit=1 << 22)
        self.closed = False  # our side sent FIN or RST
        self.reset_by_peer = False

    def header(self, name: str) -> str:
        return (self.headers.get(name.lower()) or [""])[0]

    async def write(self, data: bytes) -> None:
        if self.closed:
            return
        for start in range(0, len(data), 1 << 16):
            await self.session.send(DataFrame(self.id, data[start:start + (1 << 16)]))

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.session.send(DataFrame(self.id, b"", fin=True))

    async def reset(self, status: int = CANCEL) -> None:
        if not self.closed:
            self.closed = True
            await self.session.send(ControlFrame(RST_STREAM, stream_id=self.id, value=status))


class Session:
    """The server end of a SPDY connection: accepts every stream the peer opens
    (SYN_REPLY) and hands it to `on_stream`; `serve` returns when the connection ends,
    and every stream's reader then sees EOF."""

    def __init__(self, reader: asyncio.StreamReader,
                 write: Callable[[bytes], Awaitable[None]]) -> None:
        self._reader = reader
        self._write = write
        self._encoder = FrameEncoder()
        self._decoder = FrameDecoder()
        self._lock = asyncio.Lock()
        self.streams: dict[int, Stream] = {}
        self.closed = False

    async def send(self, frame: Frame) -> None:
        if self.closed:
            return
        async with self._lock:  # encode and write in one order: the compressor is shared
            try:
                await self._write(self._encoder.encode(frame))
            except (ConnectionError, RuntimeError):
                self.closed = True

    async def serve(self, on_stream: Callable[[Stream], None]) -> None:
        try:
            while (frame := await self._decoder.read(self._reader)) is not None:
                await self._dispatch(frame, on_stream)
        except ProtocolError:
            await self.send(ControlFrame(GOAWAY, value=1))
        finally:
            self.closed = True
            for stream in self.streams.values():
                stream.reader.feed_eof()

    async def _dispatch(self, frame: Frame, on_stream: Callable[[Stream], None]) -> None:
        if isinstance(frame, DataFrame):
            stream = self.streams.get(frame.stream_id)
            if stream is None:
                await self.send(ControlFrame(RST_STREAM, stream_id=frame.stream_id,
                                             value=INVALID_STREAM))
                return
            if frame.data:
                stream.reader.feed_data(frame.data)
            if frame.fin:
                stream.reader.feed_eof()
            return
        if frame.kind == SYN_STREAM:
            stream = Stream(self, frame.stream_id, frame.headers)
            self.streams[frame.stream_id] = stream
            await self.send(ControlFrame(SYN_REPLY, stream_id=frame.stream_id))
            if frame.fin:
                stream.reader.feed_eof()
            on_stream(stream)
        elif frame.kind == RST_STREAM:
            if (stream := self.streams.get(frame.stream_id)) is not None:
                stream.reset_by_peer = stream.closed = True
                stream.reader.feed_eof()
        elif frame.kind == PING:
            await self.send(frame)
        elif frame.kind == GOAWAY:
            self.closed = True
            for stream in self.streams.values():
                stream.reader.feed_eof()
