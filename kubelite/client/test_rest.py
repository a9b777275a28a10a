from __future__ import annotations

import asyncio

import pytest

from kubelite.client.rest import Client
from kubelite.client.resource import Resource
from kubelite.machinery import errors


def cm(name: str, ns: str = "default", **labels: str) -> dict:
    return {"metadata": {"name": name, "namespace": ns, "labels": labels},
            "data": {"k": "v"}}


async def test_create_get_update_delete_round_trip(client: Client) -> None:
    created = await client.create("configmaps", cm("a"))
    assert created["kind"] == "ConfigMap" and created["metadata"]["resourceVersion"]
    got = await client.get("configmaps", "a")
    assert got["data"] == {"k": "v"}
    got["data"]["k"] = "w"
    updated = await client.update("configmaps", got)
    assert updated["data"]["k"] == "w"
    await client.delete("configmaps", "a")
    with pytest.raises(errors.NotFound):
        await client.get("configmaps", "a")


@pytest.mark.parametrize("case", ["exists", "stale-update", "invalid", "missing"])
async def test_failures_raise_the_status_error_of_their_reason(client: Client, case: str
                                                               ) -> None:
    first = await client.create("configmaps", cm("dup"))
    if case == "exists":
        with pytest.raises(errors.AlreadyExists) as info:
            await client.create("configmaps", cm("dup"))
        assert info.value.name == "dup"
    elif case == "stale-update":
        await client.update("configmaps", dict(first, data={"k": "1"}))
        with pytest.raises(errors.Conflict):
            await client.update("configmaps", dict(first, data={"k": "2"}))
    elif case == "invalid":
        with pytest.raises(errors.Invalid) as inv:
            await client.create("configmaps", cm("Not_A_Valid_Name"))
        assert inv.value.causes
    else:
        with pytest.raises(errors.NotFound):
            await client.delete("configmaps", "nope")


async def test_list_pages_through_every_item_with_selectors(client: Client) -> None:
    for i in range(7):
        await client.create("configmaps", cm(f"c{i}", app="x" if i % 2 else "y"))
    items, rv = await client.list_all("configmaps", namespace="default", page_size=2)
    assert sorted(o["metadata"]["name"] for o in items) == [f"c{i}" for i in range(7)]
    assert rv
    pages = [p async for p in client.list_pages("configmaps", page_size=3,
                                                namespace="default")]
    assert len(pages) == 3
    selected, _ = await client.list_all("configmaps", label_selector="app=x")
    assert sorted(o["metadata"]["name"] for o in selected) == ["c1", "c3", "c5"]
    by_field, _ = await client.list_all("configmaps", field_selector="metadata.name=c2")
    assert [o["metadata"]["name"] for o in by_field] == ["c2"]


@pytest.mark.parametrize(("type_", "body", "expected"), [
    ("merge", {"data": {"k": "m"}}, "m"),
    ("json", [{"op": "replace", "path": "/data/k", "value": "j"}], "j"),
    ("strategic", {"data": {"k": "s"}}, "s"),
], ids=["merge", "json", "strategic"])
async def test_patch_types(client: Client, type_: str, body: object, expected: str) -> None:
    await client.create("configmaps", cm("p"))
    patched = await client.patch("configmaps", "p", body, type=type_)  # type: ignore[arg-type]
    assert patched["data"]["k"] == expected


async def test_server_side_apply_creates_then_conflicts_without_force(client: Client
                                                                      ) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "ssa", "namespace": "default"}, "data": {"k": "1"}}
    applied = await client.apply("configmaps", obj, field_manager="one")
    assert applied["data"] == {"k": "1"}
    with pytest.raises(errors.Conflict):
        await client.apply("configmaps", dict(obj, data={"k": "2"}), field_manager="two")
    forced = await client.apply("configmaps", dict(obj, data={"k": "2"}),
                                field_manager="two", force=True)
    assert forced["data"] == {"k": "2"}


