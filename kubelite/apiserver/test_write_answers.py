"""What PUT and DELETE answer, kind by kind, through the in-process server: the
strategy's allow_create_on_update, allow_unconditional_update and
return_deleted_object seen from the wire."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

Obj = dict[str, Any]
NS = "/api/v1/namespaces/default"
GROUP = "house.example.com"
WIDGETS = f"/apis/{GROUP}/v1/namespaces/default/widgets"


@pytest.mark.parametrize(
    ("path", "body", "want"),
    [
        (f"{NS}/services/made-by-put",
         {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "made-by-put"},
          "spec": {"ports": [{"port": 80}]}}, 201),
        (f"{NS}/endpoints/made-by-put",
         {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "made-by-put"}}, 201),
        ("/apis/rbac.authorization.k8s.io/v1/clusterroles/made-by-put",
         {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
          "metadata": {"name": "made-by-put"}}, 201),
        (f"{NS}/configmaps/made-by-put",
         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "made-by-put"}}, 404),
    ],
    ids=["service", "endpoints", "clusterrole", "configmap-404"],
)
async def test_put_of_a_missing_object_creates_it_only_where_upstream_does(
        http: aiohttp.ClientSession, path: str, body: Obj, want: int) -> None:
    async with http.put(path, json=body) as resp:
        assert resp.status == want, await resp.text()


@pytest.mark.parametrize(
    ("collection", "body", "want_kind"),
    [
        (f"{NS}/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gone"},
                        "spec": {"containers": [{"name": "c", "image": "busybox"}]}}, "Pod"),
        (f"{NS}/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "gone"}}, "Status"),
    ],
    ids=["pod-object", "configmap-status"],
)
async def test_delete_answers_with_the_object_or_a_status(
        http: aiohttp.ClientSession, collection: str, body: Obj, want_kind: str) -> None:
    async with http.post(collection, json=body) as resp:
        assert resp.status == 201, await resp.text()
    async with http.delete(f"{collection}/gone") as resp:
        assert resp.status == 200
        assert (await resp.json())["kind"] == want_kind


async def serve_widgets(http: aiohttp.ClientSession) -> None:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"widgets.{GROUP}"},
           "spec": {"group": GROUP, "scope": "Namespaced",
                    "names": {"plural": "widgets", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                        "openAPIV3Schema": {"type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True}}}]}}
    async with http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                         json=crd) as resp:
        assert resp.status == 201, await resp.text()

    async def served() -> None:
        while True:
            async with http.get(WIDGETS) as resp:
                if resp.status == 200:
                    return
            await asyncio.sleep(0.05)
    await asyncio.wait_for(served(), 10)


async def test_custom_resources_need_a_resource_version_to_put_and_delete_to_a_status(
        http: aiohttp.ClientSession) -> None:
    await serve_widgets(http)
    widget = {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": "w"}}
    async with http.post(WIDGETS, json=widget) as resp:
        assert resp.status == 201
        stored = await resp.json()
    async with http.put(f"{WIDGETS}/w", json={**widget, "spec": {"size": 1}}) as resp:
        assert resp.status == 422
        status = await resp.json()
    assert status["message"] == (f'widgets.{GROUP} "w" is invalid: metadata.resourceVersion: '
                                 f"Invalid value: 0x0: must be specified for an update")
    assert status["details"]["kind"] == "widgets"
    async with http.put(f"{WIDGETS}/w", json={**stored, "spec": {"size": 1}}) as resp:
        assert resp.status == 200
    async with http.delete(f"{WIDGETS}/w") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert (body["kind"], body["details"]) == (
        "Status", {"name": "w", "group": GROUP, "kind": "widgets", "uid": stored["metadata"]["uid"]})
