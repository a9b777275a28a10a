from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.storage.factory import open_backend


@pytest.fixture
async def small_history_server(tmp_path: Path) -> AsyncIterator[APIServer]:
    """A server on SQLite whose watch cache keeps only 5 events."""
    server = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                       watch_history=5, compaction_interval=0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http(small_history_server: APIServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=small_history_server.url) as session:
        yield session
