"""Fixtures every package's tests share: a kubelite API server in the test's event loop
on a real SQLite store, and kubelite's Client reaching it in process. A package whose
tests need another shape (the client's run each test over HTTP too) overrides them in
its own conftest.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.storage.factory import open_backend


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    """A fresh server on SQLite (no compaction) for in-process tests."""
    async with started_server(tmp_path) as srv:
        yield srv


@contextlib.asynccontextmanager
async def started_server(tmp_path: Path, **options: Any) -> AsyncIterator[APIServer]:
    """An APIServer on SQLite in `tmp_path`, without compaction, with `options`, stopped
    after the block (for a module that needs the `server` fixture told more)."""
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0, **options)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def client(server: APIServer) -> AsyncIterator[Client]:
    """kubelite's Client reaching `server` through the in-process transport."""
    c = Client(InProcessTransport(server.handle), field_manager="kubelite-test")
    try:
        yield c
    finally:
        await c.close()
