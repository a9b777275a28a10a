from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from kubelite.client.informer import Informer, strip_managed_fields
from kubelite.client.rest import Client
from kubelite.client.store import Indexer, Lister, object_key, split_key
from kubelite.machinery import errors


def cm(name: str, ns: str = "default", **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns, "labels": labels}, "data": {}}


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def on_add(self, obj: dict) -> None:
        self.events.append(("add", obj["metadata"]["name"]))

    def on_update(self, old: dict, new: dict) -> None:
        self.events.append(("update", new["metadata"]["name"]))

    def on_delete(self, obj: dict) -> None:
        self.events.append(("delete", obj["metadata"]["name"]))

    def attach(self, informer: Informer) -> None:
        informer.add_event_handler(on_add=self.on_add, on_update=self.on_update,
                                   on_delete=self.on_delete)


@pytest.mark.parametrize(("obj", "key", "split"), [
    (cm("a", "ns"), "ns/a", ("ns", "a")),
    ({"metadata": {"name": "node-1"}}, "node-1", ("", "node-1")),
], ids=["namespaced", "cluster-scoped"])
def test_object_keys_round_trip(obj: dict, key: str, split: tuple[str, str]) -> None:
    assert object_key(obj) == key
    assert split_key(key) == split


def test_indexer_keeps_custom_indexes_current_through_updates_and_deletes() -> None:
    def by_app(obj: dict) -> list[str]:
        return [obj["metadata"]["labels"]["app"]] if obj["metadata"]["labels"] else []
    idx = Indexer({"app": by_app})
    idx.add(cm("a", app="web"))
    idx.add(cm("b", "other", app="web"))
    assert {o["metadata"]["name"] for o in idx.by_index("app", "web")} == {"a", "b"}
    idx.update(cm("a", app="db"))
    assert idx.index_keys("app", "web") == {"other/b"}
    assert idx.index_keys("app", "db") == {"default/a"}
    idx.delete(cm("b", "other"))
    assert idx.index_keys("app", "web") == set()
    idx.add_indexers({"name": lambda o: [o["metadata"]["name"]]})
    assert idx.index_keys("name", "a") == {"default/a"}


def test_indexer_replace_reports_added_updated_deleted() -> None:
    idx = Indexer()
    idx.add(cm("stay"))
    idx.add(cm("go"))
    added, updated, deleted = idx.replace([cm("stay"), cm("new")])
    assert [o["metadata"]["name"] for o in added] == ["new"]
    assert [n["metadata"]["name"] for _, n in updated] == ["stay"]
    assert [o["metadata"]["name"] for o in deleted] == ["go"]
    assert sorted(idx.keys()) == ["default/new", "default/stay"]


@pytest.mark.parametrize(("namespace", "selector", "names"), [
    (None, None, ["a", "b", "c"]),
    ("default", None, ["a", "b"]),
    ("default", "app=web", ["a"]),
    (None, "app in (web,db)", ["a", "c"]),
    (None, "", ["a", "b", "c"]),
], ids=["all", "namespace", "namespace-and-selector", "set-selector", "empty-selector"])
def test_lister_filters_by_namespace_and_selector(namespace: str | None, selector: str | None,
                                                  names: list[str]) -> None:
    idx = Indexer()
    for obj in (cm("a", app="web"), cm("b", app="api"), cm("c", "kube-system", app="db")):
        idx.add(obj)
    lister = Lister(idx)
    assert sorted(o["metadata"]["name"] for o in lister.list(namespace, selector)) == names
    assert lister.get("default", "a") is not None
    assert lister.get("default", "zzz") is None


@pytest.mark.parametrize("watch_list", [True, False], ids=["watch-list", "list-watch"])
async def test_informer_syncs_then_follows_changes_in_order(client: Client,
                                                            watch_list: bool) -> None:
    await client.create("configmaps", cm("before"))
    informer = Informer(client, "configmaps", namespace="default", use_watch_list=watch_list)
    rec = Recorder()
    rec.attach(informer)
    informer.start()
    try:
        assert await informer.wait_for_sync(5)
        assert informer.has_synced()
        assert rec.events == [("add", "before")]
        await client.create("configmaps", cm("later"))
        await client.patch("configmaps", "later", {"data": {"x": "1"}})
        await client.delete("configmaps", "before")
        await until(lambda: len(rec.events) == 4)
        assert rec.events[1:] == [("add", "later"), ("update", "later"), ("delete", "before")]
        assert informer.lister.get("default", "later")["data"] == {"x": "1"}
        assert informer.lister.get("default", "before") is None
        assert informer.use_watch_list is watch_list
    finally:
        await informer.stop()


