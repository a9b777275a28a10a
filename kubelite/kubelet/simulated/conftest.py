"""Fixtures: an in-process API server on SQLite and a Client reaching it, for the
simulated nodes to register with."""

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
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def client(server: APIServer) -> AsyncIterator[Client]:
    c = Client(InProcessTransport(server.handle), field_manager="kubelite-test")
    try:
        yield c
    finally:
        await c.close()
