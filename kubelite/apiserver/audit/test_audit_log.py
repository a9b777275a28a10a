"""The audit log of a real API server with users and a policy, read back as JSON:
stages, levels, users, objects, statuses and the authorizer's decision, as upstream
writes them."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.audit.auditor import Auditor
from kubelite.apiserver.audit.log import RotatingFile
from kubelite.apiserver.audit.policy import parse
from kubelite.apiserver.auth.attributes import Attributes, Decision
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    StaticTokens,
)
from kubelite.apiserver.auth.user import UserInfo
from kubelite.storage.factory import open_backend

POLICY = textwrap.dedent("""\
    apiVersion: audit.k8s.io/v1
    kind: Policy
    rules:
    - level: None
      nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
    - level: None
      users: ["system:anonymous"]
    - level: RequestResponse
      resources: [{group: "", resources: ["configmaps"]}]
      omitManagedFields: true
    - level: Request
      resources: [{group: "", resources: ["secrets"]}]
      omitStages: ["RequestReceived"]
    - level: Metadata
    """)

JANE = UserInfo("jane", uid="42", groups=("writers",))
BOB = UserInfo("bob", uid="7")


class WritersMayWrite:
    """Writers may do anything; everybody else may read."""

    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        if "writers" in attrs.user.groups:
            return Decision.ALLOW, "writers may write"
        if attrs.verb in ("get", "list", "watch"):
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, "only writers may write"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    tokens = StaticTokens({"jane-token": JANE, "bob-token": BOB})
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/state.db"), port=0,
                    compaction_interval=0,
                    authenticator=AuthenticatorChain([BearerTokenAuthenticator([tokens])]),
                    authorizer=WritersMayWrite(),
                    audit=Auditor(parse(POLICY), RotatingFile(tmp_path / "audit.log")))
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
def events(tmp_path: Path) -> Callable[[str], list[dict[str, Any]]]:
    def read(audit_id: str) -> list[dict[str, Any]]:
        lines = (tmp_path / "audit.log").read_bytes().splitlines()
        return [e for e in map(orjson.loads, lines) if e["auditID"] == audit_id]
    return read


def session(server: APIServer, token: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(base_url=server.url, headers={
        "Authorization": f"Bearer {token}", "User-Agent": "audit-test/1.0"})


CM = {"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "settings", "namespace": "default"}, "data": {"mode": "fast"}}


async def test_a_create_at_request_response(server: APIServer, events) -> None:  # type: ignore[no-untyped-def]
    async with session(server, "jane-token") as http:
        async with http.post("/api/v1/namespaces/default/configmaps", json=CM) as resp:
            assert resp.status == 201
            audit_id = resp.headers["Audit-Id"]
            created = await resp.json()
    received, complete = events(audit_id)
    assert received["stage"] == "RequestReceived"
    assert complete["stage"] == "ResponseComplete"
    assert "requestObject" not in received and "annotations" not in received
    assert received["requestReceivedTimestamp"] == complete["requestReceivedTimestamp"]
    assert list(complete) == [
        "kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
        "sourceIPs", "userAgent", "objectRef", "responseStatus", "requestObject",
        "responseObject", "requestReceivedTimestamp", "stageTimestamp", "annotations"]
    assert complete["kind"] == "Event" and complete["apiVersion"] == "audit.k8s.io/v1"
    assert complete["level"] == "RequestResponse"
    assert complete["requestURI"] == "/api/v1/namespaces/default/configmaps"
    assert complete["verb"] == "create"
    assert complete["user"] == {"username": "jane", "uid": "42",
                                "groups": ["writers", "system:authenticated"]}
    assert complete["sourceIPs"] == ["127.0.0.1"]
    assert complete["userAgent"] == "audit-test/1.0"
    assert complete["objectRef"] == {"resource": "configmaps", "namespace": "default",
                                     "name": "settings", "apiVersion": "v1"}
    assert complete["responseStatus"] == {"metadata": {}, "code": 201}
    assert complete["requestObject"] == CM
    assert complete["responseObject"]["metadata"]["uid"] == created["metadata"]["uid"]
    assert "managedFields" in created["metadata"]  # the policy omits them from the log
    assert "managedFields" not in complete["responseObject"]["metadata"]
    assert complete["annotations"] == {"authorization.k8s.io/decision": "allow",
                                       "authorization.k8s.io/reason": "writers may write"}
    assert complete["stageTimestamp"] >= complete["requestReceivedTimestamp"]
    assert complete["stageTimestamp"].endswith("Z") and len(complete["stageTimestamp"]) == 27


async def test_a_secret_at_request_level_without_its_received_stage(
        server: APIServer, events) -> None:  # type: ignore[no-untyped-def]
    body = {"metadata": {"name": "db"}, "stringData": {"password": "swordfish"}}
    async with session(server, "jane-token") as http:
        async with http.post("/api/v1/namespaces/default/secrets", json=body) as resp:
            assert resp.status == 201
            audit_id = resp.headers["Audit-Id"]
        async with http.get("/api/v1/namespaces/default/secrets/db") as resp:
            get_id = resp.headers["Audit-Id"]
    [complete] = events(audit_id)
    assert complete["level"] == "Request" and complete["stage"] == "ResponseComplete"
    assert complete["requestObject"] == body
    assert "responseObject" not in complete
    [got] = events(get_id)
    assert got["verb"] == "get" and "requestObject" not in got
    assert got["objectRef"]["name"] == "db"


async def test_a_watch_starts_and_completes(server: APIServer, events) -> None:  # type: ignore[no-untyped-def]
    async with session(server, "bob-token") as http:
        async with http.get("/api/v1/namespaces/default/pods",
                            params={"watch": "true", "timeoutSeconds": "1"}) as resp:
            audit_id = resp.headers["Audit-Id"]
            await resp.read()  # the server ends the watch after a second
    async with asyncio.timeout(10):
        while len(stages := [e["stage"] for e in events(audit_id)]) < 3:
            await asyncio.sleep(0.05)
    assert stages == ["RequestReceived", "ResponseStarted", "ResponseComplete"]
    started = events(audit_id)[1]
    assert started["level"] == "Metadata" and started["verb"] == "watch"
    assert started["responseStatus"] == {"metadata": {}, "code": 200}
    assert started["objectRef"] == {"resource": "pods", "namespace": "default",
                                    "apiVersion": "v1"}


async def test_a_refusal_records_the_forbid_decision_and_the_status(
        server: APIServer, events) -> None:  # type: ignore[no-untyped-def]
    async with session(server, "bob-token") as http:
        async with http.delete("/api/v1/namespaces/default/pods/web") as resp:
            assert resp.status == 403
            audit_id = resp.headers["Audit-Id"]
    complete = events(audit_id)[-1]
    assert complete["user"] == {"username": "bob", "uid": "7",
                                "groups": ["system:authenticated"]}
    assert complete["responseStatus"]["code"] == 403
    assert complete["responseStatus"]["reason"] == "Forbidden"
    assert complete["responseStatus"]["message"].startswith('pods "web" is forbidden: User '
                                                            '"bob" cannot delete')
    assert complete["annotations"] == {"authorization.k8s.io/decision": "forbid",
                                       "authorization.k8s.io/reason": "only writers may write"}


async def test_a_refused_token_gets_one_started_event_without_a_user(
        server: APIServer, events) -> None:  # type: ignore[no-untyped-def]
    async with session(server, "wrong-token") as http:
        async with http.get("/api/v1/namespaces") as resp:
            assert resp.status == 401
            audit_id = resp.headers["Audit-Id"]
    [event] = events(audit_id)
    assert event["stage"] == "ResponseStarted" and event["user"] == {}
    assert event["responseStatus"] == {
        "metadata": {}, "message": "Authentication failed, attempted: bearer", "code": 401}


async def test_a_client_audit_id_is_kept_and_level_none_writes_nothing(
        server: APIServer, events, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async with session(server, "jane-token") as http:
        async with http.get("/api/v1/namespaces/default/configmaps/missing",
                            headers={"Audit-ID": "my-own-id"}) as resp:
            assert resp.status == 404
            assert resp.headers["Audit-Id"] == "my-own-id"
        async with http.get("/healthz", headers={"Audit-ID": "health"}) as resp:
            assert resp.status == 200
    complete = events("my-own-id")[-1]
    assert complete["responseStatus"]["reason"] == "NotFound"
    assert complete["responseObject"]["kind"] == "Status"
    assert events("health") == []


async def test_a_streamed_list_is_recorded_whole(server: APIServer, events) -> None:  # type: ignore[no-untyped-def]
    async with session(server, "jane-token") as http:
        for name in ("a", "b"):
            body = {**CM, "metadata": {"name": name, "namespace": "default"}}
            async with http.post("/api/v1/namespaces/default/configmaps", json=body) as resp:
                assert resp.status == 201
        async with http.get("/api/v1/namespaces/default/configmaps") as resp:
            audit_id = resp.headers["Audit-Id"]
            listed = await resp.json()
    complete = events(audit_id)[-1]
    assert complete["verb"] == "list"
    recorded = complete["responseObject"]
    assert recorded["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in recorded["items"]] == ["a", "b"]
    assert all("managedFields" not in i["metadata"] for i in recorded["items"])
    assert len(listed["items"]) == 2
