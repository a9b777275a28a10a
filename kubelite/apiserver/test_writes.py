"""The generic write path (writes.py over registry/store.py), in process: create with
name or generateName, optimistic concurrency, finalizers and deletionTimestamp, dry
run, and the Status each refusal carries (upstream's wording)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from kubelite.apiserver.conftest import Call
from kubelite.client.rest import Client
from kubelite.machinery import errors

CMS = "/api/v1/namespaces/default/configmaps"
# Upstream's generateName suffix: five characters without vowels or look-alikes.
SUFFIX = re.compile(r"^[bcdfghjklmnpqrstvwxz2456789]{5}$")


def cm(name: str = "", **meta: Any) -> dict[str, Any]:
    metadata = {"name": name, **meta} if name else meta
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"k": "v"}}


def deployment(name: str, image: str = "nginx") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]}}}}


async def test_generate_name_appends_a_random_suffix_and_keeps_the_prefix(call: Call) -> None:
    names = set()
    for _ in range(3):
        code, obj = await call("POST", CMS, body=cm(generateName="web-"))
        assert code == 201
        name = obj["metadata"]["name"]
        assert name.startswith("web-") and SUFFIX.match(name[len("web-"):])
        assert obj["metadata"]["generateName"] == "web-"
        names.add(name)
    assert len(names) == 3


async def test_created_object_gets_server_owned_metadata(call: Call) -> None:
    code, obj = await call("POST", CMS, body=cm("c", uid="mine", resourceVersion="7",
                                               creationTimestamp="2000-01-01T00:00:00Z"))
    assert code == 201
    meta = obj["metadata"]
    assert meta["uid"] != "mine" and re.match(r"^[0-9a-f-]{36}$", meta["uid"])
    assert meta["creationTimestamp"] != "2000-01-01T00:00:00Z"
    assert meta["resourceVersion"] != "7" and meta["namespace"] == "default"
    _, read = await call("GET", f"{CMS}/c")
    assert read["metadata"]["resourceVersion"] == meta["resourceVersion"]


@pytest.mark.parametrize(("body", "code", "reason", "message"), [
    (cm(), 422, "Invalid",
     'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is '
     'required'),
    (cm("Bad_Name"), 422, "Invalid", 'ConfigMap "Bad_Name" is invalid: metadata.name: '
     'Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of'),
    ({**cm("x"), "metadata": {"name": "x", "namespace": "other"}}, 400, "BadRequest",
     "the namespace of the provided object does not match the namespace sent on the "
     "request"),
    ([1, 2], 400, "BadRequest", "the object provided is unrecognized or malformed"),
    ({**cm("x"), "kind": "Secret"}, 400, "BadRequest",
     'Secret in version "v1" cannot be handled as a ConfigMap'),
], ids=["no-name", "bad-name", "other-namespace", "not-an-object", "wrong-kind"])
async def test_bad_create_is_refused_with_upstream_status(
        call: Call, body: Any, code: int, reason: str, message: str) -> None:
    got, status = await call("POST", CMS, body=body)
    assert (got, status["kind"], status["reason"], status["code"]) == (
        code, "Status", reason, code)
    assert status["message"].startswith(message), status["message"]
    _, listed = await call("GET", CMS)
    assert listed["items"] == []


async def test_create_of_an_existing_name_is_already_exists(call: Call) -> None:
    await call("POST", CMS, body=cm("c"))
    code, status = await call("POST", CMS, body=cm("c"))
    assert (code, status["reason"]) == (409, "AlreadyExists")
    assert status["message"] == 'configmaps "c" already exists'
    assert status["details"] == {"name": "c", "kind": "configmaps"}


async def test_update_with_a_stale_resource_version_is_a_conflict(call: Call) -> None:
    _, first = await call("POST", CMS, body=cm("c"))
    stale = first["metadata"]["resourceVersion"]
    first["data"] = {"k": "v2"}
    code, second = await call("PUT", f"{CMS}/c", body=first)
    assert code == 200 and second["metadata"]["resourceVersion"] != stale

    first["data"] = {"k": "lost"}
    code, status = await call("PUT", f"{CMS}/c", body=first)
    assert (code, status["reason"]) == (409, "Conflict")
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; '
        "please apply your changes to the latest version and try again")
    _, now = await call("GET", f"{CMS}/c")
    assert now["data"] == {"k": "v2"}


async def test_update_without_a_resource_version_is_unconditional(call: Call) -> None:
    await call("POST", CMS, body=cm("c"))
    code, obj = await call("PUT", f"{CMS}/c", body={**cm("c"), "data": {"k": "forced"}})
    assert code == 200 and obj["data"] == {"k": "forced"}


async def test_update_that_changes_nothing_keeps_the_resource_version(call: Call) -> None:
    _, obj = await call("POST", CMS, body=cm("c"))
    code, again = await call("PUT", f"{CMS}/c", body=obj)
    assert code == 200
    assert again["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


@pytest.mark.parametrize(("path", "body", "code", "reason", "message"), [
    (f"{CMS}/c", cm("other"), 400, "BadRequest",
     "the name of the object (other) does not match the name on the URL (c)"),
    (f"{CMS}/missing", cm("missing"), 404, "NotFound", 'configmaps "missing" not found'),
], ids=["name-mismatch", "missing-object"])
async def test_bad_update_is_refused(call: Call, path: str, body: Any, code: int,
                                     reason: str, message: str) -> None:
    await call("POST", CMS, body=cm("c"))
    got, status = await call("PUT", path, body=body)
    assert (got, status["reason"], status["message"]) == (code, reason, message)


async def test_server_owned_metadata_survives_an_update(call: Call) -> None:
    _, obj = await call("POST", CMS, body=cm("c"))
    # (a forged uid is a failed precondition instead: test_store's uid test)
    changed = {**obj, "metadata": {**obj["metadata"], "creationTimestamp": "2000-01-01T00:00:00Z"}}
    _, updated = await call("PUT", f"{CMS}/c", body=changed)
    assert updated["metadata"]["uid"] == obj["metadata"]["uid"]
    assert updated["metadata"]["creationTimestamp"] == obj["metadata"]["creationTimestamp"]


async def test_generation_counts_spec_changes_only(client: Client) -> None:
    made = await client.create("deployments", deployment("d"), namespace="default")
    assert made["metadata"]["generation"] == 1
    labelled = await client.patch("deployments", "d", {"metadata": {"labels": {"a": "b"}}},
                                  namespace="default")
    assert labelled["metadata"]["generation"] == 1
    rolled = await client.patch("deployments", "d", {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": "nginx:2"}]}}}}, namespace="default")
    assert rolled["metadata"]["generation"] == 2


async def test_delete_without_finalizers_removes_at_once_and_answers_success(
        call: Call) -> None:
    _, obj = await call("POST", CMS, body=cm("c"))
    code, status = await call("DELETE", f"{CMS}/c")
    assert code == 200
    assert (status["kind"], status["status"]) == ("Status", "Success")
    assert status["details"] == {"name": "c", "kind": "configmaps",
                                 "uid": obj["metadata"]["uid"]}
    code, status = await call("GET", f"{CMS}/c")
    assert (code, status["message"]) == (404, 'configmaps "c" not found')
    code, status = await call("DELETE", f"{CMS}/c")
    assert (code, status["reason"]) == (404, "NotFound")


async def test_finalizers_hold_a_deleted_object_until_the_last_is_removed(
        client: Client) -> None:
    await client.create("configmaps", cm("f", finalizers=["example.com/a", "example.com/b"]),
                        namespace="default")
    deleting = await client.delete("configmaps", "f", namespace="default")
    meta = deleting["metadata"]
    assert meta["deletionTimestamp"] and meta["deletionGracePeriodSeconds"] == 0
    again = await client.delete("configmaps", "f", namespace="default")
    assert again["metadata"]["deletionTimestamp"] == meta["deletionTimestamp"]

    with pytest.raises(errors.Invalid) as err:
        await client.patch("configmaps", "f", {"metadata": {"finalizers": [
            "example.com/a", "example.com/b", "example.com/new"]}}, namespace="default")
    assert "no new finalizers can be added if the object is being deleted" in str(
        err.value.message)

    one_left = await client.patch("configmaps", "f", {"metadata": {"finalizers": [
        "example.com/b"]}}, namespace="default")
    assert one_left["metadata"]["finalizers"] == ["example.com/b"]
    await client.patch("configmaps", "f", {"metadata": {"finalizers": []}},
                       namespace="default")
    with pytest.raises(errors.NotFound):
        await client.get("configmaps", "f", namespace="default")


async def test_delete_precondition_on_uid_or_resource_version_is_a_conflict(
        call: Call) -> None:
    _, obj = await call("POST", CMS, body=cm("c"))
    uid = obj["metadata"]["uid"]
    code, status = await call("DELETE", f"{CMS}/c", body={"preconditions": {"uid": "nope"}})
    assert (code, status["reason"]) == (409, "Conflict")
    assert status["message"] == (f'Operation cannot be fulfilled on configmaps "c": '
                                 f"Precondition failed: UID in precondition: nope, UID in "
                                 f"object meta: {uid}")
    code, _ = await call("DELETE", f"{CMS}/c", body={"preconditions": {
        "uid": uid, "resourceVersion": obj["metadata"]["resourceVersion"]}})
    assert code == 200


@pytest.mark.parametrize("verb", ["create", "update", "patch", "delete"])
async def test_dry_run_answers_as_if_written_and_stores_nothing(
        call: Call, verb: str) -> None:
    _, original = await call("POST", CMS, body=cm("c"))
    dry = {"dryRun": "All"}
    if verb == "create":
        code, obj = await call("POST", CMS, body=cm(generateName="dry-"), params=dry)
        assert code == 201 and obj["metadata"]["name"].startswith("dry-")
    elif verb == "update":
        code, obj = await call("PUT", f"{CMS}/c", body={**original, "data": {"k": "dry"}},
                               params=dry)
        assert code == 200 and obj["data"] == {"k": "dry"}
    elif verb == "patch":
        code, obj = await call("PATCH", f"{CMS}/c", body={"data": {"k": "dry"}},
                               params=dry,
                               headers={"Content-Type": "application/merge-patch+json"})
        assert code == 200 and obj["data"] == {"k": "dry"}
    else:
        code, _ = await call("DELETE", f"{CMS}/c", params=dry)
        assert code == 200
    _, listed = await call("GET", CMS)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["c"]
    assert listed["items"][0]["data"] == {"k": "v"}
    assert listed["items"][0]["metadata"]["resourceVersion"] == \
        original["metadata"]["resourceVersion"]


async def test_delete_collection_removes_only_what_the_selector_matches(
        call: Call) -> None:
    for name, tier in (("a", "web"), ("b", "web"), ("c", "db")):
        await call("POST", CMS, body=cm(name, labels={"tier": tier}))
    code, result = await call("DELETE", CMS, params={"labelSelector": "tier=web"})
    assert code == 200 and result["kind"] == "ConfigMapList"
    assert sorted(i["metadata"]["name"] for i in result["items"]) == ["a", "b"]
    _, left = await call("GET", CMS)
    assert [i["metadata"]["name"] for i in left["items"]] == ["c"]


async def test_writes_into_a_missing_namespace_are_not_found(call: Call) -> None:
    code, status = await call("POST", "/api/v1/namespaces/nowhere/configmaps",
                              body=cm("c"))
    assert (code, status["reason"]) == (404, "NotFound")
    assert status["message"] == 'namespaces "nowhere" not found'


async def test_a_binding_assigns_once_checks_the_uid_and_records_no_manager(call: Call) -> None:
    pods = "/api/v1/namespaces/default/pods"
    body = {"metadata": {"name": "b"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    _, made = await call("POST", pods, body=body)
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "b", "uid": "someone-else"},
               "target": {"kind": "Node", "name": "n1"}}
    code, answer = await call("POST", f"{pods}/b/binding", body=binding)
    assert (code, answer["reason"]) == (409, "Conflict")
    assert answer["message"] == ('Operation cannot be fulfilled on pods "b": Precondition failed: UID in '
                                 f'precondition: someone-else, UID in object meta: {made["metadata"]["uid"]}')
    binding["metadata"]["uid"] = made["metadata"]["uid"]
    code, answer = await call("POST", f"{pods}/b/binding", body=binding)
    assert code == 201, answer
    _, bound = await call("GET", f"{pods}/b")
    assert bound["spec"]["nodeName"] == "n1"
    # upstream's binding writes to storage directly: nobody's managedFields entry grows
    assert bound["metadata"]["managedFields"] == made["metadata"]["managedFields"]
    code, answer = await call("POST", f"{pods}/b/binding", body=binding)
    assert (code, answer["message"]) == (409, 'Operation cannot be fulfilled on pods "b": '
                                               'pod b is already assigned to node "n1"')


async def test_concurrent_patches_without_a_resource_version_all_land(client: Client) -> None:
    """Each lost race is read again and re-applied, as etcd3's GuaranteedUpdate does:
    none of 30 concurrent PATCHes of one object comes back 409."""
    await client.create("configmaps", cm("busy"), namespace="default")
    await asyncio.gather(*(client.patch("configmaps", "busy", {"data": {f"k{i}": "v"}},
                                        namespace="default") for i in range(30)))
    data = (await client.get("configmaps", "busy", namespace="default"))["data"]
    assert sorted(data) == sorted(["k", *(f"k{i}" for i in range(30))])
