"""Fixtures for the store tests: one `backend` fixture, parametrized over SQLite and etcd.

SQLite gets a fresh file in tmp_path per test. etcd is one throwaway server for the
whole session (starting etcd costs about a second), so each test works under its own
`prefix` and reasons only about revisions it produced.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kubelite.storage.backend import Backend
from kubelite.storage.etcd import EtcdBackend
from kubelite.storage.etcd_process import EtcdServer, etcd_available
from kubelite.storage.sqlite import SQLiteBackend


@pytest.fixture(scope="session")
def etcd_endpoint() -> Iterator[str]:
    if not etcd_available():
        pytest.skip("etcd is not installed")
    server = EtcdServer()
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "etcd"])
def backend_kind(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "etcd":
        return "etcd", request.getfixturevalue("etcd_endpoint")
    return "sqlite", str(tmp_path / "state.db")


@pytest.fixture
async def backend(backend_kind: tuple[str, str]) -> AsyncIterator[Backend]:
    kind, where = backend_kind
    store: Backend = EtcdBackend([where]) if kind == "etcd" else SQLiteBackend(where)
    await store.start()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def prefix() -> str:
    return f"/registry/test-{uuid.uuid4().hex[:12]}/"
