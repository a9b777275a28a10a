"""SQLite-only behaviour: restart on the same file, single ownership, the log table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kubelite.storage.backend import Compacted, KeyValue, StorageError
from kubelite.storage.sqlite import SQLiteBackend, prefix_end


async def test_restart_resumes_data_revision_and_compaction(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = SQLiteBackend(path)
    await store.start()
    a = await store.create("/r/a", b"a1")
    a2 = await store.update("/r/a", b"a2", expected_revision=a)
    await store.create("/r/b", b"b1")
    gone = await store.delete("/r/b")  # the newest row is a tombstone ...
    await store.compact(gone.mod_revision)  # ... which compaction removes
    await store.close()

    again = SQLiteBackend(path)
    await again.start()
    try:
        assert await again.current_revision() == gone.mod_revision
        assert await again.compact_revision() == gone.mod_revision
        assert await again.get("/r/a") == KeyValue("/r/a", b"a2", a, a2)
        with pytest.raises(Compacted):
            await again.get("/r/a", revision=a)
        assert await again.create("/r/c", b"c1") == gone.mod_revision + 1
    finally:
        await again.close()


async def test_second_open_of_same_file_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    first = SQLiteBackend(path)
    await first.start()
    try:
        with pytest.raises(StorageError, match="in use"):
            await SQLiteBackend(path).start()
    finally:
        await first.close()


async def test_memory_store_works_and_leaves_nothing_behind() -> None:
    store = SQLiteBackend(":memory:")
    await store.start()
    rev = await store.create("/m/a", b"x")
    assert (await store.range("/m/")).kvs == [KeyValue("/m/a", b"x", rev, rev)]
    directory = Path(store.path).parent
    await store.close()
    assert not directory.exists()


async def test_log_table_keeps_one_row_per_revision(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = SQLiteBackend(path)
    await store.start()
    a = await store.create("/l/a", b"1")
    a2 = await store.update("/l/a", b"2", expected_revision=a)
    gone = await store.delete("/l/a")
    await store.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT id, name, created, deleted, create_revision, prev_revision, value, old_value"
            " FROM kine ORDER BY id"
        ).fetchall()
    assert rows == [
        (a, "/l/a", 1, 0, a, 0, b"1", None),
        (a2, "/l/a", 0, 0, a, a, b"2", b"1"),
        (gone.mod_revision, "/l/a", 0, 1, a, a2, b"2", None),
    ]


@pytest.mark.parametrize(
    "prefix, end",
    [("/a/", "/a0"), ("", None), ("a\U0010ffff", "b"), ("\U0010ffff", None), ("é", "ê")],
    ids=["ascii", "empty", "carry", "top", "non-ascii"],
)
def test_prefix_end_bounds_every_key_with_prefix(prefix: str, end: str | None) -> None:
    assert prefix_end(prefix) == end
