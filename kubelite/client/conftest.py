"""Fixtures: a kubelite API server in the test's event loop, reached by a Client over
loopback HTTP or in-process (the `client` fixture runs each test both ways)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.client.transport import HTTPTransport
from kubelite.storage.factory import open_backend


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def make_client(server: APIServer, kind: str) -> Client:
    if kind == "http":
        return Client(HTTPTransport(server.url), field_manager="kubelite-test")
    return Client(InProcessTransport(server.handle), field_manager="kubelite-test")


@pytest.fixture(params=["http", "in-process"])
async def client(request: pytest.FixtureRequest, server: APIServer) -> AsyncIterator[Client]:
    c = make_client(server, request.param)
    try:
        yield c
    finally:
        await c.close()
