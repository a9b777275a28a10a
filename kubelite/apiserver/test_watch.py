"""The watch path (watch.py over the watch cache), in process: where a watch starts,
what it sends, 410 Expired, selectors, watch-list and the legacy /watch/ paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.conftest import Call
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.transport import Stream

CMS = "/api/v1/namespaces/default/configmaps"
WAIT = 5.0
Event = tuple[str, dict[str, Any]]


class Events:
    """The decoded lines of one open watch stream."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self._lines = stream.lines()

    async def next(self) -> Event:
        line = await asyncio.wait_for(anext(self._lines), WAIT)
        event = orjson.loads(line)
        return event["type"], event["object"]

    async def take(self, n: int) -> list[Event]:
        return [await self.next() for _ in range(n)]

    async def rest(self) -> list[Event]:
        """Every event until the server ends the stream."""
        async def read() -> list[Event]:
            out = []
            async for line in self._lines:
                event = orjson.loads(line)
                out.append((event["type"], event["object"]))
            return out
        return await asyncio.wait_for(read(), WAIT)



@asynccontextmanager
async def watching(server: APIServer, path: str, **params: str) -> AsyncIterator[Events]:
    transport = InProcessTransport(server.handle)
    stream = await transport.stream("GET", path, params=params,
                                    headers={"Accept": "application/json"})
    try:
        assert stream.status == 200, await stream.read()
        yield Events(stream)
    finally:
        await stream.close()


def cm(name: str, **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, **meta}, "data": {"k": "v"}}


def summary(events: list[Event]) -> list[tuple[str, str]]:
    return [(t, o["metadata"]["name"]) for t, o in events]


