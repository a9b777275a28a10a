"""What a client sees once history it asks for is gone: 410 Expired, as upstream."""

from __future__ import annotations

import aiohttp
import orjson

from kubelite.apiserver.app import APIServer

CM = "/api/v1/namespaces/default/configmaps"


async def create(http: aiohttp.ClientSession, name: str) -> int:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    async with http.post(CM, json=body) as resp:
        assert resp.status == 201
        return int((await resp.json())["metadata"]["resourceVersion"])


async def test_watch_older_than_the_cache_history_gets_an_expired_error_event(
        http: aiohttp.ClientSession) -> None:
    first = await create(http, "c0")
    for i in range(1, 10):
        await create(http, f"c{i}")
    async with http.get(f"{CM}?watch=1&resourceVersion={first}&timeoutSeconds=5") as resp:
        assert resp.status == 200
        events = [orjson.loads(line) async for line in resp.content]
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["code"], status["reason"]) == (410, "Expired")
    assert status["message"].startswith(f"too old resource version: {first} (")


async def test_watch_within_the_history_replays_it(http: aiohttp.ClientSession) -> None:
    rv = await create(http, "a")
    await create(http, "b")
    async with http.get(f"{CM}?watch=1&resourceVersion={rv}&timeoutSeconds=1") as resp:
        events = [orjson.loads(line) async for line in resp.content]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "b")]


async def test_continue_token_after_compaction_is_gone(
        small_history_server: APIServer, http: aiohttp.ClientSession) -> None:
    for i in range(4):
        await create(http, f"p{i}")
    async with http.get(f"{CM}?limit=2") as resp:
        token = (await resp.json())["metadata"]["continue"]
    await create(http, "later")  # the resource changed: the next page needs history
    await small_history_server.backend.compact(
        await small_history_server.backend.current_revision())
    async with http.get(f"{CM}?limit=2&continue={token}") as resp:
        status = await resp.json()
    assert (resp.status, status["reason"]) == (410, "Expired")


async def test_malformed_continue_token_is_bad_request(http: aiohttp.ClientSession) -> None:
    async with http.get(f"{CM}?limit=2&continue=not-a-token") as resp:
        status = await resp.json()
    assert (resp.status, status["reason"]) == (400, "BadRequest")


async def test_churn_on_one_resource_does_not_expire_a_quiet_watch_on_another(
        http: aiohttp.ClientSession) -> None:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "quiet"}}
    async with http.post("/api/v1/namespaces", json=body) as resp:
        ns_rv = int((await resp.json())["metadata"]["resourceVersion"])
    for i in range(12):  # more than the 5 events each resource keeps
        await create(http, f"churn{i}")
    async with http.get(f"/api/v1/namespaces?watch=1&resourceVersion={ns_rv}"
                        "&timeoutSeconds=1") as resp:
        events = [orjson.loads(line) async for line in resp.content]
    assert events == []  # nothing happened to namespaces since: no 410, nothing replayed
    async with http.get(f"{CM}?watch=1&resourceVersion={ns_rv}&timeoutSeconds=1") as resp:
        events = [orjson.loads(line) async for line in resp.content]
    assert [e["type"] for e in events] == ["ERROR"]  # the churned resource did expire


async def test_a_resource_keeps_its_own_newest_events(http: aiohttp.ClientSession) -> None:
    rvs = [await create(http, f"k{i}") for i in range(8)]
    # Five events kept: a watch from the revision of the third newest-but-five works.
    async with http.get(f"{CM}?watch=1&resourceVersion={rvs[2]}&timeoutSeconds=1") as resp:
        events = [orjson.loads(line) async for line in resp.content]
    assert [e["object"]["metadata"]["name"] for e in events] == [f"k{i}" for i in range(3, 8)]
    async with http.get(f"{CM}?watch=1&resourceVersion={rvs[1]}&timeoutSeconds=1") as resp:
        events = [orjson.loads(line) async for line in resp.content]
    assert [e["type"] for e in events] == ["ERROR"]
    assert events[0]["object"]["message"] == (
        f"too old resource version: {rvs[1]} ({rvs[2]})")
