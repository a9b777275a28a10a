"""WATCH: a chunked stream of JSON events, one per line, served from the watch cache.

Start points, as upstream's cacher:
- resourceVersion unset or "0": synthetic ADDED events for the current objects, then
  every change;
- resourceVersion N: every change after N; N older than the cache's history gives one
  ERROR event carrying a 410 Expired Status (client-go then relists);
- sendInitialEvents=true (watch-list, client-go's default in 1.35): the current objects
  as ADDED events, then a BOOKMARK annotated `k8s.io/initial-events-end`, then changes.

With a selector, an object that stops matching is sent as DELETED and one that starts
matching as ADDED, so the client's view equals a fresh filtered list.
Bookmarks (allowWatchBookmarks) carry only the current resourceVersion: at the end of
the initial events, about once a minute, and two seconds before the watch times out,
as upstream's cacheWatcher.nextBookmarkTime schedules them, so a client that resumes
after the timeout starts from a fresh resourceVersion rather than from its last event
(which may have left the history since).
"""

from __future__ import annotations

import random
import time
from typing import Any

import orjson
from aiohttp import web

from kubelite.apiserver.audit.auditor import response_started
from kubelite.apiserver.negotiation import JSON, Accept
from kubelite.apiserver.registry.listing import Predicate, make_predicate
from kubelite.apiserver.registry.store import Store
from kubelite.apiserver.responses import entry_bytes, entry_object, to_table
from kubelite.apiserver.routing import RequestInfo
from kubelite.apiserver.watchcache import CacheEvent, Entry
from kubelite.machinery import errors
from kubelite.machinery.options import ListOptions

Obj = dict[str, Any]

BOOKMARK_INTERVAL = 60.0
BOOKMARK_BEFORE_TIMEOUT = 2.0
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


class _Encoder:
    """Encodes events for one watch: as plain objects, or as one-row Tables."""

    def __init__(self, store: Store, version: str, accept: Accept) -> None:
        self.store = store
        self.version = version
        self.accept = accept
        self.first_table = True

    def event(self, type_: str, entry: Entry) -> bytes:
        if not self.accept.table:
            raw = entry_bytes(self.store.spec, self.version, entry)
        else:
            obj = entry_object(self.store.spec, self.version, entry)
            table = to_table(self.store.spec, self.version, [obj], self.accept)
            if not self.first_table:
                table["columnDefinitions"] = []
            self.first_table = False
            raw = orjson.dumps(table)
        return b'{"type":"' + type_.encode() + b'","object":' + raw + b"}\n"

    def bookmark(self, revision: int, initial_end: bool = False) -> bytes:
        spec = self.store.spec
        meta: Obj = {"resourceVersion": str(revision)}
        if initial_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        obj = {"kind": spec.kind, "apiVersion": spec.gvk(self.version).api_version,
               "metadata": meta}
        return orjson.dumps({"type": "BOOKMARK", "object": obj}) + b"\n"

    @staticmethod
    def error(err: errors.StatusError) -> bytes:
        return orjson.dumps({"type": "ERROR", "object": err.to_status()}) + b"\n"


def next_bookmark(now: float, deadline: float) -> float | None:
    """When to send the next bookmark: a minute from now, or just before the deadline if
    that comes first; None once even that moment has passed."""
    at = min(now + BOOKMARK_INTERVAL, deadline - BOOKMARK_BEFORE_TIMEOUT)
    return at if at >= now else None


def _filter(ev: CacheEvent, predicate: Predicate | None) -> tuple[str, Entry] | None:
    if predicate is None:
        return ev.type, ev.entry
    if ev.type == "ADDED":
        return ("ADDED", ev.entry) if predicate(ev.entry) else None
    if ev.type == "DELETED":
        return ("DELETED", ev.entry) if predicate(ev.entry) else None
    now = predicate(ev.entry)
    before = ev.prev is not None and predicate(ev.prev)
    if now and before:
        return "MODIFIED", ev.entry
    if now:
        return "ADDED", ev.entry
    if before:
        # Upstream sends the new object state, stamped DELETED, when it leaves the filter.
        return "DELETED", ev.entry
    return None


