"""Fixtures every package's tests share: a kubelite API server in the test's event loop
on a real SQLite store, and kubelite's Client reaching it in process. A package whose
tests need another shape (the client's run each test over HTTP too) overrides them in
its own conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.storage.factory import open_backend


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    """A fresh server on SQLite (no compaction) for in-process tests."""
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0)
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
