"""LIST semantics (registry/listing.py behind reads.py), in process: paging with
continue as one consistent snapshot, 410 after compaction, label and field
selectors, resourceVersion, and scope."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.conftest import Call

CMS = "/api/v1/namespaces/default/configmaps"


def cm(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}}


def names(listed: dict[str, Any]) -> list[str]:
    return [i["metadata"]["name"] for i in listed["items"]]


async def make(call: Call, *objs: dict[str, Any], path: str = CMS) -> None:
    for obj in objs:
        code, body = await call("POST", path, body=obj)
        assert code == 201, body


async def test_pages_follow_continue_and_count_what_remains(call: Call) -> None:
    await make(call, *(cm(f"c{i}") for i in range(5)))
    seen, remaining, versions = [], [], set()
    params = {"limit": "2"}
    while True:
        code, page = await call("GET", CMS, params=params)
        assert code == 200 and page["kind"] == "ConfigMapList"
        seen.append(names(page))
        remaining.append(page["metadata"].get("remainingItemCount"))
        versions.add(page["metadata"]["resourceVersion"])
        token = page["metadata"].get("continue")
        if not token:
            break
        params = {"limit": "2", "continue": token}
    assert seen == [["c0", "c1"], ["c2", "c3"], ["c4"]]
    assert remaining == [3, 1, None]
    assert len(versions) == 1  # every page is served at the first page's revision


async def test_later_pages_show_the_snapshot_of_the_first(call: Call) -> None:
    await make(call, *(cm(f"c{i}") for i in range(4)))
    _, first = await call("GET", CMS, params={"limit": "2"})
    await call("DELETE", f"{CMS}/c3")
    await make(call, cm("c9"))
    await call("PUT", f"{CMS}/c2", body={**cm("c2"), "data": {"changed": "yes"}})
    _, second = await call("GET", CMS, params={
        "limit": "10", "continue": first["metadata"]["continue"]})
    assert names(second) == ["c2", "c3"]
    assert "data" not in second["items"][0]
    assert "continue" not in second["metadata"]


async def test_continue_from_a_compacted_revision_is_410(
        server: APIServer, call: Call) -> None:
    await make(call, *(cm(f"c{i}") for i in range(3)))
    _, first = await call("GET", CMS, params={"limit": "1"})
    await make(call, cm("later"))  # the resource changed, so pages come from history
    await server.backend.compact(await server.backend.current_revision())
    code, status = await call("GET", CMS, params={
        "limit": "1", "continue": first["metadata"]["continue"]})
    assert (code, status["reason"]) == (410, "Expired")
    assert status["message"].startswith(
        "The provided continue parameter is too old to display a consistent list result.")


async def test_malformed_continue_is_a_bad_request(call: Call) -> None:
    code, status = await call("GET", CMS, params={"limit": "1", "continue": "garbage"})
    assert (code, status["reason"]) == (400, "BadRequest")
    assert status["message"].startswith("continue key is not valid")


@pytest.mark.parametrize(("selector", "expected"), [
    ("tier=web", ["a", "b"]),
    ("tier==web", ["a", "b"]),
    ("tier!=web", ["c", "d"]),
    ("tier in (web,db)", ["a", "b", "c"]),
    ("tier notin (web)", ["c", "d"]),
    ("tier", ["a", "b", "c"]),
    ("!tier", ["d"]),
    ("tier=web,env=prod", ["a"]),
    ("tier=web,!env", ["b"]),
    ("", ["a", "b", "c", "d"]),
], ids=["equals", "double-equals", "not-equals", "in", "notin", "exists", "not-exists",
        "and", "and-not-exists", "empty-matches-all"])
async def test_label_selector(call: Call, selector: str, expected: list[str]) -> None:
    await make(call, cm("a", tier="web", env="prod"), cm("b", tier="web"),
               cm("c", tier="db", env="prod"), cm("d"))
    code, listed = await call("GET", CMS, params={"labelSelector": selector})
    assert code == 200 and names(listed) == expected


@pytest.mark.parametrize(("path", "selector", "expected"), [
    (CMS, "metadata.name=b", ["b"]),
    (CMS, "metadata.name!=b", ["a"]),
    ("/api/v1/configmaps", "metadata.namespace=other", ["o"]),
    ("/api/v1/configmaps", "metadata.namespace!=other,metadata.name=a", ["a"]),
    ("/api/v1/pods", "spec.nodeName=node-1", ["p1"]),
    ("/api/v1/pods", "spec.nodeName=", ["p2"]),
], ids=["name", "not-name", "namespace", "and", "pod-node", "pod-unscheduled"])
async def test_field_selector(call: Call, path: str, selector: str,
                              expected: list[str]) -> None:
    await make(call, {"metadata": {"name": "other"}}, path="/api/v1/namespaces")
    await make(call, cm("a"), cm("b"))
    await make(call, cm("o"), path="/api/v1/namespaces/other/configmaps")
    pod = {"spec": {"containers": [{"name": "c", "image": "i"}]}}
    await make(call, {**pod, "metadata": {"name": "p1"},
                      "spec": {**pod["spec"], "nodeName": "node-1"}},
               {**pod, "metadata": {"name": "p2"}},
               path="/api/v1/namespaces/default/pods")
    code, listed = await call("GET", path, params={"fieldSelector": selector})
    assert code == 200, listed
    assert names(listed) == expected


@pytest.mark.parametrize(("params", "reason", "message"), [
    ({"labelSelector": "tier in (web"}, "BadRequest", ""),
    ({"fieldSelector": "spec.nodeName=x"}, "BadRequest",
     "field label not supported: spec.nodeName"),
    ({"resourceVersionMatch": "Exact"}, "Invalid", ""),  # ValidateListOptions: a 422
], ids=["unclosed-set", "unsupported-field", "match-without-version"])
async def test_bad_list_options_are_refused(call: Call, params: dict[str, str], reason: str,
                                            message: str) -> None:
    code, status = await call("GET", CMS, params=params)
    assert (code, status["kind"], status["reason"]) == (
        400 if reason == "BadRequest" else 422, "Status", reason)
    assert status["message"].startswith(message)


async def test_exact_resource_version_lists_the_past(call: Call) -> None:
    await make(call, cm("old"))
    _, then = await call("GET", CMS)
    await call("DELETE", f"{CMS}/old")
    await make(call, cm("new"))
    rv = then["metadata"]["resourceVersion"]
    _, past = await call("GET", CMS, params={"resourceVersion": rv,
                                            "resourceVersionMatch": "Exact"})
    assert names(past) == ["old"] and past["metadata"]["resourceVersion"] == rv
    _, now = await call("GET", CMS, params={"resourceVersion": rv,
                                           "resourceVersionMatch": "NotOlderThan"})
    assert names(now) == ["new"]


async def test_list_version_is_the_latest_write_and_reads_see_their_writes(
        call: Call) -> None:
    for i in range(10):
        _, made = await call("POST", CMS, body=cm(f"c{i}"))
        _, listed = await call("GET", CMS)
        assert names(listed)[-1] == f"c{i}"
        assert int(listed["metadata"]["resourceVersion"]) >= int(
            made["metadata"]["resourceVersion"])


async def test_namespaced_list_shows_its_namespace_and_cluster_list_all(call: Call) -> None:
    await make(call, {"metadata": {"name": "other"}}, path="/api/v1/namespaces")
    await make(call, cm("d"))
    await make(call, cm("o"), path="/api/v1/namespaces/other/configmaps")
    _, here = await call("GET", CMS)
    _, everywhere = await call("GET", "/api/v1/configmaps")
    assert names(here) == ["d"]
    assert sorted((i["metadata"]["namespace"], i["metadata"]["name"])
                  for i in everywhere["items"]
                  if i["metadata"]["name"] in ("d", "o")) == [("default", "d"), ("other", "o")]