async def watch(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                ) -> web.StreamResponse:
    # The legacy /watch/ paths watch without ?watch; both are validated as a watch.
    options = ListOptions.parse(request.query, force_watch=True)
    predicate = make_predicate(store, options.label_selector, options.field_selector)
    rv = options.resource_version
    send_initial = options.send_initial_events  # None: not asked either way
    bookmarks = options.allow_watch_bookmarks
    # Unset or 0: a random half to whole hour, so watchers do not all reconnect at once.
    timeout = options.timeout_seconds or random.uniform(1800, 3600)
    cache = store.cache
    key_prefix = store.key_prefix(info.namespace)
    if info.name:
        key_prefix = store.key(info.namespace, info.name)

    initial: list[Entry] = []
    start: int | None = None
    send_initial_events = send_initial if send_initial is not None else rv in ("", "0")
    if rv not in ("", "0"):
        try:
            start = int(rv)
        except ValueError:
            raise errors.BadRequest(f'invalid resource version: "{rv}"') from None
        if send_initial_events and not await cache.wait_for(start):
            raise errors.Timeout(f"Too large resource version: {start}", retry_after=1)
    elif rv == "" and send_initial:
        await store.sync_cache()
    # Snapshot and registration happen with no await between them, so no event is
    # missed or doubled between the initial state and the stream; events that arrive
    # while the response starts wait in the watcher's queue.
    if start is None or send_initial_events:
        start = cache.revision
    if send_initial_events:
        bucket = cache.bucket(store.prefix)
        for key in cache.sorted_keys(store.prefix):
            if key.startswith(key_prefix):
                entry = bucket[key]
                if info.name and entry.name != info.name:
                    continue
                if predicate is None or predicate(entry):
                    initial.append(entry)
    watcher = cache.watch(store.prefix, key_prefix, start)
    encoder = _Encoder(store, info.version, accept)
    response = web.StreamResponse(headers={"Content-Type": JSON,
                                           "Cache-Control": "no-cache, private"})
    response.enable_chunked_encoding()
    response_started(request, response)  # the audit log's ResponseStarted
    if watcher is None:
        await response.prepare(request)
        await response.write(encoder.error(errors.Gone(
            f"too old resource version: {start} "
            f"({cache.oldest_revision(store.prefix)})")))
        await response.write_eof()
        return response
    try:
        await response.prepare(request)
        chunk = [encoder.event("ADDED", e) for e in initial]
        if send_initial:
            chunk.append(encoder.bookmark(start, initial_end=True))
        if chunk:
            await response.write(b"".join(chunk))
        now = time.monotonic()
        deadline = now + timeout
        bookmark_at = next_bookmark(now, deadline) if bookmarks else None
        while True:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                break
            wait = left if bookmark_at is None else max(0.0, min(left, bookmark_at - now))
            batch = await watcher.next_batch(wait)
            if watcher.expired:
                await response.write(encoder.error(errors.Gone(
                    "the watcher fell too far behind; relist")))
                break
            if watcher.closed and not batch:
                break
            out = []
            for ev in batch:
                if info.name and ev.key != key_prefix:
                    continue
                picked = _filter(ev, predicate)
                if picked is not None:
                    out.append(encoder.event(*picked))
            now = time.monotonic()
            if bookmark_at is not None and now >= bookmark_at:
                # The batch above drained every event up to cache.revision (no await in
                # between), so the bookmark promises nothing the client has not seen.
                out.append(encoder.bookmark(cache.revision))
                bookmark_at = next_bookmark(now, deadline)
            if out:
                await response.write(b"".join(out))
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client went away; nothing to tell it
    finally:
        cache.unwatch(store.prefix, watcher)
    return response
