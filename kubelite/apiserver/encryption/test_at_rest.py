"""Secrets encrypted at rest, through a real API server on a real store: the stored
row is ciphertext in upstream's format, the API and watches see plaintext, and
rotating keys works by rewriting."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.encryption.config import EncryptionConfig, parse
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.storage.etcd import EtcdBackend
from kubelite.storage.etcd_process import EtcdServer, etcd_available
from kubelite.storage.factory import open_backend

KEY1 = base64.b64encode(b"1" * 32).decode()
KEY2 = base64.b64encode(b"2" * 32).decode()
PASSWORD = base64.b64encode(b"hunter2-correct-horse").decode()


def encryption(*providers: dict[str, Any], resources: tuple[str, ...] = ("secrets",)
               ) -> EncryptionConfig:
    return parse({"apiVersion": "apiserver.config.k8s.io/v1",
                  "kind": "EncryptionConfiguration",
                  "resources": [{"resources": list(resources),
                                 "providers": [*providers, {"identity": {}}]}]})


def aescbc(name: str, secret: str) -> dict[str, Any]:
    return {"aescbc": {"keys": [{"name": name, "secret": secret}]}}


def secret(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": "default"},
            "data": {"password": PASSWORD}}


def raw_value(db: Path, key: str) -> bytes:
    """The newest stored value of a key, read from the SQLite file itself."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT value FROM kine WHERE name = ? ORDER BY id DESC LIMIT 1",
                           (key,)).fetchone()
    assert row is not None, key
    return bytes(row[0])


class Running:
    """A server on one SQLite file that a test can restart with other keys."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.server: APIServer | None = None
        self.client: Client | None = None

    async def start(self, config: EncryptionConfig | None) -> Client:
        await self.stop()
        self.server = APIServer(backend=open_backend(f"sqlite://{self.db}"), port=0,
                                compaction_interval=0, encryption=config)
        await self.server.start()
        self.client = Client(InProcessTransport(self.server.handle),  # type: ignore[arg-type]
                             field_manager="test")
        return self.client

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
        if self.server is not None:
            await self.server.stop()
        self.server = self.client = None


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    r = Running(tmp_path / "state.db")
    yield r
    await r.stop()


SECRET_KEY = "/registry/core/secrets/default/db"


async def test_a_secret_is_ciphertext_in_the_store_and_plaintext_through_the_api(
        running: Running) -> None:
    client = await running.start(encryption(aescbc("key1", KEY1)))
    await client.create("secrets", secret("db"))
    await client.create("configmaps", {"metadata": {"name": "plain", "namespace": "default"},
                                       "data": {"note": "visible"}})
    stored = raw_value(running.db, SECRET_KEY)
    assert stored.startswith(b"k8s:enc:aescbc:v1:key1:")
    assert PASSWORD.encode() not in stored and b'"db"' not in stored
    # a resource the configuration does not name is stored as it is
    assert b'"visible"' in raw_value(running.db, "/registry/core/configmaps/default/plain")
    got = await client.get("secrets", "db", namespace="default")
    assert got["data"] == {"password": PASSWORD}
    listed = await client.list("secrets", namespace="default")
    assert [s["data"] for s in listed["items"]] == [{"password": PASSWORD}]


async def test_a_watch_sees_plaintext(running: Running) -> None:
    client = await running.start(encryption({"secretbox": {"keys": [
        {"name": "box", "secret": KEY1}]}}))
    async with client.watch("secrets", namespace="default", resource_version="0") as events:
        await client.create("secrets", secret("db"))
        async with asyncio.timeout(10):
            async for type_, obj in events:
                if obj["metadata"]["name"] == "db":
                    assert (type_, obj["data"]) == ("ADDED", {"password": PASSWORD})
                    break
    assert raw_value(running.db, SECRET_KEY).startswith(b"k8s:enc:secretbox:v1:box:")


async def test_rotation_by_rewriting_reseals_with_the_new_first_key(running: Running) -> None:
    client = await running.start(encryption(aescbc("key1", KEY1)))
    await client.create("secrets", secret("db"))
    assert raw_value(running.db, SECRET_KEY).startswith(b"k8s:enc:aescbc:v1:key1:")
    # the new key first, the old one still listed so existing values open
    client = await running.start(encryption(
        {"aesgcm": {"keys": [{"name": "key2", "secret": KEY2}]}}, aescbc("key1", KEY1)))
    current = await client.get("secrets", "db", namespace="default")
    assert current["data"] == {"password": PASSWORD}
    assert raw_value(running.db, SECRET_KEY).startswith(b"k8s:enc:aescbc:v1:key1:")
    # an unchanged replace still rewrites a value sealed with an old key
    replaced = await client.update("secrets", current)
    assert replaced["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"]
    assert raw_value(running.db, SECRET_KEY).startswith(b"k8s:enc:aesgcm:v1:key2:")
    # once rewritten, an unchanged replace is a no-op again, as upstream
    again = await client.update("secrets", replaced)
    assert again["metadata"]["resourceVersion"] == replaced["metadata"]["resourceVersion"]
    # and the old key can go
    client = await running.start(encryption(
        {"aesgcm": {"keys": [{"name": "key2", "secret": KEY2}]}}))
    assert (await client.get("secrets", "db", namespace="default"))["data"] == {
        "password": PASSWORD}


async def test_a_value_no_key_opens_is_an_error_not_garbage(running: Running) -> None:
    client = await running.start(encryption(aescbc("key1", KEY1)))
    created = await client.create("secrets", secret("db"))
    # same key name, another secret: the value does not open
    client = await running.start(encryption(
        {"aesgcm": {"keys": [{"name": "key1", "secret": KEY2}]}}))
    with pytest.raises(errors.InternalError) as caught:
        await client.update("secrets", created)
    assert f'unable to transform key "{SECRET_KEY}": no matching prefix found' in str(
        caught.value)
    # the watch cache skips what it cannot read instead of serving garbage
    with pytest.raises(errors.NotFound):
        await client.get("secrets", "db", namespace="default")


async def test_encrypting_existing_plaintext_by_rewriting(running: Running) -> None:
    client = await running.start(None)
    await client.create("secrets", secret("db"))
    assert raw_value(running.db, SECRET_KEY).startswith(b"{")
    client = await running.start(encryption(aescbc("key1", KEY1)))  # identity listed last
    current = await client.get("secrets", "db", namespace="default")
    await client.update("secrets", current)
    assert raw_value(running.db, SECRET_KEY).startswith(b"k8s:enc:aescbc:v1:key1:")


@pytest.mark.skipif(not etcd_available(), reason="etcd is not installed")
async def test_on_etcd_the_stored_value_is_ciphertext(tmp_path: Path) -> None:
    with EtcdServer() as endpoint:
        server = APIServer(backend=EtcdBackend([endpoint]), port=0, compaction_interval=0,
                           encryption=encryption(aescbc("key1", KEY1)))
        await server.start()
        client = Client(InProcessTransport(server.handle),  # type: ignore[arg-type]
                        field_manager="test")
        try:
            await client.create("secrets", secret("db"))
            assert (await client.get("secrets", "db", namespace="default"))["data"] == {
                "password": PASSWORD}
            raw = EtcdBackend([endpoint])
            await raw.start()
            try:
                kv = await raw.get(SECRET_KEY)
            finally:
                await raw.close()
            assert kv is not None and kv.value.startswith(b"k8s:enc:aescbc:v1:key1:")
            assert PASSWORD.encode() not in kv.value
        finally:
            await client.close()
            await server.stop()
