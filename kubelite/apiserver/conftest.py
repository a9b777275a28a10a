from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.watchcache import Cache
from kubelite.client.rest import Client
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


Call = Callable[..., Awaitable[tuple[int, Any]]]


@pytest.fixture
def call(client: Client) -> Call:
    """One raw request: `await call("GET", path, body=..., params=..., headers=...)` gives
    (HTTP status, decoded JSON body or the bytes when it is not JSON), so tests see the
    exact Status a client would."""
    async def do(method: str, path: str, *, body: Any = None,
                 params: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
        hdrs = {"Accept": "application/json"}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        resp = await client.transport.request(method, path, params=params, body=data,
                                              headers=hdrs)
        try:
            return resp.status, orjson.loads(resp.body) if resp.body else None
        except orjson.JSONDecodeError:
            return resp.status, resp.body
    return do


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
