"""Bookmarks: when a watch sends them, and what resourceVersion they carry."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from kubelite.apiserver.watch import next_bookmark

CM = "/api/v1/namespaces/default/configmaps"


@pytest.mark.parametrize(("now", "deadline", "expected"), [
    (0.0, 3600.0, 60.0),
    (0.0, 30.0, 28.0),
    (10.0, 12.0, 10.0),
    (10.0, 11.5, None),
], ids=["a-minute-from-now", "two-seconds-before-the-deadline",
        "exactly-at-the-pre-timeout-moment", "too-late-for-a-pre-timeout-bookmark"])
def test_next_bookmark(now: float, deadline: float, expected: float | None) -> None:
    assert next_bookmark(now, deadline) == expected


async def test_a_bookmark_arrives_just_before_the_watch_times_out(
        http: aiohttp.ClientSession) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seen"}}
    async with http.post(CM, json=body) as resp:
        rv = (await resp.json())["metadata"]["resourceVersion"]
    url = f"{CM}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=3"
    async with http.get(url) as resp:  # returns once the stream has started
        # Other resources move the revision on while this watch has nothing to send.
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "elsewhere"}}
        async with http.post("/api/v1/namespaces", json=ns) as created:
            later = (await created.json())["metadata"]["resourceVersion"]
        events = [orjson.loads(line) async for line in resp.content]
    assert [e["type"] for e in events] == ["BOOKMARK"]
    bookmark = events[0]["object"]
    assert bookmark["kind"] == "ConfigMap" and bookmark["apiVersion"] == "v1"
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(later)


async def test_no_bookmarks_unless_asked(http: aiohttp.ClientSession) -> None:
    async with http.get(f"{CM}?watch=true&resourceVersion=0&timeoutSeconds=3") as resp:
        events = [orjson.loads(line) async for line in resp.content]
    assert all(e["type"] != "BOOKMARK" for e in events)