async def test_delete_honours_uid_precondition(client: Client) -> None:
    await client.create("configmaps", cm("pre"))
    with pytest.raises(errors.Conflict):
        await client.delete("configmaps", "pre", preconditions={"uid": "not-the-uid"})
    await client.delete("configmaps", "pre", propagation_policy="Background",
                        grace_period_seconds=0)


async def test_delete_collection_by_label(client: Client) -> None:
    for name, app in (("d1", "gone"), ("d2", "gone"), ("d3", "kept")):
        await client.create("configmaps", cm(name, app=app))
    await client.delete_collection("configmaps", namespace="default",
                                   label_selector="app=gone")
    left, _ = await client.list_all("configmaps", namespace="default",
                                    label_selector="app")
    assert [o["metadata"]["name"] for o in left] == ["d3"]


async def test_watch_streams_changes_after_a_resource_version(client: Client) -> None:
    first = await client.create("configmaps", cm("w1"))
    rv = first["metadata"]["resourceVersion"]
    async with client.watch("configmaps", namespace="default", resource_version=rv) as events:
        await client.create("configmaps", cm("w2"))
        await client.patch("configmaps", "w2", {"data": {"k": "z"}})
        await client.delete("configmaps", "w2")
        seen = []
        async for type_, obj in events:
            seen.append((type_, obj["metadata"]["name"]))
            if type_ == "DELETED":
                break
    assert seen == [("ADDED", "w2"), ("MODIFIED", "w2"), ("DELETED", "w2")]


async def test_watch_list_ends_initial_events_with_a_bookmark(client: Client) -> None:
    await client.create("configmaps", cm("i1"))
    async with client.watch("configmaps", namespace="default",
                            send_initial_events=True) as events:
        async for type_, obj in events:
            if type_ == "BOOKMARK":
                assert obj["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"
                break
            assert (type_, obj["metadata"]["name"]) == ("ADDED", "i1")


async def test_watch_of_unknown_resource_raises_not_found(client: Client) -> None:
    with pytest.raises(errors.NotFound):
        async with client.watch(Resource("example.com", "v1", "widgets")) as events:
            async for _ in events:
                pass


async def test_scale_subresource_reads_and_writes_replicas(client: Client) -> None:
    deploy = {"metadata": {"name": "web", "namespace": "default"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    await client.create("deployments", deploy)
    scale = await client.get_scale("deployments", "web")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1
    await client.update_scale("deployments", "web", 3)
    assert (await client.get("deployments", "web"))["spec"]["replicas"] == 3


async def test_bind_sets_the_pods_node(client: Client) -> None:
    pod = await client.create("pods", {"metadata": {"name": "p", "namespace": "default"},
                                       "spec": {"containers": [{"name": "c",
                                                                "image": "busybox"}]}})
    await client.bind("p", "node-1", pod_uid=pod["metadata"]["uid"])
    assert (await client.get("pods", "p"))["spec"]["nodeName"] == "node-1"


async def test_status_update_changes_only_status(client: Client) -> None:
    pod = await client.create("pods", {"metadata": {"name": "s", "namespace": "default"},
                                       "spec": {"containers": [{"name": "c",
                                                                "image": "busybox"}]}})
    pod["status"] = {"phase": "Running"}
    updated = await client.update_status("pods", pod)
    assert updated["status"]["phase"] == "Running"


async def test_cluster_scoped_resources_ignore_the_default_namespace(client: Client) -> None:
    await client.create("namespaces", {"metadata": {"name": "team-a"}})
    assert (await client.get("namespaces", "team-a"))["metadata"]["name"] == "team-a"


async def test_closing_a_watch_early_ends_the_request(client: Client) -> None:
    watch = client.watch("configmaps", namespace="default")
    await client.create("configmaps", cm("early"))
    async for type_, _ in watch:
        assert type_ == "ADDED"
        break
    await asyncio.wait_for(watch.aclose(), 5)
