"""Store write rate: each backend against the raw limit of the engine beneath it.

    python benchmarks/bench_storage.py [--sqlite-n 20000] [--etcd-n 5000]

Four figures, creates per second with 32 concurrent callers:

- raw sqlite3: a plain INSERT loop into the same log table with the same durability
  (WAL, synchronous=FULL), committing every 32 rows, i.e. what 32 concurrent callers
  could at best share per fsync. No event loop, no queue, no revision checks: the limit.
- SQLiteBackend: `create()` from 32 concurrent asyncio tasks.
- raw etcd: 32 concurrent tasks POSTing plain puts to the gateway (no Txn guard).
- EtcdBackend: `create()` (a guarded Txn) from 32 concurrent tasks, same etcd.

Each backend figure is printed with its ratio to its raw reference. A benchmark, not
a test: it asserts nothing. `raw_sqlite_write_rate` and `raw_etcd_write_rate` are
reused by the API server benchmark as its reference figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kubelite.storage.backend import Backend  # noqa: E402
from kubelite.storage.etcd import EtcdBackend  # noqa: E402
from kubelite.storage.etcd_process import etcd_server  # noqa: E402
from kubelite.storage.sqlite import _SCHEMA, SQLiteBackend  # noqa: E402

T = TypeVar("T")
CONCURRENCY = 32
VALUE = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"k":"v"}}' * 4


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also when the caller is inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def raw_sqlite_write_rate(path: str, n: int) -> float:
    """Rows/s of a bare INSERT loop on a fresh file at `path`, fsynced every 32 rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    for statement in _SCHEMA:
        conn.execute(statement)
    (base,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM kine").fetchone()
    insert = (
        "INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision,"
        " value, old_value) VALUES (?, ?, 1, 0, ?, 0, ?, NULL)"
    )
    started = time.perf_counter()
    for first in range(base + 1, base + n + 1, CONCURRENCY):
        conn.execute("BEGIN IMMEDIATE")
        for rev in range(first, min(first + CONCURRENCY, base + n + 1)):
            conn.execute(insert, (rev, f"/registry/configmaps/bench/raw-{rev}", rev, VALUE))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return n / elapsed


async def _raw_etcd(endpoint: str, n: int) -> float:
    url = endpoint.rstrip("/") + "/v3/kv/put"
    value = base64.b64encode(VALUE).decode()
    counter = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:

        async def caller() -> None:
            for i in counter:
                key = base64.b64encode(f"/registry/configmaps/bench/raw-{i}".encode()).decode()
                async with http.post(url, json={"key": key, "value": value}) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"etcd put failed: HTTP {resp.status}")

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
        return n / (time.perf_counter() - started)


def raw_etcd_write_rate(endpoint: str, n: int) -> float:
    """Puts/s of 32 concurrent callers POSTing straight to etcd's gateway."""
    return _run(_raw_etcd(endpoint, n))


async def backend_write_rate(store: Backend, n: int, *, prefix: str = "/bench/") -> float:
    """create()/s with 32 concurrent callers on a started backend."""
    counter = iter(range(n))

    async def caller() -> None:
        for i in counter:
            await store.create(f"{prefix}{i}", VALUE)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    return n / (time.perf_counter() - started)


async def _sqlite_backend(path: str, n: int) -> float:
    store = SQLiteBackend(path)
    await store.start()
    try:
        return await backend_write_rate(store, n, prefix="/registry/configmaps/bench/")
    finally:
        await store.close()


async def _etcd_both(n: int) -> tuple[float, float]:
    async with etcd_server() as endpoint:
        raw = await _raw_etcd(endpoint, n)
        store = EtcdBackend([endpoint])
        await store.start()
        try:
            ours = await backend_write_rate(store, n, prefix="/registry/configmaps/bench/")
        finally:
            await store.close()
    return raw, ours


def _line(name: str, rate: float, reference: float | None = None) -> str:
    ratio = f"  ({rate / reference:5.1%} of raw)" if reference else ""
    return f"{name:<28}{rate:>10,.0f} creates/s{ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-n", type=int, default=20000)
    parser.add_argument("--etcd-n", type=int, default=5000)
    parser.add_argument("--skip-etcd", action="store_true")
    args = parser.parse_args()
    try:
        import uvloop  # the API server runs on uvloop; measure on the same loop

        uvloop.install()
    except ImportError:
        pass
    print(f"{CONCURRENCY} concurrent callers, {len(VALUE)}-byte values")
    with tempfile.TemporaryDirectory() as tmp:
        raw = raw_sqlite_write_rate(os.path.join(tmp, "raw.db"), args.sqlite_n)
        ours = asyncio.run(_sqlite_backend(os.path.join(tmp, "backend.db"), args.sqlite_n))
    print(_line("sqlite3 raw (FULL, WAL)", raw))
    print(_line("SQLiteBackend", ours, raw))
    if not args.skip_etcd:
        raw, ours = asyncio.run(_etcd_both(args.etcd_n))
        print(_line("etcd raw (gateway put)", raw))
        print(_line("EtcdBackend", ours, raw))


if __name__ == "__main__":
    main()