async def test_informer_honours_label_selector(client: Client) -> None:
    await client.create("configmaps", cm("yes", app="web"))
    await client.create("configmaps", cm("no", app="db"))
    informer = Informer(client, "configmaps", label_selector="app=web")
    informer.start()
    try:
        assert await informer.wait_for_sync(5)
        assert [o["metadata"]["name"] for o in informer.lister.list()] == ["yes"]
    finally:
        await informer.stop()


@pytest.mark.parametrize("watch_list", [True, False], ids=["watch-list", "list-then-watch"])
async def test_a_transform_strips_managed_fields_from_cache_and_handlers(
        client: Client, watch_list: bool) -> None:
    await client.create("configmaps", cm("before"))
    informer = Informer(client, "configmaps", namespace="default", use_watch_list=watch_list,
                        transform=strip_managed_fields)
    seen: list[dict[str, Any]] = []
    informer.add_event_handler(on_add=seen.append, on_update=lambda _old, new: seen.append(new))
    informer.start()
    try:
        assert await informer.wait_for_sync(5)
        await client.patch("configmaps", "before", {"data": {"x": "1"}})
        await until(lambda: len(seen) == 2)
        cached = informer.lister.get("default", "before")
        assert cached["data"] == {"x": "1"}
        assert [o["metadata"].get("managedFields") for o in (*seen, cached)] == [None] * 3
        # written back from the cache, the object keeps its managed fields on the server
        await client.update("configmaps", {**cached, "data": {"x": "2"}}, namespace="default")
        stored = await client.get("configmaps", "before", namespace="default")
        assert stored["metadata"]["managedFields"]
    finally:
        await informer.stop()


async def test_informers_share_one_stripped_copy_of_each_version_however_it_arrived(
        client: Client) -> None:
    """A listed page and a watch line are decoded apart; the caches still hold one
    object per version, and the next version is shared again."""
    await client.create("configmaps", cm("shared"))
    listing = Informer(client, "configmaps", use_watch_list=False,
                       transform=strip_managed_fields)
    streaming = Informer(client, "configmaps", transform=strip_managed_fields)
    for informer in (listing, streaming):
        informer.start()
    try:
        assert await listing.wait_for_sync(5) and await streaming.wait_for_sync(5)
        assert listing.lister.get("default", "shared") is streaming.lister.get("default", "shared")
        updated = await client.patch("configmaps", "shared", {"data": {"x": "1"}},
                                     namespace="default")
        version = updated["metadata"]["resourceVersion"]

        def both_have_it() -> bool:
            return all((i.lister.get("default", "shared") or {}).get("metadata", {})
                       .get("resourceVersion") == version for i in (listing, streaming))
        await until(both_have_it)
        assert listing.lister.get("default", "shared") is streaming.lister.get("default", "shared")
    finally:
        for informer in (listing, streaming):
            await informer.stop()


def _versioned(api_version: str, uid: str, rv: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": "Event",
            "metadata": {"name": "e", "uid": uid, "resourceVersion": rv,
                         "managedFields": [{"manager": "m"}]}}


@pytest.mark.parametrize(("first", "second", "shared"), [
    (("v1", "u1", "7"), ("v1", "u1", "7"), True),
    (("v1", "u1", "7"), ("v1", "u1", "8"), False),
    (("v1", "u1", "7"), ("v1", "u2", "7"), False),
    (("v1", "u1", "7"), ("events.k8s.io/v1", "u1", "7"), False),
    (("v1", "", "7"), ("v1", "", "7"), False),
    (("", "u1", "7"), ("", "u1", "7"), False),
], ids=["same-version", "newer-version", "other-object", "other-api-version", "no-uid",
        "no-api-version"])
def test_strip_managed_fields_shares_only_the_same_version(
        first: tuple[str, str, str], second: tuple[str, str, str], shared: bool) -> None:
    a, b = strip_managed_fields(_versioned(*first)), strip_managed_fields(_versioned(*second))
    assert (a is b) is shared
    assert "managedFields" not in a["metadata"] and "managedFields" not in b["metadata"]


