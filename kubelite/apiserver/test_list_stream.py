"""Streamed LISTs: the same bytes a whole-body LIST gave, for any size, page or selector."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import yaml

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.list_stream import CHUNK_BYTES, list_body_chunks
from kubelite.storage.factory import open_backend

NS = "lists"
CM = f"/api/v1/namespaces/{NS}/configmaps"

CHUNK_CASES = [
    ("no-items", [], 16),
    ("one-item", [b'{"a":1}'], 16),
    ("items-smaller-than-a-chunk", [b'{"a":1}', b'{"b":2}', b'{"c":3}'], 1024),
    ("item-larger-than-a-chunk", [b'{"big":"' + b"x" * 100 + b'"}', b"{}"], 8),
    ("many-chunks", [b'{"i":%d}' % i for i in range(1000)], 64),
    ("chunk-size-one", [b"1", b"2", b"3"], 1),
]


@pytest.mark.parametrize("items,chunk_bytes", [c[1:] for c in CHUNK_CASES],
                         ids=[c[0] for c in CHUNK_CASES])
def test_chunks_concatenate_to_the_joined_list(items: list[bytes], chunk_bytes: int) -> None:
    head, tail = b'{"kind":"List","items":[', b"]}"
    chunks = list(list_body_chunks(head, iter(items), tail, chunk_bytes))
    assert b"".join(chunks) == head + b",".join(items) + tail
    assert orjson.loads(b"".join(chunks))["items"] == [orjson.loads(i) for i in items]
    longest_item = max((len(i) for i in items), default=0)
    # A chunk ends once an item takes it to the size; only the last has the tail.
    assert all(len(c) < chunk_bytes + longest_item + len(head) + 1 for c in chunks[:-1])
    assert all(not c.endswith(tail) for c in chunks[:-1]) and chunks[-1].endswith(tail)
    assert len(chunks[-1]) > len(tail) or not items


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    server = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                       compaction_interval=0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http(server: APIServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.url) as session:
        async with session.post("/api/v1/namespaces", json={
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}) as r:
            assert r.status == 201
        yield session


async def create_configmaps(http: aiohttp.ClientSession, count: int, size: int, *,
                            first: int = 0) -> None:
    async def one(i: int) -> None:
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": f"cm-{i:03d}", "labels": {"shard": str(i % 3)}},
                "data": {"blob": f"{i}" * size}}
        async with http.post(CM, json=body) as r:
            assert r.status == 201, await r.text()
    await asyncio.gather(*(one(i) for i in range(first, first + count)))


async def get_bytes(http: aiohttp.ClientSession, path: str, **headers: str) -> bytes:
    async with http.get(path, headers=headers) as r:
        assert r.status == 200, await r.text()
        body = await r.read()
        assert r.headers["Content-Type"] == "application/json"
        assert int(r.headers["Content-Length"]) == len(body)
        return body


async def whole_list(http: aiohttp.ClientSession, list_meta: dict[str, Any],
                     names: list[str]) -> bytes:
    """The LIST body as kubelite built it whole: the envelope around each object's
    cached JSON (what a GET of the object answers), in key order."""
    items = [await get_bytes(http, f"{CM}/{n}") for n in names]
    head = orjson.dumps({"kind": "ConfigMapList", "apiVersion": "v1", "metadata": list_meta})
    return head[:-1] + b',"items":[' + b",".join(items) + b"]}"


SIZES = [("small", 3, 10), ("large", 40, 30_000)]


@pytest.mark.parametrize("count,size", [s[1:] for s in SIZES], ids=[s[0] for s in SIZES])
async def test_streamed_list_equals_the_whole_body(http: aiohttp.ClientSession, count: int,
                                                   size: int) -> None:
    await create_configmaps(http, count, size)
    body = await get_bytes(http, CM)
    listed = orjson.loads(body)
    names = [f"cm-{i:03d}" for i in range(count)]
    assert [o["metadata"]["name"] for o in listed["items"]] == names
    assert body == await whole_list(http, listed["metadata"], names)
    if size > 1000:
        assert len(body) > 4 * CHUNK_BYTES  # several chunks were written


@pytest.mark.parametrize("count,size", [s[1:] for s in SIZES], ids=[s[0] for s in SIZES])
async def test_pages_are_streamed_whole_bodies_of_one_snapshot(
        http: aiohttp.ClientSession, count: int, size: int) -> None:
    await create_configmaps(http, count, size)
    full = orjson.loads(await get_bytes(http, CM))
    seen: list[str] = []
    token = ""
    while True:
        page_bytes = await get_bytes(http, f"{CM}?limit=7" + (f"&continue={token}" if token
                                                              else ""))
        page = orjson.loads(page_bytes)
        names = [o["metadata"]["name"] for o in page["items"]]
        assert page_bytes == await whole_list(http, page["metadata"], names)
        assert page["metadata"]["resourceVersion"] == full["metadata"]["resourceVersion"]
        seen += names
        token = page["metadata"].get("continue", "")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] == count - len(seen)
    assert seen == [o["metadata"]["name"] for o in full["items"]]


SELECTORS = [
    ("label-equals", "labelSelector=shard%3D1", lambda i: i % 3 == 1),
    ("label-set", "labelSelector=shard+in+(0,2)", lambda i: i % 3 != 1),
    ("field-name", "fieldSelector=metadata.name%3Dcm-004", lambda i: i == 4),
    ("matches-none", "labelSelector=shard%3D9", lambda i: False),
    ("label-and-limit", "labelSelector=shard%3D2&limit=100", lambda i: i % 3 == 2),
]


@pytest.mark.parametrize("query,wanted", [s[1:] for s in SELECTORS],
                         ids=[s[0] for s in SELECTORS])
async def test_selected_lists_are_streamed_whole_bodies(http: aiohttp.ClientSession, query: str,
                                                        wanted: Any) -> None:
    await create_configmaps(http, 40, 30_000)
    body = await get_bytes(http, f"{CM}?{query}")
    listed = orjson.loads(body)
    names = [f"cm-{i:03d}" for i in range(40) if wanted(i)]
    assert [o["metadata"]["name"] for o in listed["items"]] == names
    assert body == await whole_list(http, listed["metadata"], names)


async def test_built_outputs_show_the_same_list(http: aiohttp.ClientSession) -> None:
    await create_configmaps(http, 40, 2000)  # YAML is slow to write: a smaller list
    streamed = orjson.loads(await get_bytes(http, CM))
    async with http.get(CM, headers={"Accept": "application/yaml"}) as r:
        assert yaml.safe_load(await r.read()) == streamed
    async with http.get(CM, headers={
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}) as r:
        table = await r.json()
    assert [row["object"]["metadata"]["name"] for row in table["rows"]] == [
        o["metadata"]["name"] for o in streamed["items"]]


HPA = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
       "metadata": {"name": "web"},
       "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "name": "web"},
                "minReplicas": 1, "maxReplicas": 3,
                "metrics": [{"type": "Resource", "resource": {
                    "name": "cpu", "target": {"type": "Utilization",
                                              "averageUtilization": 50}}}]}}


async def test_list_in_another_version_is_converted(http: aiohttp.ClientSession) -> None:
    async with http.post(f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers",
                         json=HPA) as r:
        assert r.status == 201
    stored = orjson.loads(await get_bytes(
        http, f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers"))
    converted = orjson.loads(await get_bytes(
        http, f"/apis/autoscaling/v1/namespaces/{NS}/horizontalpodautoscalers"))
    assert stored["items"][0]["apiVersion"] == "autoscaling/v2"
    assert stored["items"][0]["spec"]["metrics"] == HPA["spec"]["metrics"]
    assert (converted["kind"], converted["apiVersion"]) == (
        "HorizontalPodAutoscalerList", "autoscaling/v1")
    assert converted["items"][0]["apiVersion"] == "autoscaling/v1"
    assert converted["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 50


async def test_head_of_a_list_has_its_length_and_no_body(http: aiohttp.ClientSession) -> None:
    await create_configmaps(http, 40, 30_000)
    body = await get_bytes(http, CM)
    async with http.head(CM) as r:
        assert r.status == 200
        assert int(r.headers["Content-Length"]) == len(body)
        assert await r.read() == b""
    assert await get_bytes(http, CM) == body  # the connection still serves


async def test_gzip_accepted_is_answered_uncompressed(http: aiohttp.ClientSession) -> None:
    await create_configmaps(http, 40, 30_000)
    async with http.get(CM, headers={"Accept-Encoding": "gzip"}, auto_decompress=False) as r:
        assert "Content-Encoding" not in r.headers
        assert orjson.loads(await r.read())["kind"] == "ConfigMapList"


async def slow_reader(server: APIServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection with a small receive window, so a large body waits in the server."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (server.host, server.port))
    return await asyncio.open_connection(sock=sock, limit=4096)


async def start_list(server: APIServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter,
                                                  int]:
    """Sends a LIST and reads its head: the response has begun, so its items are taken."""
    reader, writer = await slow_reader(server)
    writer.write(f"GET {CM} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
    assert head.startswith("http/1.1 200")
    length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
    return reader, writer, length


async def test_list_is_the_snapshot_taken_before_its_first_byte(
        server: APIServer, http: aiohttp.ClientSession) -> None:
    # Larger than the socket buffers (4 MiB at most), so the server is still writing
    # when the changes below are made.
    await create_configmaps(http, 40, 150_000)
    before = await get_bytes(http, CM)
    reader, writer, length = await start_list(server)
    try:
        # The list is under way; change what it lists.
        async with http.delete(f"{CM}/cm-039") as r:
            assert r.status == 200
        async with http.patch(f"{CM}/cm-038", data=b'{"data":{"blob":"changed"}}',
                              headers={"Content-Type": "application/merge-patch+json"}) as r:
            assert r.status == 200
        await create_configmaps(http, 1, 10, first=40)
        body = await reader.readexactly(length)
    finally:
        writer.close()
    assert body == before


async def test_reader_that_leaves_mid_list_does_not_hurt_the_server(
        server: APIServer, http: aiohttp.ClientSession) -> None:
    await create_configmaps(http, 40, 30_000)
    before = await get_bytes(http, CM)
    for _ in range(3):
        reader, writer, _ = await start_list(server)
        await reader.readexactly(1000)
        writer.close()
        await writer.wait_closed()
    assert await get_bytes(http, CM) == before


BAD_LISTS = [
    ("malformed-label-selector", "labelSelector=a+in+(", 400, "BadRequest"),
    ("unknown-selectable-field", "fieldSelector=spec.nope%3Dx", 400, "BadRequest"),
    ("malformed-continue", "limit=2&continue=not-a-token", 400, "BadRequest"),
    ("non-integer-limit", "limit=ten", 400, "BadRequest"),
    ("unknown-resource-version-match", "resourceVersion=1&resourceVersionMatch=Newest", 422,
     "Invalid"),
]


@pytest.mark.parametrize("query,code,reason", [b[1:] for b in BAD_LISTS],
                         ids=[b[0] for b in BAD_LISTS])
async def test_bad_list_gets_a_status(http: aiohttp.ClientSession, query: str, code: int,
                                      reason: str) -> None:
    await create_configmaps(http, 3, 10)
    async with http.get(f"{CM}?{query}") as r:
        status = await r.json()
    assert r.status == code
    assert (status["kind"], status["code"], status["reason"]) == ("Status", code, reason)
