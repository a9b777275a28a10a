"""The CRD lifecycle loops (naming, establishing, finalizer), through an in-process API
server."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.registry.strategies.apiextensions import CLEANUP_FINALIZER
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.storage.factory import open_backend

WAIT = 10.0
CRDS = "customresourcedefinitions.apiextensions.k8s.io"
WIDGETS = Resource("example.com", "v1", "widgets", kind="Widget")
GADGETS = Resource("example.com", "v1", "gadgets", kind="Gadget")
CRD: dict[str, Any] = {
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget", "listKind": "WidgetList"},
        "versions": [
            {"name": "v1", "served": True, "storage": True,
             "schema": {"openAPIV3Schema": {"type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True}}},
            {"name": "v1beta1", "served": True, "storage": False,
             "schema": {"openAPIV3Schema": {"type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True}}},
        ],
    },
}


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.005)
    await asyncio.wait_for(poll(), WAIT)


def conditions(crd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (crd.get("status") or {}).get("conditions") or ()}


async def established(client: Client) -> dict[str, Any]:
    crd: dict[str, Any] = {}

    async def check() -> bool:
        nonlocal crd
        crd = await client.get(CRDS, "widgets.example.com")
        return conditions(crd).get("Established", {}).get("status") == "True"

    await eventually(check)
    return crd


async def crd_gone(client: Client) -> bool:
    try:
        await client.get(CRDS, "widgets.example.com")
    except errors.NotFound:
        return True
    return False


async def test_new_crd_becomes_established_with_its_names(
        client: Client) -> None:
    await client.create(CRDS, copy.deepcopy(CRD))
    crd = await established(client)
    assert conditions(crd)["NamesAccepted"]["status"] == "True"
    assert conditions(crd)["Established"]["reason"] == "InitialNamesAccepted"
    assert crd["status"]["acceptedNames"]["plural"] == "widgets"
    assert crd["status"]["acceptedNames"]["singular"] == "widget"
    assert crd["status"]["storedVersions"] == ["v1"]
    assert "finalizers" not in crd["metadata"]  # added by the first delete, as upstream
    made = await client.create(WIDGETS, {"metadata": {"name": "w"}, "size": 3},
                               namespace="default")
    assert made["size"] == 3


async def test_sync_of_an_established_crd_writes_nothing(
        server: APIServer, client: Client) -> None:
    await client.create(CRDS, copy.deepcopy(CRD))
    before = await established(client)
    await server.crd_lifecycle.naming.sync("widgets.example.com")
    await server.crd_lifecycle.naming.sync("no-such.example.com")  # gone: nothing to do
    await server.crd_lifecycle.finalizer.sync("widgets.example.com")  # live: nothing
    after = await client.get(CRDS, "widgets.example.com")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_a_new_storage_version_is_added_to_stored_versions(client: Client) -> None:
    await client.create(CRDS, copy.deepcopy(CRD))
    crd = await established(client)
    for version in crd["spec"]["versions"]:
        version["storage"] = version["name"] == "v1beta1"
    await client.update(CRDS, crd)

    async def both_stored() -> bool:
        crd = await client.get(CRDS, "widgets.example.com")
        return bool(crd["status"]["storedVersions"] == ["v1", "v1beta1"])

    await eventually(both_stored)


async def test_deleted_crd_loses_its_objects_then_its_finalizer_then_itself(
        client: Client) -> None:
    await client.create(CRDS, copy.deepcopy(CRD))
    await established(client)
    for i in range(3):
        await client.create(WIDGETS, {"metadata": {"name": f"w{i}"}}, namespace="default")
    await client.create(WIDGETS, {"metadata": {"name": "w"}}, namespace="kube-public")
    await client.delete(CRDS, "widgets.example.com")
    await eventually(lambda: crd_gone(client))
    with pytest.raises(errors.NotFound):
        await client.list(WIDGETS, namespace="default")
    await client.create(CRDS, copy.deepcopy(CRD))  # the same resource again: empty
    await established(client)
    assert (await client.list(WIDGETS))["items"] == []


async def test_object_held_by_its_finalizer_keeps_the_crd_terminating_until_released(
        client: Client) -> None:
    await client.create(CRDS, copy.deepcopy(CRD))
    await established(client)
    await client.create(WIDGETS, {"metadata": {"name": "held",
                                               "finalizers": ["example.com/hold"]}},
                        namespace="default")
    deleted = await client.delete(CRDS, "widgets.example.com")
    assert deleted["metadata"]["finalizers"] == [CLEANUP_FINALIZER]
    assert conditions(deleted)["Terminating"]["reason"] == "InstanceDeletionPending"

    async def terminating() -> bool:
        crd = await client.get(CRDS, "widgets.example.com")
        return conditions(crd)["Terminating"]["reason"] == "InstanceDeletionInProgress"

    await eventually(terminating)
    crd = await client.get(CRDS, "widgets.example.com")
    assert conditions(crd)["Terminating"]["status"] == "True"
    assert crd["metadata"]["finalizers"] == [CLEANUP_FINALIZER]

    async def held_deleting() -> bool:
        held = await client.get(WIDGETS, "held", namespace="default")
        return bool(held["metadata"].get("deletionTimestamp"))

    await eventually(held_deleting)  # still served while its objects go
    with pytest.raises(errors.MethodNotAllowed) as refused:
        await client.create(WIDGETS, {"metadata": {"name": "late"}}, namespace="default")
    assert str(refused.value) == (
        "create not allowed while custom resource definition is terminating")
    await client.patch(WIDGETS, "held", {"metadata": {"finalizers": None}},
                       namespace="default")
    await eventually(lambda: crd_gone(client))


async def test_crds_stored_before_start_are_served_as_soon_as_the_server_is(
        tmp_path: Path) -> None:
    db = f"sqlite://{tmp_path}/db"
    first = APIServer(backend=open_backend(db), port=0, compaction_interval=0)
    await first.start()
    async with Client(InProcessTransport(first.handle)) as client:
        await client.create(CRDS, copy.deepcopy(CRD))
        await established(client)
        await client.create(WIDGETS, {"metadata": {"name": "w"}}, namespace="default")
    await first.stop()

    second = APIServer(backend=open_backend(db), port=0, compaction_interval=0)
    await second.start()
    try:
        async with Client(InProcessTransport(second.handle)) as client:
            assert (await client.get(WIDGETS, "w", namespace="default"))["kind"] == "Widget"
    finally:
        await second.stop()


def gadget_crd(**names: Any) -> dict[str, Any]:
    crd = copy.deepcopy(CRD)
    crd["metadata"]["name"] = "gadgets.example.com"
    crd["spec"]["names"] = {"plural": "gadgets", "kind": "Gadget", **names}
    return crd


async def conditions_of(client: Client, name: str) -> dict[str, tuple[str, str, str]]:
    crd = await client.get(CRDS, name)
    return {t: (c["status"], c["reason"], c["message"]) for t, c in conditions(crd).items()}


@pytest.mark.parametrize(("names", "reason", "message"), [
    ({"kind": "Widget", "listKind": "GadgetList"}, "KindConflict",
     '"Widget" is already in use'),
    ({"listKind": "WidgetList"}, "ListKindConflict", '"WidgetList" is already in use'),
    ({"singular": "widget"}, "SingularConflict", '"widget" is already in use'),
    ({"shortNames": ["wd"]}, "ShortNamesConflict", '"wd" is already in use'),
    ({"shortNames": ["widgets"]}, "ShortNamesConflict", '"widgets" is already in use'),
], ids=["kind", "list-kind", "singular", "short-name", "short-name-is-a-plural"])
async def test_names_another_crd_of_the_group_accepted_are_refused_until_released(
        client: Client, names: dict[str, Any], reason: str, message: str) -> None:
    first = copy.deepcopy(CRD)
    first["spec"]["names"]["shortNames"] = ["wd"]
    await client.create(CRDS, first)
    await established(client)
    await client.create(CRDS, gadget_crd(**names))

    async def refused() -> bool:
        got = await conditions_of(client, "gadgets.example.com")
        return got.get("NamesAccepted", ("",))[0] == "False"

    await eventually(refused)
    got = await conditions_of(client, "gadgets.example.com")
    assert got["NamesAccepted"] == ("False", reason, message)
    assert got["Established"] == ("False", "NotAccepted", "not all names are accepted")
    accepted = (await client.get(CRDS, "gadgets.example.com"))["status"]["acceptedNames"]
    assert accepted["plural"] == "gadgets"  # what is free is still accepted
    with pytest.raises(errors.NotFound):  # not served while its names are refused
        await client.list(GADGETS, namespace="default")

    await client.delete(CRDS, "widgets.example.com")  # releases its names

    async def accepted_now() -> bool:
        got = await conditions_of(client, "gadgets.example.com")
        return got.get("Established", ("",))[0] == "True"

    await eventually(accepted_now)
    got = await conditions_of(client, "gadgets.example.com")
    assert got["NamesAccepted"] == ("True", "NoConflicts", "no conflicts found")
    assert (await client.list(GADGETS, namespace="default"))["items"] == []


async def test_the_same_names_in_another_group_do_not_conflict(client: Client) -> None:
    await client.create(CRDS, copy.deepcopy(CRD))
    await established(client)
    other = copy.deepcopy(CRD)
    other["metadata"]["name"] = "widgets.example.org"
    other["spec"]["group"] = "example.org"
    await client.create(CRDS, other)

    async def both() -> bool:
        got = await conditions_of(client, "widgets.example.org")
        return got.get("Established", ("",))[0] == "True"

    await eventually(both)
    got = await conditions_of(client, "widgets.example.org")
    assert got["NamesAccepted"] == ("True", "NoConflicts", "no conflicts found")


async def test_a_crd_deleted_at_once_still_takes_its_objects_with_it(client: Client) -> None:
    await client.create(CRDS, copy.deepcopy(CRD))
    await client.create(WIDGETS, {"metadata": {"name": "early"}}, namespace="default")
    await client.delete(CRDS, "widgets.example.com")  # before any loop looked at it
    await eventually(lambda: crd_gone(client))
    await client.create(CRDS, copy.deepcopy(CRD))  # the same resource again: empty
    await established(client)
    assert (await client.list(WIDGETS, namespace="default"))["items"] == []


async def test_two_crds_asking_for_one_short_name_at_once_get_it_once(client: Client
                                                                      ) -> None:
    first = copy.deepcopy(CRD)
    first["spec"]["names"]["shortNames"] = ["wd"]
    await client.create(CRDS, first)
    await client.create(CRDS, gadget_crd(shortNames=["wd"]))  # no wait in between

    async def both_decided() -> bool:
        got = [await conditions_of(client, n)
               for n in ("widgets.example.com", "gadgets.example.com")]
        return all("NamesAccepted" in c for c in got)

    await eventually(both_decided)
    accepted = [(await conditions_of(client, n))["NamesAccepted"][0]
                for n in ("widgets.example.com", "gadgets.example.com")]
    assert sorted(accepted) == ["False", "True"]
