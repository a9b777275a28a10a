"""A watch as an async iterator of `(type, object)` events.

The server's watch body is a chunked stream of JSON objects, one per line
(`{"type":"ADDED","object":{...}}`). Types are ADDED, MODIFIED, DELETED, BOOKMARK and
ERROR. BOOKMARK events are yielded (they carry only a resourceVersion, and the
`k8s.io/initial-events-end` annotation ending a watch-list's initial state); an ERROR
event is raised as the StatusError its Status names, so a 410 Expired surfaces as
`errors.Gone` and the caller relists. A non-2xx answer to the watch request itself is
raised the same way before any event.

The iterator ends when the server ends the stream (its timeout, or a restart); the
caller resumes from the last resourceVersion it saw. Leaving early must close the
request: use `async with client.watch(...) as events:` or call `aclose()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import orjson

from kubelite.client.status import from_body, from_status
from kubelite.client.transport import Stream, TransportError

Obj = dict[str, Any]
WatchEvent = tuple[str, Obj]

INITIAL_EVENTS_END = "k8s.io/initial-events-end"
EVENT_TYPES = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"})


# The watchers of one process that see the same event receive the same bytes: the
# server writes each frame around the watch cache's one encoding of the object, so the
# scheduler's, the control loops' and the simulated kubelets' informers of a pod all
# read one line. It is decoded once and every watcher gets the same object: one copy
# of each pod in memory instead of one per component, and one decode instead of
# several. Objects from a watch are read-only for everyone who holds them, as
# client-go's are (informers, listers and handlers never edit them in place).
_RECENT: dict[bytes, WatchEvent] = {}
_RECENT_MAX = 1024  # enough for every watcher of a burst to find the event


def parse_event(line: bytes) -> WatchEvent:
    """One line of the stream as (type, object); ERROR raises its Status error."""
    hit = _RECENT.get(line)
    if hit is not None:
        return hit
    event = _decode_event(line)
    if len(_RECENT) >= _RECENT_MAX:
        del _RECENT[next(iter(_RECENT))]  # the oldest: dicts keep insertion order
    _RECENT[line] = event
    return event


def _decode_event(line: bytes) -> WatchEvent:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise TransportError(f"malformed watch event: {line[:200]!r}") from exc
    type_ = event.get("type") if isinstance(event, dict) else None
    obj = event.get("object") if isinstance(event, dict) else None
    if type_ not in EVENT_TYPES or not isinstance(obj, dict):
        raise TransportError(f"malformed watch event: {line[:200]!r}")
    if type_ == "ERROR":
        raise from_status(obj, int(obj.get("code") or 500))
    return type_, obj


def is_initial_events_end(obj: Obj) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return annotations.get(INITIAL_EVENTS_END) == "true"


class Watch:
    """The events of one watch request; opened lazily on first iteration."""

    def __init__(self, opener: Awaitable[Stream]) -> None:
        self._opener: Awaitable[Stream] | None = opener
        self._stream: Stream | None = None
        self._events: AsyncIterator[WatchEvent] | None = None
        self._closed = False

    async def _run(self) -> AsyncIterator[WatchEvent]:
        assert self._opener is not None
        opener, self._opener = self._opener, None
        self._stream = stream = await opener
        if self._closed:
            await stream.close()
            return
        if stream.status >= 300:
            body = await stream.read()
            await stream.close()
            raise from_body(body, stream.status)
        async for line in stream.lines():
            if line.strip():
                yield parse_event(line)

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> WatchEvent:
        if self._closed:
            raise StopAsyncIteration
        if self._events is None:
            self._events = self._run()
        try:
            return await self._events.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            raise
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        self._closed = True
        if self._opener is not None:
            # Never opened: awaiting the opener would start a request just to end it.
            opener, self._opener = self._opener, None
            if hasattr(opener, "close"):
                opener.close()
        if self._stream is not None:
            await self._stream.close()
        if self._events is not None:
            try:
                await self._events.aclose()  # type: ignore[attr-defined]
            except RuntimeError:
                pass  # still running in another task; closing the stream ends it

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
