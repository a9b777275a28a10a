"""A watch cache that fell behind compaction reloads, and tells its listeners what
changed meanwhile, as an informer's relist does."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

import orjson

from kubelite.apiserver.watchcache import Cache, CacheEvent
from kubelite.storage.factory import open_backend

PREFIX = "/registry/core/configmaps/default/"


def value(name: str, data: str) -> bytes:
    return orjson.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": name, "namespace": "default"},
                         "data": {"v": data}})


async def test_reload_after_compaction_reports_what_changed_meanwhile(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="kubelite.apiserver.watchcache")
    backend = open_backend(f"sqlite://{tmp_path}/db")
    await backend.start()
    await backend.create(PREFIX + "kept", value("kept", "1"))
    changed_rev = await backend.create(PREFIX + "changed", value("changed", "1"))
    await backend.create(PREFIX + "gone", value("gone", "1"))
    cache = Cache(backend)
    await cache.start()
    seen: list[tuple[str, str]] = []
    reloaded = asyncio.Event()

    def listen(ev: CacheEvent) -> None:
        seen.append((ev.type, ev.entry.name))
        if ev.type == "DELETED":
            reloaded.set()

    cache.add_listener(listen)
    try:
        # Stop following, change things, and compact them away: the cache's watch can
        # only resume with Compacted.
        assert cache._task is not None
        cache._task.cancel()
        await asyncio.gather(cache._task, return_exceptions=True)
        await backend.update(PREFIX + "changed", value("changed", "2"),
                             expected_revision=changed_rev)
        await backend.delete(PREFIX + "gone")
        await backend.create(PREFIX + "new", value("new", "1"))
        await backend.compact(await backend.current_revision())
        cache._task = asyncio.create_task(cache._follow())
        await asyncio.wait_for(reloaded.wait(), 10)
        assert "fell behind compaction" in caplog.text  # the reload, not a replay
        assert sorted(seen) == [("ADDED", "new"), ("DELETED", "gone"), ("MODIFIED", "changed")]
        assert sorted(cache.bucket("/registry/core/configmaps/")) == [
            PREFIX + "changed", PREFIX + "kept", PREFIX + "new"]
        assert cache.revision == await backend.current_revision()
    finally:
        await cache.stop()
        await backend.close()
