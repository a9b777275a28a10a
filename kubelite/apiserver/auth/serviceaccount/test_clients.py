"""The real kubectl (`create token`, `auth whoami`) and the official Python client
against a server that authenticates.

kubectl sends no credentials over plain HTTP (kubernetes/kubectl#744), so its tests
reach the server's own handler through an HTTPS listener (auth/conftest.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import kubernetes
import pytest
import yaml

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.conftest import HTTPS, https_listener
from kubelite.apiserver.auth.serviceaccount.conftest import ADMIN_TOKEN, ISSUER, Call
from kubelite.apiserver.auth.serviceaccount.test_tokens import make_account, make_pod

TOOLS = Path(__file__).resolve().parents[4] / ".tools" / "bin"
VERSIONS = ("1.32", "1.35")


@pytest.fixture
async def https(server: APIServer, tmp_path: Path) -> AsyncIterator[HTTPS]:
    async with https_listener(server, tmp_path) as listener:
        yield listener


def kubeconfig(path: Path, server: HTTPS, token: str) -> Path:
    ca = base64.b64encode(server.ca.read_bytes()).decode()
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "k",
        "clusters": [{"name": "k", "cluster": {"server": server.url,
                                               "certificate-authority-data": ca}}],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "k", "context": {"cluster": "k", "user": "u",
                                               "namespace": "default"}}]}))
    return path


async def kubectl(config: Path, *args: str, version: str = "1.35") -> str:
    proc = await asyncio.create_subprocess_exec(
        str(TOOLS / f"kubectl-{version}"), *args,
        env={**os.environ, "KUBECONFIG": str(config), "HOME": str(config.parent)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"kubectl-{v}")
async def test_kubectl_create_token_then_whoami(call: Call, https: HTTPS,
                                               tmp_path: Path, version: str) -> None:
    account = await make_account(call)
    pod = await make_pod(call)
    admin = kubeconfig(tmp_path / "admin", https, ADMIN_TOKEN)
    token = (await kubectl(admin, "create", "token", "robot", "--audience", ISSUER,
                           "--audience", "vault", "--duration", "20m",
                           version=version)).strip()
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["aud"] == [ISSUER, "vault"]
    assert payload["exp"] - payload["iat"] == 20 * 60
    bound = (await kubectl(admin, "create", "token", "robot", "--bound-object-kind", "Pod",
                           "--bound-object-name", "web", version=version)).strip()
    robot = kubeconfig(tmp_path / "robot", https, bound)
    user = json.loads(await kubectl(robot, "auth", "whoami", "-o", "json", version=version))
    assert user["kind"] == "SelfSubjectReview"
    info = user["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:default:robot"
    assert info["uid"] == account["metadata"]["uid"]
    assert info["extra"]["authentication.kubernetes.io/pod-uid"] == [pod["metadata"]["uid"]]
    table = await kubectl(robot, "auth", "whoami", version=version)
    assert "system:serviceaccount:default:robot" in table
    assert "system:serviceaccounts:default" in table


async def test_kubectl_create_token_refusal_is_upstreams(https: HTTPS, tmp_path: Path) -> None:
    admin = kubeconfig(tmp_path / "admin", https, ADMIN_TOKEN)
    proc = await asyncio.create_subprocess_exec(
        str(TOOLS / "kubectl-1.35"), "create", "token", "ghost",
        env={**os.environ, "KUBECONFIG": str(admin), "HOME": str(tmp_path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert 'serviceaccounts "ghost" not found' in err.decode()


def _python_client(server: APIServer, token: str) -> kubernetes.client.ApiClient:
    configuration = kubernetes.client.Configuration()
    configuration.host = server.url
    configuration.api_key = {"authorization": f"Bearer {token}"}
    return kubernetes.client.ApiClient(configuration)


def _python_client_session(server: APIServer) -> dict[str, Any]:
    """TokenRequest, TokenReview and SelfSubjectReview through the official client."""
    from kubernetes.client import (
        AuthenticationV1Api,
        AuthenticationV1TokenRequest,
        CoreV1Api,
        V1SelfSubjectReview,
        V1TokenRequestSpec,
        V1TokenReview,
        V1TokenReviewSpec,
    )
    with _python_client(server, ADMIN_TOKEN) as admin:
        issued = CoreV1Api(admin).create_namespaced_service_account_token(
            "robot", "default", AuthenticationV1TokenRequest(
                spec=V1TokenRequestSpec(audiences=[ISSUER], expiration_seconds=600)))
        review = AuthenticationV1Api(admin).create_token_review(
            V1TokenReview(spec=V1TokenReviewSpec(token=issued.status.token)))
    with _python_client(server, issued.status.token) as robot:
        me = AuthenticationV1Api(robot).create_self_subject_review(V1SelfSubjectReview())
        pods = CoreV1Api(robot).list_namespaced_pod("default")
    return {"issued": issued, "review": review, "me": me, "pods": pods}


async def test_official_python_client(call: Call, server: APIServer) -> None:
    await make_account(call)
    got = await asyncio.to_thread(_python_client_session, server)
    assert got["issued"].spec.expiration_seconds == 600
    assert got["issued"].status.expiration_timestamp is not None
    assert got["review"].status.authenticated is True
    assert got["review"].status.user.username == "system:serviceaccount:default:robot"
    assert got["review"].status.audiences == [ISSUER]
    assert got["me"].status.user_info.username == "system:serviceaccount:default:robot"
    assert got["pods"].items == []
