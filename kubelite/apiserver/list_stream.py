"""A LIST response written from the watch cache's encoded objects, a chunk at a time.

A list of 10,000 pods is about 15 MB of JSON. Built whole, each LIST in flight holds
that body (and, while it is assembled, a second copy), so 32 concurrent LISTs cost the
server gigabytes. kube-apiserver has streamed JSON lists since 1.33
(`StreamingCollectionEncodingToJSON`, apimachinery's serializer/json/collections.go):
it writes the list's head, then the items one by one, then the tail, and batches the
small writes into 128 KiB buffers (responsewriters/writers.go, lazyBatchWriter).

kubelite does the same with bytes it already has: every cached `Entry.raw` is the
object's JSON, so a chunk is a few hundred KB of them joined by commas. Each chunk is
awaited through aiohttp's writer, which waits for the transport to drain once its
buffer is past the high-water mark: a slow reader holds the writer back instead of
making the server buffer the rest of its list. Memory per LIST in flight is then the
snapshot's list of entry references plus about one chunk.

Guarantees:
- The body is byte for byte what joining the whole list would give (`list_body_chunks`
  concatenated is `head + b",".join(items) + tail`), and its Content-Length is exact,
  so a client cannot tell a streamed LIST from a buffered one.
- The entries are taken before the first byte is written: cached entries are
  immutable, so the list stays the consistent snapshot of its resourceVersion while
  the cache moves on.
- Nothing written here can fail but the connection; a client that goes away ends the
  response with the ConnectionError aiohttp expects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from kubelite.apiserver.negotiation import JSON
from kubelite.apiserver.watchcache import Entry

# Upstream measured a plateau from 128 KiB to 1 MiB; bigger bursts only make flow
# control choppier, smaller ones cost a write (and a drain check) per few items.
CHUNK_BYTES = 256 * 1024


def list_body_chunks(head: bytes, items: Iterable[bytes], tail: bytes,
                     chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """`head`, the items separated by commas, then `tail`, in pieces of about
    `chunk_bytes` (an item is never split; a piece may pass the size by one item)."""
    pending: list[bytes] = [head]
    size = len(head)
    separator = b""
    for raw in items:
        # Flushed before the next item rather than after this one: the tail then
        # always rides with the last items instead of being a write of its own.
        if size >= chunk_bytes:
            yield b"".join(pending)
            pending.clear()
            size = 0
        pending.append(separator)
        pending.append(raw)
        separator = b","
        size += len(raw) + 1
    pending.append(tail)
    yield b"".join(pending)


def list_body_length(head: bytes, entries: Sequence[Entry], tail: bytes) -> int:
    return len(head) + sum(len(e.raw) for e in entries) + max(len(entries) - 1, 0) + len(tail)


class StreamedList(web.StreamResponse):
    """A JSON list whose items are the entries' cached bytes, written when aiohttp
    finishes the response (after prepare(), in write_eof()), so the handler returns it
    unprepared like any other response."""

    def __init__(self, head: bytes, entries: Sequence[Entry], tail: bytes) -> None:
        super().__init__(status=200)
        self.content_type = JSON
        self.content_length = list_body_length(head, entries, tail)
        self._head = head
        self._entries: Sequence[Entry] | None = entries
        self._tail = tail
        self._head_only = False

    def whole_body(self) -> bytes:
        """The list as one document, for a record of the response (the audit log)."""
        entries = self._entries or ()
        return b"".join(list_body_chunks(self._head, (e.raw for e in entries), self._tail))

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        self._head_only = request.method == "HEAD"  # headers (and length) only
        return await super().prepare(request)

    async def write_eof(self, data: bytes = b"") -> None:
        entries, self._entries = self._entries, None  # drop the snapshot once written
        if entries is not None and not self._head_only:
            for chunk in list_body_chunks(self._head, (e.raw for e in entries), self._tail):
                # write() waits for the transport to drain when its buffer is full.
                await self.write(chunk)
        await super().write_eof(data)
