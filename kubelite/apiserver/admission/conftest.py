from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.watchcache import Cache
from kubelite.storage.factory import open_backend


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    """A registry on SQLite with its watch cache running, and no HTTP in front."""
    backend = open_backend(f"sqlite://{tmp_path}/db")
    await backend.start()
    cache = Cache(backend)
    registry = Registry(backend=backend, cache=cache)
    await cache.start()
    yield registry
    await cache.stop()
    await backend.close()
