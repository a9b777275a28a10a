"""SQLite backend: an etcd-shaped store on a kine-style log table.

Design
------
Every write appends one row to the `kine` table, and the row id *is* the revision
(k3s-io/kine `pkg/logstructured/sqllog`): a create, an update and a delete each add a
row, so the table is the full history of every key. A row carries the key's
create_revision, the revision it supersedes (`prev_revision`), the new value and the
value it replaced (`old_value`), so a watch replays any stretch of history from rows
alone, without joins. Reading "key k at revision r" is "k's newest row with id <= r".

One process owns the file (an flock on `<path>.lock` enforces it), so nothing has to
be polled: a single writer thread owns the only write connection and is the only
place revisions are handed out. It drains every queued write, applies them all in ONE
transaction, commits, and only then hands the results back to the event loop, which
(in a single callback, in commit order) advances the committed revision, fans the
events out to watchers and resolves each caller's future. No write is acknowledged
before its commit, and a caller that sees revision N returned can read it back.

Durability: WAL mode with `synchronous=FULL`, so each commit (one per batch of writes)
is fsynced before it is acknowledged and survives power loss, not only a process
crash. `synchronous=NORMAL` would survive a process crash but not an OS crash; group
commit makes FULL cheap because one fsync covers a whole batch.

Reads use read-only connections (WAL lets them run beside the writer) and are pinned
to a revision, `id <= revision`, so a read never sees half of a later batch. Ranges and
watch catch-ups run on a small thread pool; a single-key get, an indexed lookup of one
row, runs on the event loop's own connection. Compaction deletes rows superseded at or below the compact revision
(and tombstones below it) in the writer's transaction and persists the compact
revision in the `meta` table; reads and watches below it raise Compacted.

`":memory:"` opens a throwaway database file in a temporary directory (two
connections cannot share an in-memory database in WAL mode), removed on close.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kubelite.storage.backend import (
    Compacted,
    Event,
    EventType,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RangeResult,
    RevisionMismatch,
    StorageError,
)

T = TypeVar("T")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS kine (
        id INTEGER PRIMARY KEY,           -- the revision of this change
        name TEXT NOT NULL,               -- the key
        created INTEGER NOT NULL,         -- 1: this row creates the key
        deleted INTEGER NOT NULL,         -- 1: tombstone; value holds the last value
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER NOT NULL,   -- id of the row this one supersedes, 0 if none
        value BLOB NOT NULL,
        old_value BLOB                    -- value of prev_revision (NULL for create/delete)
    )""",
    # (name, id) serves "newest row of a key at or below a revision" and prefix ranges.
    "CREATE INDEX IF NOT EXISTS kine_name_id ON kine (name, id)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)
_COLUMNS = "id, name, created, deleted, create_revision, prev_revision, value, old_value"
_MAX_BATCH = 2000  # writes per transaction: bounds commit latency under a flood
_REPLAY_BATCH = 1000  # rows per replay read of a watch that starts in the past
_READERS = 2


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string starting with `prefix` (None: no bound).

    Code point order equals UTF-8 byte order, which is SQLite's BINARY collation."""
    chars = list(prefix)
    while chars:
        if ord(chars[-1]) < 0x10FFFF:
            chars[-1] = chr(ord(chars[-1]) + 1)
            return "".join(chars)
        chars.pop()
    return None


def _row_event(row: tuple[Any, ...]) -> Event:
    rev, name, created, deleted, create_rev, prev_rev, value, old_value = row
    if deleted:
        prev = KeyValue(name, value, create_rev, prev_rev)
        return Event(EventType.DELETE, KeyValue(name, value, create_rev, rev), prev)
    if created:
        return Event(EventType.PUT, KeyValue(name, value, rev, rev))
    prev = KeyValue(name, old_value, create_rev, prev_rev)
    return Event(EventType.PUT, KeyValue(name, value, create_rev, rev), prev)


@dataclass(slots=True)
class _Write:
    verb: str  # create | update | delete | compact
    key: str
    value: bytes
    expected: int
    future: asyncio.Future[Any]


