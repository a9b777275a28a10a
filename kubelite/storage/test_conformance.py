"""The Backend contract, checked the same way against SQLite and a real etcd.

Each test runs once per backend (see conftest.py). Keys live under a per-test prefix
and revisions are taken from the store, never assumed, so tests can share one etcd.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kubelite.storage.backend import (
    Backend,
    Compacted,
    Event,
    EventType,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RevisionMismatch,
)
from kubelite.storage.etcd import EtcdBackend
from kubelite.storage.factory import open_backend
from kubelite.storage.sqlite import SQLiteBackend


async def next_events(watch: AsyncIterator[list[Event]], count: int) -> list[Event]:
    """The next `count` events of a watch, failing rather than hanging."""
    events: list[Event] = []
    async with asyncio.timeout(10):
        while len(events) < count:
            events.extend(await anext(watch))
    assert len(events) == count, events
    return events


def shape(event: Event) -> tuple[str, str, bytes, int, bytes | None]:
    prev = event.prev.value if event.prev else None
    return (event.type.value, event.kv.key, event.kv.value, event.kv.mod_revision, prev)


async def test_create_then_get_returns_value_and_revisions(backend: Backend, prefix: str) -> None:
    rev = await backend.create(prefix + "a", b"one")
    assert await backend.get(prefix + "a") == KeyValue(prefix + "a", b"one", rev, rev)
    assert await backend.current_revision() == rev
    assert await backend.get(prefix + "missing") is None


async def test_create_of_existing_key_raises_key_exists(backend: Backend, prefix: str) -> None:
    await backend.create(prefix + "a", b"one")
    with pytest.raises(KeyExists):
        await backend.create(prefix + "a", b"two")


@pytest.mark.parametrize(
    "expected_offset, error",
    [(0, None), (-1, RevisionMismatch), (1, RevisionMismatch)],
    ids=["current-revision", "stale-revision", "future-revision"],
)
async def test_update_is_guarded_by_mod_revision(
    backend: Backend, prefix: str, expected_offset: int, error: type[Exception] | None
) -> None:
    await backend.create(prefix + "other", b"x")  # makes "stale" a real, older revision
    created = await backend.create(prefix + "a", b"one")
    if error is None:
        rev = await backend.update(prefix + "a", b"two", expected_revision=created)
        assert rev > created
        assert await backend.get(prefix + "a") == KeyValue(prefix + "a", b"two", created, rev)
        return
    with pytest.raises(error) as caught:
        await backend.update(prefix + "a", b"two", expected_revision=created + expected_offset)
    current = caught.value.current  # type: ignore[attr-defined]
    assert current == KeyValue(prefix + "a", b"one", created, created)


async def test_update_of_missing_key_raises_key_not_found(backend: Backend, prefix: str) -> None:
    with pytest.raises(KeyNotFound):
        await backend.update(prefix + "a", b"x", expected_revision=1)


async def test_delete_returns_last_value_at_deletion_revision(
    backend: Backend, prefix: str
) -> None:
    created = await backend.create(prefix + "a", b"one")
    gone = await backend.delete(prefix + "a")
    assert gone.value == b"one" and gone.create_revision == created
    assert gone.mod_revision > created
    assert await backend.current_revision() == gone.mod_revision
    assert await backend.get(prefix + "a") is None
    with pytest.raises(KeyNotFound):
        await backend.delete(prefix + "a")


async def test_delete_with_expected_revision(backend: Backend, prefix: str) -> None:
    created = await backend.create(prefix + "a", b"one")
    updated = await backend.update(prefix + "a", b"two", expected_revision=created)
    with pytest.raises(RevisionMismatch) as caught:
        await backend.delete(prefix + "a", expected_revision=created)
    assert caught.value.current == KeyValue(prefix + "a", b"two", created, updated)
    gone = await backend.delete(prefix + "a", expected_revision=updated)
    assert gone.value == b"two"


async def test_recreated_key_gets_new_create_revision(backend: Backend, prefix: str) -> None:
    await backend.create(prefix + "a", b"one")
    await backend.delete(prefix + "a")
    again = await backend.create(prefix + "a", b"two")
    assert await backend.get(prefix + "a") == KeyValue(prefix + "a", b"two", again, again)


async def test_revision_is_monotonic_and_shared_across_keys(backend: Backend, prefix: str) -> None:
    revs = [
        await backend.create(prefix + "a", b"1"),
        await backend.create(prefix + "b", b"1"),
    ]
    revs.append(await backend.update(prefix + "a", b"2", expected_revision=revs[0]))
    revs.append((await backend.delete(prefix + "b")).mod_revision)
    assert revs == sorted(set(revs))
    assert await backend.current_revision() == revs[-1]


@pytest.mark.parametrize(
    "start, limit, keys, more, count",
    [
        ("", 0, ["a", "b", "c", "d"], False, 4),
        ("", 2, ["a", "b"], True, 4),
        ("", 4, ["a", "b", "c", "d"], False, 4),
        ("b", 2, ["b", "c"], True, 4),
        ("c", 0, ["c", "d"], False, 4),
        ("bb", 1, ["c"], True, 4),
        ("z", 0, [], False, 4),
        ("\U0010ffff", 0, [], False, 4),
    ],
    ids=[
        "all", "limit", "limit-exact", "start-limit", "start", "start-between", "start-after",
        "start-past-prefix",
    ],
)
async def test_range_pages_through_prefix_in_key_order(
    backend: Backend, prefix: str, start: str, limit: int, keys: list[str], more: bool, count: int
) -> None:
    for name in ["d", "b", "a", "c"]:
        await backend.create(prefix + name, name.encode())
    await backend.create(prefix[:-1] + "x", b"outside")  # shares the text, not the prefix
    await backend.create(prefix + "e", b"deleted")
    await backend.delete(prefix + "e")
    result = await backend.range(prefix, start=prefix + start if start else "", limit=limit)
    assert [kv.key for kv in result.kvs] == [prefix + k for k in keys]
    assert [kv.value for kv in result.kvs] == [k.encode() for k in keys]
    assert (result.more, result.count) == (more, count)
    assert result.revision == await backend.current_revision()


async def test_range_starting_past_the_prefix_is_empty(backend: Backend, prefix: str) -> None:
    await backend.create(prefix + "a", b"1")
    beyond = await backend.range(prefix, start=prefix[:-1] + "0")  # "0" sorts after "/"
    assert (beyond.kvs, beyond.more, beyond.count) == ([], False, 1)


async def test_get_and_range_at_past_revision(backend: Backend, prefix: str) -> None:
    a = await backend.create(prefix + "a", b"a1")
    b = await backend.create(prefix + "b", b"b1")
    await backend.update(prefix + "a", b"a2", expected_revision=a)
    await backend.delete(prefix + "b")
    await backend.create(prefix + "c", b"c1")
    past = await backend.range(prefix, revision=b)
    assert past.revision == b
    assert [(kv.key, kv.value) for kv in past.kvs] == [(prefix + "a", b"a1"), (prefix + "b", b"b1")]
    assert await backend.get(prefix + "a", revision=a) == KeyValue(prefix + "a", b"a1", a, a)
    assert await backend.get(prefix + "c", revision=b) is None
    now = await backend.range(prefix)
    assert [(kv.key, kv.value) for kv in now.kvs] == [(prefix + "a", b"a2"), (prefix + "c", b"c1")]


async def test_read_at_future_revision_raises_future_revision(
    backend: Backend, prefix: str
) -> None:
    future = await backend.current_revision() + 1000
    with pytest.raises(FutureRevision):
        await backend.range(prefix, revision=future)
    with pytest.raises(FutureRevision):
        await backend.get(prefix + "a", revision=future)


async def test_watch_replays_history_then_follows_live(backend: Backend, prefix: str) -> None:
    start = await backend.current_revision()
    a = await backend.create(prefix + "a", b"a1")
    a2 = await backend.update(prefix + "a", b"a2", expected_revision=a)
    watch = backend.watch(prefix, revision=start)
    replayed = await next_events(watch, 2)  # the watch is established from here on
    b = await backend.create(prefix + "b", b"b1")
    await backend.create(prefix[:-1] + "-other", b"not watched")
    gone = await backend.delete(prefix + "a")
    live = await next_events(watch, 2)
    await watch.aclose()  # type: ignore[attr-defined]
    assert [shape(e) for e in replayed + live] == [
        ("PUT", prefix + "a", b"a1", a, None),
        ("PUT", prefix + "a", b"a2", a2, b"a1"),
        ("PUT", prefix + "b", b"b1", b, None),
        ("DELETE", prefix + "a", b"a2", gone.mod_revision, b"a2"),
    ]
    assert live[1].prev == KeyValue(prefix + "a", b"a2", a, a2)


async def test_watch_starts_after_given_revision(backend: Backend, prefix: str) -> None:
    first = await backend.create(prefix + "a", b"1")
    second = await backend.create(prefix + "b", b"2")
    watch = backend.watch(prefix, revision=first)
    assert [e.kv.mod_revision for e in await next_events(watch, 1)] == [second]
    await watch.aclose()  # type: ignore[attr-defined]


async def test_watch_from_future_revision_skips_changes_up_to_it(
    backend: Backend, prefix: str
) -> None:
    ahead = await backend.current_revision() + 1
    watch = backend.watch(prefix, revision=ahead)
    pending = asyncio.ensure_future(anext(watch))
    assert await backend.create(prefix + "a", b"1") == ahead  # at `ahead`: not delivered
    b = await backend.create(prefix + "b", b"2")
    async with asyncio.timeout(10):
        assert [e.kv.mod_revision for e in await pending] == [b]
    await watch.aclose()  # type: ignore[attr-defined]


async def test_watch_delivers_concurrent_writes_in_revision_order(
    backend: Backend, prefix: str
) -> None:
    await backend.create(prefix + "start", b"")
    watch = backend.watch(prefix, revision=await backend.current_revision() - 1)
    await next_events(watch, 1)
    revs = await asyncio.gather(*(backend.create(f"{prefix}k{i:03}", b"v") for i in range(50)))
    events = await next_events(watch, 50)
    await watch.aclose()  # type: ignore[attr-defined]
    assert [e.kv.mod_revision for e in events] == sorted(revs)


async def test_compaction_refuses_older_reads_and_watches(backend: Backend, prefix: str) -> None:
    a = await backend.create(prefix + "a", b"a1")
    a2 = await backend.update(prefix + "a", b"a2", expected_revision=a)
    b = await backend.create(prefix + "b", b"b1")
    await backend.delete(prefix + "b")
    await backend.compact(a2)
    assert await backend.compact_revision() == a2
    with pytest.raises(Compacted) as caught:
        await backend.get(prefix + "a", revision=a)
    assert (caught.value.requested, caught.value.compact_revision) == (a, a2)
    with pytest.raises(Compacted):
        await backend.range(prefix, revision=a)
    with pytest.raises(Compacted):
        await anext(backend.watch(prefix, revision=a))
    # The compacted revision itself and everything after it stay readable.
    assert await backend.get(prefix + "a", revision=a2) == KeyValue(prefix + "a", b"a2", a, a2)
    assert [kv.key for kv in (await backend.range(prefix, revision=b)).kvs] == [
        prefix + "a",
        prefix + "b",
    ]
    assert [kv.value for kv in (await backend.range(prefix)).kvs] == [b"a2"]
    watch = backend.watch(prefix, revision=a2)
    assert [e.type for e in await next_events(watch, 2)] == [EventType.PUT, EventType.DELETE]
    await watch.aclose()  # type: ignore[attr-defined]
    await backend.compact(a)  # older than the compacted revision: nothing to do
    assert await backend.compact_revision() == a2


async def test_concurrent_creates_are_all_acknowledged_and_visible(
    backend: Backend, prefix: str
) -> None:
    revs = await asyncio.gather(*(backend.create(f"{prefix}{i:03}", b"v") for i in range(200)))
    assert len(set(revs)) == 200
    listed = await backend.range(prefix)
    assert listed.count == 200
    assert sorted(kv.mod_revision for kv in listed.kvs) == sorted(revs)
    assert listed.revision >= max(revs)


async def test_concurrent_creates_of_one_key_admit_exactly_one(
    backend: Backend, prefix: str
) -> None:
    results = await asyncio.gather(
        *(backend.create(prefix + "a", str(i).encode()) for i in range(20)), return_exceptions=True
    )
    assert sum(isinstance(r, int) for r in results) == 1
    assert all(isinstance(r, (int, KeyExists)) for r in results)


async def test_close_ends_open_watches(backend_kind: tuple[str, str], prefix: str) -> None:
    kind, where = backend_kind
    store: Backend = EtcdBackend([where]) if kind == "etcd" else SQLiteBackend(where)
    await store.start()
    await store.create(prefix + "a", b"1")
    watch = store.watch(prefix, revision=await store.current_revision() - 1)
    await next_events(watch, 1)
    pending = asyncio.ensure_future(anext(watch))
    await store.close()
    with pytest.raises(StopAsyncIteration):
        async with asyncio.timeout(10):
            await pending


@pytest.mark.parametrize(
    "endpoint, kind, target",
    [
        ("sqlite:///var/lib/kubelite/state.db", SQLiteBackend, "/var/lib/kubelite/state.db"),
        ("sqlite://db/state.db", SQLiteBackend, "db/state.db"),
        ("/tmp/state.db", SQLiteBackend, "/tmp/state.db"),
        ("http://127.0.0.1:2379", EtcdBackend, ["http://127.0.0.1:2379"]),
        ("etcd://10.0.0.1:2379", EtcdBackend, ["http://10.0.0.1:2379"]),
        ("http://a:2379, https://b:2379", EtcdBackend, ["http://a:2379", "https://b:2379"]),
    ],
    ids=["sqlite-absolute", "sqlite-relative", "plain-path", "http", "etcd-scheme", "etcd-list"],
)
def test_open_backend_picks_backend_by_url(endpoint: str, kind: type, target: object) -> None:
    store = open_backend(endpoint)
    assert isinstance(store, kind)
    if isinstance(store, SQLiteBackend):
        assert store.path == target
    else:
        assert store._endpoints == target  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "endpoint", ["", "mysql://x/y", "sqlite://"], ids=["empty", "mysql", "no-path"]
)
def test_open_backend_refuses_unknown_endpoints(endpoint: str) -> None:
    with pytest.raises(ValueError):
        open_backend(endpoint)
