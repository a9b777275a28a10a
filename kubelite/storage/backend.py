"""The store's contract: an etcd-shaped, revisioned key-value log.

Every write gets the next value of one cluster-wide revision counter; that revision is
what the API server shows as `metadata.resourceVersion`. Keys look like
`/registry/<group>/<resource>/<namespace>/<name>` and values are the object's JSON
bytes. Writes are guarded by revision (optimistic concurrency, as etcd's Txn compare on
mod_revision), reads can be pinned to a past revision until compaction removes it, and
a watch replays every change after a revision, in revision order, then follows live.

A write is acknowledged only after it is durable (committed); a reader that has seen a
write's revision returned must see the write.

Backends: `sqlite.SQLiteBackend` (default, kine-style log table) and
`etcd.EtcdBackend` (a real etcd v3). `open_backend(endpoint)` picks one by URL.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    # Read through an encryption key other than the one writes use: the next update
    # rewrites it even when nothing changed (upstream's stale transformation).
    stale: bool = False


class EventType(enum.Enum):
    PUT = "PUT"  # a create or an update: prev is None for a create
    DELETE = "DELETE"  # kv holds the last value; kv.mod_revision is the deletion's revision


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    kv: KeyValue
    prev: KeyValue | None = None


@dataclass(frozen=True, slots=True)
class RangeResult:
    kvs: list[KeyValue]
    revision: int  # the store revision the range was read at
    more: bool  # True when limit cut the result short
    count: int  # how many keys match in all (ignores limit and start)


class StorageError(Exception):
    """Base of store errors; the API server translates them once, at its boundary."""


class KeyExists(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFound(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class RevisionMismatch(StorageError):
    """The key's current mod_revision is not the one the caller expected."""

    def __init__(self, key: str, current: KeyValue | None) -> None:
        super().__init__(f"revision mismatch on {key}")
        self.key = key
        self.current = current


class Compacted(StorageError):
    """The revision asked for is older than the compacted revision."""

    def __init__(self, requested: int, compact_revision: int) -> None:
        super().__init__(
            f"required revision {requested} has been compacted (compacted to {compact_revision})"
        )
        self.requested = requested
        self.compact_revision = compact_revision


class FutureRevision(StorageError):
    """The revision asked for is newer than the store's current revision."""


class Backend(Protocol):
    """An etcd-shaped store. All methods are safe to call concurrently."""

    async def start(self) -> None:
        """Open connections/files and create schema. Called once before any other call."""

    async def close(self) -> None:
        """Release everything; open watches end (their iterators stop)."""

    async def current_revision(self) -> int:
        """The newest committed revision (0 for an empty store)."""

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        """The key's value at `revision` (0: newest), None if absent. Compacted if too old."""

    async def range(
        self, prefix: str, *, start: str = "", limit: int = 0, revision: int = 0
    ) -> RangeResult:
        """Keys with `prefix`, in key order, from key `start` (inclusive) on, at most
        `limit` (0: all), as of `revision` (0: newest). Compacted if too old,
        FutureRevision if newer than current."""

    async def create(self, key: str, value: bytes) -> int:
        """Write a new key; return its revision. KeyExists if it is present."""

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> int:
        """Replace a key whose mod_revision is `expected_revision`; return the new revision.
        KeyNotFound if absent, RevisionMismatch (carrying the current value) otherwise."""

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        """Delete a key (if `expected_revision`, only at that mod_revision). Returns the
        deleted value with mod_revision set to the deletion's revision. KeyNotFound,
        RevisionMismatch."""

    def watch(self, prefix: str, *, revision: int) -> AsyncIterator[list[Event]]:
        """Every change to keys under `prefix` with revision > `revision`, in order,
        batched, then live changes until the iterator is closed or the backend closes.
        Raises Compacted (on first iteration) if `revision` < compacted revision."""

    async def compact(self, revision: int) -> None:
        """Forget history older than `revision`; the newest value of each key survives."""

    async def compact_revision(self) -> int:
        """The revision history was last compacted to (0 if never)."""