async def test_watch_from_a_resource_version_sends_each_later_change_once_in_order(
        server: APIServer, call: Call) -> None:
    _, before = await call("POST", CMS, body=cm("before"))
    rv = before["metadata"]["resourceVersion"]
    async with watching(server, CMS, watch="1", resourceVersion=rv) as events:
        _, made = await call("POST", CMS, body=cm("c"))
        await call("PATCH", f"{CMS}/c", body={"data": {"k": "v2"}},
                   headers={"Content-Type": "application/merge-patch+json"})
        await call("DELETE", f"{CMS}/c")
        got = await events.take(3)
    assert summary(got) == [("ADDED", "c"), ("MODIFIED", "c"), ("DELETED", "c")]
    assert got[1][1]["data"] == {"k": "v2"}
    versions = [int(o["metadata"]["resourceVersion"]) for _, o in got]
    assert int(rv) < versions[0] < versions[1] < versions[2]
    assert got[0][1]["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]


async def test_watch_replays_changes_made_before_it_was_opened(
        server: APIServer, call: Call) -> None:
    _, first = await call("POST", CMS, body=cm("a"))
    await call("POST", CMS, body=cm("b"))
    await call("DELETE", f"{CMS}/a")
    async with watching(server, CMS, watch="1",
                        resourceVersion=first["metadata"]["resourceVersion"]) as events:
        assert summary(await events.take(2)) == [("ADDED", "b"), ("DELETED", "a")]


async def test_watch_without_a_resource_version_starts_with_the_current_objects(
        server: APIServer, call: Call) -> None:
    for name in ("a", "b"):
        await call("POST", CMS, body=cm(name))
    async with watching(server, CMS, watch="1") as events:
        initial = await events.take(2)
        await call("POST", CMS, body=cm("c"))
        later = await events.next()
    assert sorted(summary(initial)) == [("ADDED", "a"), ("ADDED", "b")]
    assert (later[0], later[1]["metadata"]["name"]) == ("ADDED", "c")


async def test_watch_from_a_version_older_than_the_history_is_410_expired(
        small_history_server: APIServer) -> None:
    transport = InProcessTransport(small_history_server.handle)
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    first = await transport.request("POST", CMS, body=orjson.dumps(cm("first")),
                                    headers=headers)
    rv = orjson.loads(first.body)["metadata"]["resourceVersion"]
    for i in range(8):  # more than the 5 events the history keeps
        await transport.request("POST", CMS, body=orjson.dumps(cm(f"x{i}")), headers=headers)
    async with watching(small_history_server, CMS, watch="1",
                        resourceVersion=rv) as events:
        got = await events.rest()
    assert len(got) == 1 and got[0][0] == "ERROR"
    status = got[0][1]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith(f"too old resource version: {rv} (")


async def test_watch_with_a_malformed_resource_version_is_a_bad_request(
        call: Call) -> None:
    code, status = await call("GET", CMS, params={"watch": "1", "resourceVersion": "abc"})
    assert (code, status["reason"]) == (400, "BadRequest")


async def test_label_selector_turns_leaving_into_deleted_and_entering_into_added(
        server: APIServer, call: Call) -> None:
    merge = {"Content-Type": "application/merge-patch+json"}
    _, base = await call("POST", CMS, body=cm("w", labels={"app": "x"}))
    async with watching(server, CMS, watch="1", labelSelector="app=x",
                        resourceVersion=base["metadata"]["resourceVersion"]) as events:
        await call("PATCH", f"{CMS}/w", body={"metadata": {"labels": {"app": "y"}}},
                   headers=merge)
        await call("POST", CMS, body=cm("unlabelled"))
        await call("PATCH", f"{CMS}/w", body={"metadata": {"labels": {"app": "x"}}},
                   headers=merge)
        got = await events.take(2)
    assert summary(got) == [("DELETED", "w"), ("ADDED", "w")]
    assert got[0][1]["metadata"]["labels"] == {"app": "y"}  # the object as it left


async def test_field_selector_on_the_name_watches_one_object(
        server: APIServer, call: Call) -> None:
    _, base = await call("POST", CMS, body=cm("other"))
    async with watching(server, CMS, watch="1", fieldSelector="metadata.name=mine",
                        resourceVersion=base["metadata"]["resourceVersion"]) as events:
        await call("POST", CMS, body=cm("noise"))
        await call("POST", CMS, body=cm("mine"))
        assert summary([await events.next()]) == [("ADDED", "mine")]


async def test_watch_across_namespaces_sees_every_namespace_and_a_namespaced_one_its_own(
        server: APIServer, call: Call) -> None:
    await call("POST", "/api/v1/namespaces", body={"metadata": {"name": "other"}})
    _, base = await call("POST", CMS, body=cm("start"))
    rv = base["metadata"]["resourceVersion"]
    async with watching(server, "/api/v1/configmaps", watch="1",
                        resourceVersion=rv) as everywhere, \
            watching(server, CMS, watch="1", resourceVersion=rv) as default_only:
        await call("POST", "/api/v1/namespaces/other/configmaps", body=cm("o"))
        await call("POST", CMS, body=cm("d"))
        assert summary(await everywhere.take(2)) == [("ADDED", "o"), ("ADDED", "d")]
        assert summary([await default_only.next()]) == [("ADDED", "d")]


async def test_watch_list_sends_the_state_then_a_bookmark_ending_it(
        server: APIServer, call: Call) -> None:
    for name in ("a", "b"):
        await call("POST", CMS, body=cm(name))
    async with watching(server, CMS, watch="1", sendInitialEvents="true",
                        resourceVersionMatch="NotOlderThan",
                        allowWatchBookmarks="true") as events:
        initial = await events.take(2)
        bookmark = await events.next()
        await call("POST", CMS, body=cm("c"))
        after = await events.next()
    assert sorted(summary(initial)) == [("ADDED", "a"), ("ADDED", "b")]
    assert bookmark[0] == "BOOKMARK"
    assert bookmark[1]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark[1]["metadata"]["resourceVersion"]) >= max(
        int(o["metadata"]["resourceVersion"]) for _, o in initial)
    assert summary([after]) == [("ADDED", "c")]


async def test_legacy_watch_paths_watch_a_collection_or_one_object(
        server: APIServer, call: Call) -> None:
    _, base = await call("POST", CMS, body=cm("start"))
    rv = base["metadata"]["resourceVersion"]
    async with watching(server, "/api/v1/watch/namespaces/default/configmaps",
                        resourceVersion=rv) as collection, \
            watching(server, "/api/v1/watch/namespaces/default/configmaps/one",
                     resourceVersion=rv) as single:
        await call("POST", CMS, body=cm("two"))
        await call("POST", CMS, body=cm("one"))
        assert summary(await collection.take(2)) == [("ADDED", "two"), ("ADDED", "one")]
        assert summary([await single.next()]) == [("ADDED", "one")]


async def test_watch_of_an_unknown_resource_is_404(call: Call) -> None:
    code, status = await call("GET", "/api/v1/namespaces/default/widgets",
                              params={"watch": "1"})
    assert (code, status["reason"]) == (404, "NotFound")
