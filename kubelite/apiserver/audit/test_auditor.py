"""The audit filter around any handler: a crash is a Panic event, and a server
without authentication audits its in-process clients as the administrator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.audit.auditor import Auditor, log_impersonated_user
from kubelite.apiserver.audit.log import RotatingFile
from kubelite.apiserver.audit.policy import parse
from kubelite.apiserver.auth.attributes import USER
from kubelite.apiserver.auth.user import UNAUTHENTICATED_ADMIN, UserInfo
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.storage.factory import open_backend

EVERYTHING = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"


def read(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


async def test_a_handler_crash_is_a_panic_event(tmp_path: Path) -> None:
    auditor = Auditor(parse(EVERYTHING), RotatingFile(tmp_path / "audit.log"))

    async def crashing(request: web.Request) -> web.StreamResponse:
        request[USER] = UNAUTHENTICATED_ADMIN
        raise RuntimeError("boom")

    async def handle(request: web.Request) -> web.StreamResponse:
        return await auditor.serve(request, crashing)

    transport = InProcessTransport(handle)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="boom"):
        await transport.request("GET", "/api/v1/namespaces/default/pods/p")
    received, panic = read(tmp_path / "audit.log")
    assert received["stage"] == "RequestReceived"
    assert panic["stage"] == "Panic"
    assert panic["responseStatus"] == {"metadata": {}, "status": "Failure",
                                       "message": "APIServer panic'd: boom",
                                       "reason": "InternalError", "code": 500}
    assert panic["objectRef"] == {"resource": "pods", "namespace": "default", "name": "p",
                                  "apiVersion": "v1"}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/state.db"), port=0,
                    compaction_interval=0,
                    audit=Auditor(parse(EVERYTHING), RotatingFile(tmp_path / "audit.log")))
    await srv.start()
    yield srv
    await srv.stop()


async def test_in_process_requests_are_audited_as_the_administrator(
        server: APIServer, tmp_path: Path) -> None:
    client = Client(InProcessTransport(server.handle),  # type: ignore[arg-type]
                    field_manager="test")
    try:
        response = await client.transport.request("GET", "/api/v1/namespaces/default")
    finally:
        await client.close()
    audit_id = response.headers["Audit-Id"]
    mine = [e for e in read(tmp_path / "audit.log") if e["auditID"] == audit_id]
    assert [e["stage"] for e in mine] == ["RequestReceived", "ResponseComplete"]
    assert mine[-1]["user"]["username"] == UNAUTHENTICATED_ADMIN.name
    assert mine[-1]["objectRef"] == {"resource": "namespaces", "namespace": "default",
                                     "name": "default", "apiVersion": "v1"}
    assert mine[-1]["responseStatus"] == {"metadata": {}, "code": 200}
    assert "annotations" not in mine[-1]  # no authorizer ran


async def test_a_watch_the_client_closes_completes(server: APIServer, tmp_path: Path) -> None:
    client = Client(InProcessTransport(server.handle),  # type: ignore[arg-type]
                    field_manager="test")
    try:
        async with client.watch("configmaps", namespace="default") as events:
            await client.create("configmaps", {"metadata": {"name": "c",
                                                            "namespace": "default"}})
            async for type_, _ in events:
                assert type_ == "ADDED"
                break
    finally:
        await client.close()
    watches = [e for e in read(tmp_path / "audit.log") if e["verb"] == "watch"
               and e["requestURI"].startswith("/api/v1/namespaces/default/configmaps")]
    assert [e["stage"] for e in watches] == ["RequestReceived", "ResponseStarted",
                                             "ResponseComplete"]
    assert watches[-1]["responseStatus"] == {"metadata": {}, "code": 200}


async def test_an_impersonating_request_is_audited_as_who_authenticated(
        tmp_path: Path) -> None:
    policy = ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
              "- level: Metadata\n  users: [jane]\n")
    auditor = Auditor(parse(policy), RotatingFile(tmp_path / "audit.log"))
    jane, bob = UserInfo("jane", groups=("dev",)), UserInfo("bob")

    async def impersonating(request: web.Request) -> web.StreamResponse:
        request[USER] = jane
        log_impersonated_user(request, jane, bob)  # as an impersonation filter does
        request[USER] = bob
        return web.Response(status=200)

    async def handle(request: web.Request) -> web.StreamResponse:
        return await auditor.serve(request, impersonating)

    await InProcessTransport(handle).request(  # type: ignore[arg-type]
        "GET", "/api/v1/pods", headers={"Impersonate-User": "bob"})
    complete = read(tmp_path / "audit.log")[-1]
    assert complete["user"] == {"username": "jane", "groups": ["dev"]}
    assert complete["impersonatedUser"] == {"username": "bob"}