@dataclass(eq=False, slots=True)
class _Watcher:
    prefix: str
    after: int  # only events with a revision above this are delivered live
    queue: asyncio.Queue[list[Event] | None] = field(default_factory=asyncio.Queue)


class SQLiteBackend:
    """The default store: one SQLite file, one writer thread, in-process watch fan-out."""

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL", "OFF"):
            raise ValueError(f"unsupported synchronous mode {synchronous!r}")
        self._tmpdir: str | None = None
        if path == ":memory:":
            self._tmpdir = tempfile.mkdtemp(prefix="kubelite-sqlite-")
            path, synchronous = os.path.join(self._tmpdir, "state.db"), "OFF"
        self.path = path
        self._synchronous = synchronous
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writes: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._lock_fd: int | None = None
        # The writer thread's view (what it has committed) and the event loop's view
        # (what has been published) are kept apart: publishing lags committing.
        self._rev = self._rev_compacted = 0
        self._committed = self._compacted = 0
        self._watchers: set[_Watcher] = set()
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------

    def _connect(self, *, readonly: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        if readonly:
            conn.execute("PRAGMA query_only = 1")
        return conn

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._lock_fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise StorageError(f"{self.path} is in use by another process") from None
        conn = self._connect(readonly=False)
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in _SCHEMA:
            conn.execute(statement)
        row = conn.execute("SELECT value FROM meta WHERE key = 'compact_revision'").fetchone()
        self._compacted = self._rev_compacted = row[0] if row else 0
        (max_id,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM kine").fetchone()
        # Compaction may delete the newest row (a tombstone), never one above its revision.
        self._rev = self._committed = max(max_id, self._compacted)
        self._readers = ThreadPoolExecutor(_READERS, thread_name_prefix="sqlite-read")
        self._writer = threading.Thread(
            target=self._run_writer, args=(conn,), name="sqlite-write", daemon=True
        )
        self._writer.start()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for watcher in self._watchers:
            watcher.queue.put_nowait(None)
        if self._writer is not None:
            self._writes.put(None)
            await asyncio.to_thread(self._writer.join)
        if self._readers is not None:
            self._readers.shutdown(wait=True)
        for conn in self._reader_conns:
            conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    # -- writes: queued to the writer thread, acknowledged after commit ------------

    async def _submit(self, verb: str, key: str, value: bytes = b"", expected: int = 0) -> Any:
        if self._closed or self._loop is None:
            raise StorageError("backend is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        self._writes.put(_Write(verb, key, value, expected, future))
        return await future

    async def create(self, key: str, value: bytes) -> int:
        rev: int = await self._submit("create", key, value)
        return rev

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> int:
        rev: int = await self._submit("update", key, value, expected_revision)
        return rev

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        kv: KeyValue = await self._submit("delete", key, b"", expected_revision)
        return kv

    async def compact(self, revision: int) -> None:
        await self._submit("compact", "", b"", revision)

    def _run_writer(self, conn: sqlite3.Connection) -> None:
        try:
            while (first := self._writes.get()) is not None:
                batch, stop = [first], False
                while len(batch) < _MAX_BATCH:
                    try:
                        write = self._writes.get_nowait()
                    except queue.Empty:
                        break
                    if write is None:
                        stop = True
                        break
                    batch.append(write)
                self._commit(conn, batch)
                if stop:
                    break
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Write]) -> None:
        assert self._loop is not None
        outcomes: list[tuple[asyncio.Future[Any], Any]] = []
        events: list[Event] = []
        rev, compacted = self._rev, self._rev_compacted
        try:
            conn.execute("BEGIN IMMEDIATE")
            for write in batch:
                try:
                    if write.verb == "compact":
                        compacted = self._apply_compact(conn, write.expected, rev, compacted)
                        outcomes.append((write.future, None))
                        continue
                    result, event = self._apply(conn, write, rev + 1)
                except StorageError as err:
                    outcomes.append((write.future, err))
                    continue
                rev += 1
                outcomes.append((write.future, result))
                events.append(event)
            conn.execute("COMMIT")
        except BaseException as err:  # nothing of the batch is durable: fail every caller
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the connection is beyond use; the next BEGIN reports it
            failure = StorageError(f"sqlite commit failed: {err!r}")
            self._loop.call_soon_threadsafe(
                self._publish,
                [(w.future, failure) for w in batch],
                [],
                self._rev,
                self._rev_compacted,
            )
            return
        self._rev, self._rev_compacted = rev, compacted
        # One callback per commit keeps revision, fan-out and acknowledgement in order.
        self._loop.call_soon_threadsafe(self._publish, outcomes, events, rev, compacted)

    def _apply(self, conn: sqlite3.Connection, write: _Write, rev: int) -> tuple[Any, Event]:
        key = write.key
        row = conn.execute(
            "SELECT id, create_revision, deleted, value FROM kine"
            " WHERE name = ? ORDER BY id DESC LIMIT 1",
            (key,),
        ).fetchone()
        live = row is not None and not row[2]
        insert = f"INSERT INTO kine ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        if write.verb == "create":
            if live:
                raise KeyExists(key)
            conn.execute(insert, (rev, key, 1, 0, rev, row[0] if row else 0, write.value, None))
            return rev, Event(EventType.PUT, KeyValue(key, write.value, rev, rev))
        if not live:
            raise KeyNotFound(key)
        current = KeyValue(key, row[3], row[1], row[0])
        if write.verb == "update":
            if current.mod_revision != write.expected:
                raise RevisionMismatch(key, current)
            conn.execute(insert, (rev, key, 0, 0, row[1], row[0], write.value, row[3]))
            kv = KeyValue(key, write.value, row[1], rev)
            return rev, Event(EventType.PUT, kv, current)
        if write.expected and current.mod_revision != write.expected:
            raise RevisionMismatch(key, current)
        conn.execute(insert, (rev, key, 0, 1, row[1], row[0], row[3], None))
        gone = KeyValue(key, row[3], row[1], rev)
        return gone, Event(EventType.DELETE, gone, current)

    @staticmethod
    def _apply_compact(conn: sqlite3.Connection, target: int, rev: int, compacted: int) -> int:
        if target > rev:
            raise FutureRevision(f"compact revision {target} is newer than {rev}")
        if target <= compacted:
            return compacted  # already compacted that far: nothing to forget
        # A row below the target goes if a newer row of its key exists at or below the
        # target (state at `target` is kept), or if it is a tombstone (the key is gone).
        conn.execute(
            "DELETE FROM kine WHERE id < :t AND (deleted = 1 OR EXISTS ("
            " SELECT 1 FROM kine AS newer WHERE newer.name = kine.name"
            " AND newer.id > kine.id AND newer.id <= :t))",
            {"t": target},
        )
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('compact_revision', ?)", (target,)
        )
        return target

    def _publish(
        self,
        outcomes: list[tuple[asyncio.Future[Any], Any]],
        events: list[Event],
        rev: int,
        compacted: int,
    ) -> None:
        self._committed = rev
        self._compacted = compacted
        if events:
            for watcher in self._watchers:
                mine = [
                    e
                    for e in events
                    if e.kv.mod_revision > watcher.after and e.kv.key.startswith(watcher.prefix)
                ]
                if mine:
                    watcher.queue.put_nowait(mine)
        for future, result in outcomes:
            if future.done():  # the caller gave up; the write stands regardless
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    # -- reads: thread pool, pinned to a committed revision ----------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect(readonly=True)
            self._reader_conns.append(conn)
        return conn

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed or self._readers is None:
            raise StorageError("backend is closed")
        assert self._loop is not None
        return await self._loop.run_in_executor(self._readers, fn, *args)

    def _pin(self, revision: int) -> int:
        if revision == 0:
            return self._committed
        if revision < self._compacted:
            raise Compacted(revision, self._compacted)
        if revision > self._committed:
            raise FutureRevision(f"revision {revision} is newer than {self._committed}")
        return revision

    def _recheck(self, revision: int) -> None:
        # A compaction committed while the read ran may have removed rows it needed.
        if revision and revision < self._compacted:
            raise Compacted(revision, self._compacted)

    async def current_revision(self) -> int:
        return self._committed

    async def compact_revision(self) -> int:
        return self._compacted

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        if self._closed or self._readers is None:
            raise StorageError("backend is closed")
        rev = self._pin(revision)
        # A keyed lookup of one row takes microseconds, in WAL mode never waits for the
        # writer, and is run right here: handing it to a reader thread and back costs
        # more than the read, and every update reads its object first.
        row = self._get_row(key, rev)
        self._recheck(revision)
        if row is None or row[2]:
            return None
        return KeyValue(key, row[3], row[1], row[0])

    def _get_row(self, key: str, rev: int) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = (
            self._reader()
            .execute(
                "SELECT id, create_revision, deleted, value FROM kine"
                " WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1",
                (key, rev),
            )
            .fetchone()
        )
        return row

    async def range(
        self, prefix: str, *, start: str = "", limit: int = 0, revision: int = 0
    ) -> RangeResult:
        rev = self._pin(revision)
        kvs, more, count = await self._read(self._range_rows, prefix, start, limit, rev)
        self._recheck(revision)
        return RangeResult(kvs=kvs, revision=rev, more=more, count=count)

    def _range_rows(
        self, prefix: str, start: str, limit: int, rev: int
    ) -> tuple[list[KeyValue], bool, int]:
        conn = self._reader()
        end = prefix_end(prefix)
        where = "name >= :lo AND id <= :rev" + (" AND name < :hi" if end is not None else "")
        # SQLite takes bare columns of a MAX() aggregate from the row holding the maximum:
        # one pass over the (name, id) index yields each key's newest row at `rev`.
        newest = (
            "SELECT name, MAX(id), create_revision, deleted, value"
            f" FROM kine WHERE {where} GROUP BY name"
        )
        params: dict[str, Any] = {"lo": max(prefix, start), "hi": end, "rev": rev}
        sql = f"SELECT * FROM ({newest}) WHERE deleted = 0 ORDER BY name"
        if limit:
            sql += f" LIMIT {int(limit) + 1}"
        rows = conn.execute(sql, params).fetchall()
        more = bool(limit) and len(rows) > limit
        if more:
            rows = rows[:limit]
        kvs = [KeyValue(name, value, create_rev, mod) for name, mod, create_rev, _, value in rows]
        if not more and start <= prefix:
            return kvs, more, len(kvs)
        params["lo"] = prefix
        (count,) = conn.execute(
            f"SELECT COUNT(*) FROM ({newest}) WHERE deleted = 0", params
        ).fetchone()
        return kvs, more, count

    # -- watch: replay from the log, then live fan-out -----------------------------

    def watch(self, prefix: str, *, revision: int) -> AsyncIterator[list[Event]]:
        return self._watch(prefix, revision)

    async def _watch(self, prefix: str, revision: int) -> AsyncIterator[list[Event]]:
        if self._closed:
            return
        if revision < self._compacted:
            raise Compacted(revision, self._compacted)
        # Register before reading history: everything above `horizon` arrives live,
        # everything up to it is in the table; no gap, no duplicate.
        horizon = self._committed
        watcher = _Watcher(prefix, after=max(revision, horizon))
        self._watchers.add(watcher)
        try:
            cursor = revision
            while cursor < horizon:
                rows = await self._read(self._rows_after, prefix, cursor, horizon)
                if cursor < self._compacted:
                    raise Compacted(cursor, self._compacted)
                if self._closed:
                    return
                if len(rows) < _REPLAY_BATCH:
                    cursor = horizon
                else:
                    cursor = rows[-1][0]
                if rows:
                    yield [_row_event(row) for row in rows]
            while (batch := await watcher.queue.get()) is not None:
                yield batch
        finally:
            self._watchers.discard(watcher)

    def _rows_after(self, prefix: str, after: int, upto: int) -> list[tuple[Any, ...]]:
        end = prefix_end(prefix)
        where = "id > :after AND id <= :upto AND name >= :lo"
        if end is not None:
            where += " AND name < :hi"
        return self._reader().execute(
            f"SELECT {_COLUMNS} FROM kine WHERE {where} ORDER BY id LIMIT {_REPLAY_BATCH}",
            {"after": after, "upto": upto, "lo": prefix, "hi": end},
        ).fetchall()
