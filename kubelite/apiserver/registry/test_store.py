"""The generic Store (registry/store.py), in process: what holds when writes race,
how objects are kept in the store, grace periods, read-modify-write, and resources
that share storage."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import orjson
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.conftest import Call
from kubelite.apiserver.registry.store import (
    _SUFFIX_ALPHABET,
    WriteOptions,
    copy_object,
    generate_name,
    new_uid,
)
from kubelite.machinery import errors

CMS = "/api/v1/namespaces/default/configmaps"
MERGE = {"Content-Type": "application/merge-patch+json"}


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": data}


async def test_racing_creates_of_one_name_make_exactly_one_object(call: Call) -> None:
    results = await asyncio.gather(*(call("POST", CMS, body=cm("same", n=str(i)))
                                     for i in range(8)))
    codes = Counter(code for code, _ in results)
    assert codes == {201: 1, 409: 7}
    assert {body["reason"] for code, body in results if code == 409} == {"AlreadyExists"}
    winner = next(body for code, body in results if code == 201)
    _, stored = await call("GET", f"{CMS}/same")
    assert stored["data"] == winner["data"]


async def test_racing_updates_from_one_version_let_exactly_one_win(call: Call) -> None:
    _, base = await call("POST", CMS, body=cm("c"))
    results = await asyncio.gather(*(
        call("PUT", f"{CMS}/c", body={**base, "data": {"writer": str(i)}})
        for i in range(8)))
    codes = Counter(code for code, _ in results)
    assert codes == {200: 1, 409: 7}
    winner = next(body for code, body in results if code == 200)
    _, stored = await call("GET", f"{CMS}/c")
    assert stored["data"] == winner["data"]


async def test_racing_patches_without_a_version_all_land(call: Call) -> None:
    await call("POST", CMS, body=cm("c"))
    results = await asyncio.gather(*(
        call("PATCH", f"{CMS}/c", body={"data": {f"k{i}": "v"}}, headers=MERGE)
        for i in range(8)))
    assert {code for code, _ in results} == {200}
    _, stored = await call("GET", f"{CMS}/c")
    assert stored["data"] == {f"k{i}": "v" for i in range(8)}


async def test_the_store_keeps_objects_without_their_resource_version(
        server: APIServer, call: Call) -> None:
    _, made = await call("POST", CMS, body=cm("c"))
    kv = await server.backend.get("/registry/core/configmaps/default/c")
    assert kv is not None
    stored = orjson.loads(kv.value)
    assert "resourceVersion" not in stored["metadata"]
    assert made["metadata"]["resourceVersion"] == str(kv.mod_revision)


async def test_resource_versions_grow_across_resources_and_recreation_gets_a_new_uid(
        call: Call) -> None:
    _, a = await call("POST", CMS, body=cm("c"))
    _, s = await call("POST", "/api/v1/namespaces/default/secrets",
                      body={"metadata": {"name": "s"}})
    await call("DELETE", f"{CMS}/c")
    _, again = await call("POST", CMS, body=cm("c"))
    versions = [int(o["metadata"]["resourceVersion"]) for o in (a, s, again)]
    assert versions == sorted(versions) and len(set(versions)) == 3
    assert again["metadata"]["uid"] != a["metadata"]["uid"]


async def test_pod_on_a_node_waits_out_its_grace_period_unless_told_zero(
        call: Call) -> None:
    await call("POST", "/api/v1/nodes", body={"metadata": {"name": "n"}})
    await call("POST", "/api/v1/namespaces/default/pods", body={
        "metadata": {"name": "p"},
        "spec": {"nodeName": "n", "containers": [{"name": "c", "image": "i"}]}})
    code, deleting = await call("DELETE", "/api/v1/namespaces/default/pods/p")
    assert code == 200
    assert deleting["metadata"]["deletionTimestamp"]
    assert deleting["metadata"]["deletionGracePeriodSeconds"] == 30
    code, _ = await call("GET", "/api/v1/namespaces/default/pods/p")
    assert code == 200
    code, _ = await call("DELETE", "/api/v1/namespaces/default/pods/p",
                         body={"gracePeriodSeconds": 0})
    assert code == 200
    code, _ = await call("GET", "/api/v1/namespaces/default/pods/p")
    assert code == 404


async def test_guaranteed_update_rereads_and_reapplies_after_a_racing_write(
        server: APIServer, call: Call) -> None:
    await call("POST", CMS, body=cm("c", n="0"))
    store = server.registry.store_for("", "configmaps")
    attempts = 0

    async def increment(obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:  # someone else writes between our read and our write
            await call("PATCH", f"{CMS}/c", body={"data": {"other": "x"}}, headers=MERGE)
        obj["data"]["n"] = str(int(obj["data"]["n"]) + 1)
        return obj

    updated, created = await store.guaranteed_update(
        "default", "c", increment, WriteOptions(field_manager="test"))
    assert (attempts, created) == (2, False)
    assert updated["data"] == {"n": "1", "other": "x"}


async def test_guaranteed_update_creates_only_when_asked(
        server: APIServer) -> None:
    store = server.registry.store_for("", "configmaps")

    async def unchanged(obj: dict[str, Any]) -> dict[str, Any]:
        return obj

    async def fresh(obj: dict[str, Any]) -> dict[str, Any]:
        return cm("new", made="yes")

    with pytest.raises(errors.NotFound):
        await store.guaranteed_update("default", "new", unchanged,
                                      WriteOptions(field_manager="test"))
    made, created = await store.guaranteed_update(
        "default", "new", unchanged, WriteOptions(field_manager="test"), create=fresh)
    assert created and made["data"] == {"made": "yes"}


def data_is(**wanted: str) -> Any:
    async def check(obj: dict[str, Any]) -> dict[str, Any]:
        if obj["data"] != wanted:  # as a binding refuses a pod already bound
            raise errors.BadRequest(f"data is {obj['data']}, not {wanted}")
        return obj
    return check


def set_data(**data: str) -> Any:
    async def change(obj: dict[str, Any]) -> dict[str, Any]:
        obj["data"].update(data)
        return obj
    return change


async def stored_data(server: APIServer, name: str) -> Any:
    kv = await server.backend.get(f"/registry/core/configmaps/default/{name}")
    return None if kv is None else orjson.loads(kv.value)["data"]


@pytest.mark.parametrize("change, deleted, outcome", [
    pytest.param(data_is(v="2"), False, {"v": "2"}, id="refused-on-the-stale-copy"),
    pytest.param(set_data(v="1"), False, {"v": "1"}, id="no-op-on-the-stale-copy"),
    pytest.param(set_data(k="x"), False, {"v": "2", "k": "x"}, id="change-lands-on-the-latest"),
    pytest.param(set_data(k="x"), True, errors.NotFound, id="deleted-since"),
])
async def test_guaranteed_update_judges_the_latest_object_when_the_watch_cache_lags(
        server: APIServer, call: Call, change: Any, deleted: bool, outcome: Any) -> None:
    # The first round may start from the watch cache's copy; whatever that copy says,
    # the answer and the write are those of the latest object in the store.
    await call("POST", CMS, body=cm("c", v="1"))
    await server.cache.stop()  # from now on the cache holds v=1 whatever the store holds
    store = server.registry.store_for("", "configmaps")
    opts = WriteOptions(field_manager="test")
    await store.guaranteed_update("default", "c", set_data(v="2"), opts)
    if deleted:
        await server.backend.delete("/registry/core/configmaps/default/c")
    assert server.cache.get("/registry/core/configmaps/default/c") is not None
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            await store.guaranteed_update("default", "c", change, opts)
        return
    updated, _ = await store.guaranteed_update("default", "c", change, opts)
    assert updated["data"] == outcome == await stored_data(server, "c")


async def test_a_resource_served_in_two_groups_shares_its_objects(call: Call) -> None:
    await call("POST", "/api/v1/namespaces/default/events", body={
        "metadata": {"name": "e"}, "reason": "Started", "message": "m",
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}})
    code, same = await call("GET", "/apis/events.k8s.io/v1/namespaces/default/events/e")
    assert (code, same["apiVersion"], same["kind"]) == (200, "events.k8s.io/v1", "Event")
    code, _ = await call("DELETE", "/apis/events.k8s.io/v1/namespaces/default/events/e")
    assert code == 200
    code, _ = await call("GET", "/api/v1/namespaces/default/events/e")
    assert code == 404


async def test_a_write_naming_another_uid_is_refused(call: Call) -> None:
    _, made = await call("POST", CMS, body=cm("u", a="1"))
    uid = made["metadata"]["uid"]
    # PUT: the body's uid is a precondition (409), as upstream's DefaultUpdatedObjectInfo
    stale = {**made, "metadata": {**made["metadata"], "uid": "not-" + uid}}
    code, body = await call("PUT", f"{CMS}/u", body=stale)
    assert (code, body["reason"]) == (409, "Conflict")
    assert body["message"] == (f'Operation cannot be fulfilled on configmaps "u": Precondition failed: '
                               f"UID in precondition: not-{uid}, UID in object meta: {uid}")
    # PATCH: a changed uid is an invalid update (uid is immutable)
    code, body = await call("PATCH", f"{CMS}/u", body={"metadata": {"uid": "other"}, "data": {"a": "2"}},
                            headers=MERGE)
    assert (code, body["reason"]) == (422, "Invalid")
    assert body["message"] == 'ConfigMap "u" is invalid: metadata.uid: Invalid value: "other": field is immutable'
    # naming the right uid is how adoption guards against a re-created object: it lands
    code, body = await call("PATCH", f"{CMS}/u", body={"metadata": {"uid": uid}, "data": {"a": "3"}},
                            headers=MERGE)
    assert (code, body["data"]) == (200, {"a": "3"})


def test_generated_names_take_five_letters_of_the_suffix_alphabet() -> None:
    names = {generate_name("web-") for _ in range(2000)}
    assert len(names) > 1990  # 27**5 suffixes: a repeat among 2,000 is rare
    for name in names:
        assert name.startswith("web-") and len(name) == 9
        assert set(name[4:]) <= set(_SUFFIX_ALPHABET)
    assert {name[4] for name in names} == set(_SUFFIX_ALPHABET)


def test_uids_are_random_version_4_uuids() -> None:
    uids = {new_uid() for _ in range(1000)}
    assert len(uids) == 1000
    for uid in uids:
        parsed = uuid.UUID(uid)
        assert str(parsed) == uid
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


@pytest.mark.parametrize("value", [
    {"a": [1, {"b": None}], "c": "x", "d": 1.5, "e": True},
    [{"x": {"y": []}}],
    "plain",
], ids=["object", "list", "scalar"])
def test_copy_object_is_deep_and_equal(value: Any) -> None:
    copied = copy_object(value)
    assert copied == value
    if isinstance(value, dict):
        copied["a"][1]["b"] = "changed"
        assert value["a"][1]["b"] is None
    if isinstance(value, list):
        copied[0]["x"]["y"].append(1)
        assert value[0]["x"]["y"] == []
