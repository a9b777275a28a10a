from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from kubelite.api.catalogue import ResourceSpec
from kubelite.apiserver.app import APIServer
from kubelite.apiserver.discovery import AGGREGATED_V2
from kubelite.client.inprocess import InProcessTransport
from kubelite.storage.factory import open_backend


class EchoAPI:
    """A group served by its own handler: it answers with the path it was asked for."""

    group = "echo.example.com"
    version = "v1alpha1"
    resources = (ResourceSpec("echo.example.com", ("v1alpha1",), "Echo", "echoes",
                              namespaced=False, verbs=("get", "list")),)
    group_priority_minimum = 100
    version_priority = 100

    async def serve(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"path": request.path, "method": request.method})


async def get(server: APIServer, path: str, accept: str = "application/json"
              ) -> tuple[int, Any]:
    transport = InProcessTransport(server.handle)  # type: ignore[arg-type]
    resp = await transport.request("GET", path, headers={"Accept": accept})
    return resp.status, orjson.loads(resp.body)


async def test_an_aggregated_group_is_discovered_served_and_registered(tmp_path: Path) -> None:
    server = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                       compaction_interval=0)
    await server.add_aggregated_api(EchoAPI())  # before start: registered when it starts
    await server.start()
    try:
        status, groups = await get(server, "/apis")
        assert [g["name"] for g in groups["groups"]][-1] == "echo.example.com"
        status, doc = await get(server, "/apis", AGGREGATED_V2)
        names = [i["metadata"]["name"] for i in doc["items"]]
        assert "echo.example.com" in names
        status, body = await get(server, "/apis/echo.example.com/v1alpha1/echoes/a")
        assert (status, body) == (200, {"path": "/apis/echo.example.com/v1alpha1/echoes/a",
                                        "method": "GET"})
        status, service = await get(server, "/apis/apiregistration.k8s.io/v1/apiservices/"
                                            "v1alpha1.echo.example.com")
        assert service["spec"] == {"group": "echo.example.com", "version": "v1alpha1",
                                   "groupPriorityMinimum": 100, "versionPriority": 100}
        available = service["status"]["conditions"][0]
        assert (available["type"], available["status"], available["reason"]) == (
            "Available", "True", "Local")
        with pytest.raises(ValueError, match="already served"):
            await server.add_aggregated_api(EchoAPI())
    finally:
        await server.stop()


async def test_a_restart_keeps_the_apiservice_as_it_was(tmp_path: Path) -> None:
    stamps = []
    for _ in range(2):
        server = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                           compaction_interval=0)
        await server.start()
        try:
            await server.add_aggregated_api(EchoAPI())  # after start: registered at once
            _, service = await get(server, "/apis/apiregistration.k8s.io/v1/apiservices/"
                                            "v1alpha1.echo.example.com")
            stamps.append((service["metadata"]["resourceVersion"],
                           service["status"]["conditions"][0]["lastTransitionTime"]))
        finally:
            await server.stop()
    assert stamps[0] == stamps[1]
