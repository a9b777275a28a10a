"""The watch cache: every stored object in memory, fed by one watch on the store.

kube-apiserver's cacher (staging/src/k8s.io/apiserver/pkg/storage/cacher) keeps, per
resource, the current objects and a window of recent events, so LIST and WATCH never
touch etcd. kubelite does the same with one store watch on `/registry/` for all
resources: the `Cache` decodes each event once, keeps the object as its encoded JSON
(so a GET or LIST is bytes joined, not re-encoded) with the few values selectors need
(labels, field-selector fields), and appends the event to its resource's bounded
history, from which watchers resume. History is kept per resource, as upstream's
per-resource watchCache does: churn on ConfigMaps does not expire the resourceVersion
of a quiet watch on Namespaces.

Guarantees:
- `revision` only grows; after `wait_for(rv)` returns, every write with revision <= rv
  is visible in `objects` and in the history.
- A watcher registered at revision R receives every event of its resource with
  revision > R exactly once, in order, or an ERROR (410 Expired) when R is older than
  that resource's history window.
- Cached entries are shared and immutable; `Entry.obj` is a private decoded copy.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubelite.storage.backend import Backend, Compacted, Event, EventType, KeyValue

log = logging.getLogger(__name__)

Obj = dict[str, Any]

HISTORY_SIZE = 100_000  # events kept per resource at most (upstream's upper bound: 100 * 1024)
# Beyond its newest HISTORY_MIN events, a resource keeps an event only while it is fresher
# than EVENT_FRESH_SECONDS (upstream's eventFreshDuration): a watch resumes from the last
# bookmark (sent every minute), so older events serve nobody, and 30,000 pods' creation
# would otherwise stay in memory for good, a few KiB per event.
HISTORY_MIN = 100  # upstream's defaultLowerBoundCapacity
EVENT_FRESH_SECONDS = 75.0
SWEEP_SECONDS = 15.0  # how often every resource's history is trimmed by age
WATCHER_BACKLOG = 50_000  # a watcher this far behind is dropped (it will relist)


FieldExtractor = Callable[[Obj], dict[str, str]]


@dataclass(slots=True, eq=False)
class Entry:
    """One object as cached: its JSON (with resourceVersion) and what selectors need.

    The decoded object is not kept: a pod's dict is five times its JSON, and only
    tables, conversions and the server's own loops need one. `obj` decodes afresh on
    every access, so callers own what they get and may edit it.
    """

    raw: bytes
    revision: int
    name: str
    namespace: str
    api_version: str
    labels: dict[str, str]
    fields: dict[str, str]  # field-selector values (metadata.name, ..., spec.nodeName)
    deleting: bool  # has a deletionTimestamp

    @property
    def obj(self) -> Obj:
        obj: Obj = orjson.loads(self.raw)
        return obj


@dataclass(slots=True)
class CacheEvent:
    type: str  # ADDED, MODIFIED, DELETED
    key: str
    entry: Entry
    prev: Entry | None
    revision: int
    at: float = 0.0  # monotonic seconds when the cache took it in


def decode_object(kv: KeyValue, *, revision: int | None = None) -> Obj:
    """A stored value as an object stamped with its resourceVersion (the store keeps
    objects without one, as kube-apiserver's etcd3 store does)."""
    obj: Obj = orjson.loads(kv.value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(
        kv.mod_revision if revision is None else revision)
    return obj


def _compact(raw: bytes) -> bytes:
    """A right-sized copy: orjson's output keeps its growth buffer's capacity (tens of
    KiB for a pod), which would be held for as long as the object is cached."""
    return bytes(memoryview(raw))


def _shared(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


def make_entry(obj: Obj, revision: int, extract: FieldExtractor | None = None) -> Entry:
    """The entry of a decoded object. Selector values are interned: a decoded string
    is new each time, yet most are the same in every object of a kind (namespace,
    node name, phase, an event's reason and source, label values), and every cached
    entry keeps its own for as long as the object lives."""
    meta = obj.get("metadata") or {}
    name = meta.get("name", "")
    namespace = _shared(meta.get("namespace", ""))
    fields = {"metadata.name": name, "metadata.namespace": namespace}
    if extract is not None:
        for key, value in extract(obj).items():
            fields[key] = _shared(value)
    labels = {key: _shared(value) for key, value in (meta.get("labels") or {}).items()}
    return Entry(_compact(orjson.dumps(obj)), revision, name, namespace,
                 _shared(obj.get("apiVersion", "")),
                 labels, fields, bool(meta.get("deletionTimestamp")))


@dataclass(slots=True, eq=False)
class Watcher:
    """A registered watch: events are pushed by the cache, pulled by the HTTP stream."""

    prefix: str
    revision: int  # the last revision delivered
    queue: collections.deque[CacheEvent] = field(default_factory=collections.deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    expired: bool = False  # fell too far behind

    def push(self, event: CacheEvent) -> None:
        if self.closed:
            return
        if len(self.queue) >= WATCHER_BACKLOG:
            self.expired = True
            self.closed = True
        else:
            self.queue.append(event)
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()

    async def next_batch(self, timeout: float | None) -> list[CacheEvent]:
        """Events queued so far (waiting up to `timeout` for one); [] on timeout."""
        if not self.queue and not self.closed:
            self.wake.clear()
            try:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a
                # cancellation that lands as the wake-up does, and the watch handler
                # then runs on after its client went away (blocked on a full stream)
                async with asyncio.timeout(timeout):
                    await self.wake.wait()
            except TimeoutError:
                return []
        batch = list(self.queue)
        self.queue.clear()
        return batch


class Cache:
    """All objects under `/registry/`, grouped by resource prefix."""

    def __init__(self, backend: Backend, *, root: str = "/registry/",
                 history: int = HISTORY_SIZE, fresh: float = EVENT_FRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.root = root
        self.revision = 0
        # resource prefix (`/registry/apps/deployments/`) -> key -> Entry
        self.objects: dict[str, dict[str, Entry]] = collections.defaultdict(dict)
        self._sorted_keys: dict[str, list[str]] = {}
        self._changed_at: dict[str, int] = {}  # resource prefix -> revision of last change
        self._history_size = history
        self._fresh = fresh
        self._clock = clock
        self._swept_at = clock()
        # resource prefix -> its recent events, oldest first
        self._history: dict[str, collections.deque[CacheEvent]] = {}
        # resource prefix -> its history covers revisions > this; a resource that never
        # dropped an event covers everything since the load
        self._oldest: dict[str, int] = {}
        self._loaded_at = 0  # the revision of the initial load; no per-prefix record before
        self._watchers: dict[str, set[Watcher]] = collections.defaultdict(set)
        self._revision_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[CacheEvent], None]] = []
        self._extractors: dict[str, FieldExtractor] = {}
        self.ready = asyncio.Event()

    @staticmethod
    def prefix_of(key: str) -> str:
        """`/registry/core/pods/ns/name` -> `/registry/core/pods/`."""
        parts = key.split("/", 4)
        return "/".join(parts[:4]) + "/"

    async def start(self) -> None:
        await self._load()
        self._task = asyncio.create_task(self._follow(), name="watch-cache")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        for watchers in self._watchers.values():
            for w in watchers:
                w.close()

    def set_field_extractor(self, prefix: str, extract: FieldExtractor) -> None:
        """How to find the field-selector values of objects under a resource prefix.
        Registered before start() for built-ins; a custom resource has none."""
        self._extractors[prefix] = extract

    def entry_from(self, kv: KeyValue, revision: int | None = None) -> Entry:
        obj = decode_object(kv, revision=revision)
        rev = kv.mod_revision if revision is None else revision
        return make_entry(obj, rev, self._extractors.get(self.prefix_of(kv.key)))

    def _safe_entry(self, kv: KeyValue, revision: int | None = None) -> Entry | None:
        """An entry, or None for a value that is not a JSON object: something else wrote
        under /registry/ (a shared etcd); serving the rest beats failing on it."""
        try:
            return self.entry_from(kv, revision)
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            log.warning("ignoring undecodable value at %s", kv.key)
            return None

    def add_listener(self, listener: Callable[[CacheEvent], None]) -> None:
        """Called synchronously for every event (after the cache applied it), and for
        every difference a reload after compaction found."""
        self._listeners.append(listener)

    async def _load(self) -> None:
        result = await self.backend.range(self.root)
        # Built aside and swapped in: reads during a reload see the old objects.
        objects: dict[str, dict[str, Entry]] = collections.defaultdict(dict)
        for kv in result.kvs:
            entry = self._safe_entry(kv)
            if entry is not None:
                objects[self.prefix_of(kv.key)][kv.key] = entry
        self.objects = objects
        self._sorted_keys.clear()
        self.revision = result.revision
        self._history.clear()
        self._oldest.clear()
        self._loaded_at = result.revision
        self.ready.set()

    async def _follow(self) -> None:
        while True:
            try:
                async for events in self.backend.watch(self.root, revision=self.revision):
                    self._apply(events)
            except asyncio.CancelledError:
                raise
            except Compacted:
                # We fell behind compaction: reload everything, expire every watcher.
                log.warning("watch cache fell behind compaction; reloading")
                self._expire_all()
                await self._reload()
                continue
            except Exception:
                log.exception("store watch failed; resuming at %d", self.revision)
            await asyncio.sleep(0.2)

    async def _reload(self) -> None:
        """Read everything afresh, then tell listeners what changed while the events
        were lost, as an informer's relist does: ADDED and MODIFIED for what is new or
        different, DELETED (at the new revision) for what is gone. Watchers were
        expired; they relist on their own."""
        before = self.objects
        await self._load()
        for prefix, bucket in self.objects.items():
            old = before.get(prefix, {})
            for key, entry in bucket.items():
                prev = old.get(key)
                if prev is None or prev.raw != entry.raw:
                    self._changed_at[prefix] = self.revision
                    self._notify(CacheEvent("MODIFIED" if prev else "ADDED", key, entry,
                                            prev, entry.revision))
        for prefix, old in before.items():
            bucket = self.objects.get(prefix, {})
            for key, prev in old.items():
                if key not in bucket:
                    self._changed_at[prefix] = self.revision
                    gone = make_entry(_restamped(prev, self.revision), self.revision,
                                      self._extractors.get(prefix))
                    self._notify(CacheEvent("DELETED", key, gone, prev, self.revision))

    def _notify(self, event: CacheEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("watch cache listener failed on %s", event.key)

    def _expire_all(self) -> None:
        for watchers in self._watchers.values():
            for w in watchers:
                w.expired = True
                w.close()
        self._watchers.clear()
        self._history.clear()
        self._oldest.clear()

    def _apply(self, events: list[Event]) -> None:
        for ev in events:
            rev = ev.kv.mod_revision
            if rev <= self.revision:
                continue
            key = ev.kv.key
            prefix = self.prefix_of(key)
            bucket = self.objects[prefix]
            prev = bucket.get(key)
            if ev.type is EventType.DELETE:
                if prev is None:
                    self.revision = rev
                    continue
                # A deleted object is shown at the deletion's revision, as upstream does.
                entry = self._safe_entry(ev.kv, revision=rev) if ev.kv.value else None
                if entry is None:
                    entry = make_entry(_restamped(prev, rev), rev, self._extractors.get(prefix))
                del bucket[key]
                self._sorted_keys.pop(prefix, None)
                cev = CacheEvent("DELETED", key, entry, prev, rev)
            else:
                entry = self._safe_entry(ev.kv)
                if entry is None:
                    self.revision = rev
                    continue
                bucket[key] = entry
                if prev is None:
                    self._sorted_keys.pop(prefix, None)
                cev = CacheEvent("MODIFIED" if prev else "ADDED", key, entry, prev, rev)
            self.revision = rev
            self._changed_at[prefix] = rev
            self._remember(prefix, cev)
            for w in self._watchers.get(prefix, ()):
                if key.startswith(w.prefix):
                    w.push(cev)
            self._notify(cev)
        if self._clock() - self._swept_at >= SWEEP_SECONDS:
            self._sweep()
        self._wake_waiters()

    def _remember(self, prefix: str, event: CacheEvent) -> None:
        history = self._history.get(prefix)
        if history is None:
            history = self._history[prefix] = collections.deque(maxlen=self._history_size)
        if len(history) == history.maxlen:
            # The oldest event falls out: a watch from before it can no longer be served.
            self._oldest[prefix] = history[0].revision
        event.at = self._clock()
        history.append(event)
        self._trim(prefix, history, event.at)

    def _trim(self, prefix: str, history: collections.deque[CacheEvent], now: float) -> None:
        """Drop events past freshness beyond the newest HISTORY_MIN (see HISTORY_MIN)."""
        while len(history) > HISTORY_MIN and now - history[0].at > self._fresh:
            self._oldest[prefix] = history.popleft().revision

    def _sweep(self) -> None:
        """Trim every resource's history: a resource that went quiet after a burst is
        trimmed too, not only those still receiving events."""
        now = self._swept_at = self._clock()
        for prefix, history in self._history.items():
            self._trim(prefix, history, now)

    def _wake_waiters(self) -> None:
        if not self._revision_waiters:
            return
        still = []
        for rev, fut in self._revision_waiters:
            if rev <= self.revision:
                if not fut.done():
                    fut.set_result(None)
            else:
                still.append((rev, fut))
        self._revision_waiters = still

    # How long a read waits for the cache to catch up (upstream's blockTimeout).
    catch_up_seconds = 3.0

    async def wait_for(self, revision: int, timeout: float | None = None) -> bool:
        """Wait until the cache has seen `revision`; False on timeout."""
        timeout = self.catch_up_seconds if timeout is None else timeout
        if revision <= self.revision:
            return True
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._revision_waiters.append((revision, fut))
        try:
            async with asyncio.timeout(timeout):  # not wait_for: see Watcher.next_batch
                await fut
            return True
        except TimeoutError:
            return False

    def unchanged_since(self, prefix: str, revision: int) -> bool:
        """True if no object of the resource changed after `revision`, so the cache
        shows the resource exactly as it was at that revision."""
        return self._changed_at.get(prefix, 0) <= revision and revision >= self._loaded_at

    def bucket(self, prefix: str) -> dict[str, Entry]:
        return self.objects.get(prefix, {})

    def sorted_keys(self, prefix: str) -> list[str]:
        keys = self._sorted_keys.get(prefix)
        if keys is None:
            keys = sorted(self.objects.get(prefix, {}))
            self._sorted_keys[prefix] = keys
        return keys

    def get(self, key: str) -> Entry | None:
        return self.objects.get(self.prefix_of(key), {}).get(key)

    def watch(self, resource_prefix: str, key_prefix: str, revision: int) -> Watcher | None:
        """Register a watcher for keys under `key_prefix` (within one resource) after
        `revision`, replaying history. None if `revision` is older than the resource's
        history."""
        if revision < self.oldest_revision(resource_prefix):
            return None
        w = Watcher(key_prefix, revision)
        history = self._history.get(resource_prefix, ())
        replay = []
        for ev in reversed(history):  # newest first: stop at the watcher's revision
            if ev.revision <= revision:
                break
            if ev.key.startswith(key_prefix):
                replay.append(ev)
        w.queue.extend(reversed(replay))
        self._watchers[resource_prefix].add(w)
        return w

    def unwatch(self, resource_prefix: str, watcher: Watcher) -> None:
        watcher.close()
        self._watchers.get(resource_prefix, set()).discard(watcher)

    def oldest_revision(self, resource_prefix: str) -> int:
        """The resource's history covers every revision after this one (upstream's
        "oldest - 1" in its 410 message)."""
        return self._oldest.get(resource_prefix, self._loaded_at)


def _restamped(entry: Entry, revision: int) -> Obj:
    obj = entry.obj
    obj["metadata"]["resourceVersion"] = str(revision)
    return obj