def test_stripped_objects_hold_one_copy_of_each_repeated_string() -> None:
    """Two pods decoded apart share their repeated values (image, node, namespace);
    what names one object alone is left as decoded."""
    def pod(name: str, uid: str) -> dict[str, Any]:
        return orjson.loads(orjson.dumps({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "team-a", "uid": uid,
                         "resourceVersion": "9", "labels": {"app": "web"},
                         "managedFields": [{"manager": "m"}]},
            "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "img:1"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}))

    a = strip_managed_fields(pod("a", "uid-a"))
    b = strip_managed_fields(pod("b", "uid-b"))
    assert a["metadata"]["namespace"] is b["metadata"]["namespace"]
    assert a["metadata"]["labels"]["app"] is b["metadata"]["labels"]["app"]
    assert a["spec"]["nodeName"] is b["spec"]["nodeName"]
    assert a["spec"]["containers"][0]["image"] is b["spec"]["containers"][0]["image"]
    assert a["status"]["conditions"][0]["type"] is b["status"]["conditions"][0]["type"]
    assert a["spec"]["containers"] == [{"name": "c", "image": "img:1"}]


async def test_handler_added_after_sync_gets_existing_objects(client: Client) -> None:
    await client.create("configmaps", cm("x"))
    informer = Informer(client, "configmaps", namespace="default")
    informer.start()
    try:
        assert await informer.wait_for_sync(5)
        rec = Recorder()
        rec.attach(informer)
        assert rec.events == [("add", "x")]
    finally:
        await informer.stop()


async def test_failing_handler_does_not_stop_other_handlers(client: Client) -> None:
    informer = Informer(client, "configmaps", namespace="default")

    def broken(obj: dict) -> None:
        raise RuntimeError("boom")
    informer.add_event_handler(on_add=broken)
    rec = Recorder()
    rec.attach(informer)
    informer.start()
    try:
        assert await informer.wait_for_sync(5)
        await client.create("configmaps", cm("y"))
        await until(lambda: rec.events == [("add", "y")])
    finally:
        await informer.stop()


class ScriptedClient:
    """A Client stand-in whose lists and watches follow a script, for relist paths the
    real server cannot be made to take on demand (compaction, refused watch-list)."""

    def __init__(self) -> None:
        self.lists: list[tuple[list[dict], str]] = []
        self.watches: list[list[tuple[str, dict]] | Exception] = []
        self.calls: list[str] = []

    async def list_all(self, resource: Any, **options: Any) -> tuple[list[dict], str]:
        self.calls.append("list")
        return self.lists.pop(0)

    def watch(self, resource: Any, **options: Any) -> Any:
        self.calls.append("watch-list" if options.get("send_initial_events") else
                          f"watch@{options.get('resource_version')}")
        step = self.watches.pop(0) if self.watches else []
        return _ScriptedWatch(step)


class _ScriptedWatch:
    def __init__(self, step: list[tuple[str, dict]] | Exception) -> None:
        self.step = step

    async def __aenter__(self) -> _ScriptedWatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    def __aiter__(self) -> Any:
        return self._events()

    async def _events(self) -> Any:
        if isinstance(self.step, Exception):
            raise self.step
        for event in self.step:
            yield event
        if not self.step:
            await asyncio.Event().wait()  # nothing more scripted: stay open


def rv_cm(name: str, rv: str) -> dict:
    obj = cm(name)
    obj["metadata"]["resourceVersion"] = rv
    return obj


async def test_informer_relists_on_gone_and_reports_the_difference() -> None:
    fake = ScriptedClient()
    fake.lists = [([rv_cm("a", "5"), rv_cm("b", "5")], "5"), ([rv_cm("b", "9")], "9")]
    fake.watches = [
        errors.Invalid("sendInitialEvents is forbidden"),  # no watch-list support
        [("MODIFIED", rv_cm("a", "6"))],
        errors.Gone("too old resource version: 6"),
    ]
    informer = Informer(fake, "configmaps")  # type: ignore[arg-type]
    rec = Recorder()
    rec.attach(informer)
    informer.start()
    try:
        expected = ["watch-list", "list", "watch@5", "watch@6", "list", "watch@9"]
        await until(lambda: fake.calls == expected)
        assert ("delete", "a") in rec.events
        assert [o["metadata"]["name"] for o in informer.lister.list()] == ["b"]
        assert informer.last_sync_resource_version == "9"
        assert informer.use_watch_list is False
    finally:
        await informer.stop()


async def test_watch_list_stream_without_end_bookmark_falls_back_to_list() -> None:
    fake = ScriptedClient()
    fake.lists = [([rv_cm("a", "3")], "3")]
    fake.watches = [[("ADDED", rv_cm("a", "3"))]]  # ends with no initial-events-end
    informer = Informer(fake, "configmaps")  # type: ignore[arg-type]
    informer.start()
    try:
        assert await informer.wait_for_sync(5)
        assert fake.calls[:2] == ["watch-list", "list"]
        assert informer.use_watch_list is False
    finally:
        await informer.stop()
