"""serviceaccounts/token and the review APIs as upstream answers them: defaults,
refusals, discovery and the issuer discovery documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.authn import AuthenticatorChain, BearerTokenAuthenticator
from kubelite.apiserver.auth.serviceaccount.conftest import ADMIN_TOKEN, ISSUER, Call
from kubelite.apiserver.auth.authn import join_chain
from kubelite.apiserver.auth.serviceaccount.options import (
    ServiceAccountOptions,
    install,
)
from kubelite.apiserver.auth.serviceaccount.test_tokens import (
    REVIEWS,
    make_account,
    make_pod,
    request_token,
)
from kubelite.storage.factory import open_backend


@pytest.mark.parametrize("spec,status,message", [
    ({"expirationSeconds": 599}, 422,
     'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid '
     'value: 599: may not specify a duration less than 10 minutes'),
    ({"expirationSeconds": (1 << 32) + 1}, 422,
     'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid '
     'value: 4294967297: may not specify a duration larger than 2^32 seconds'),
    ({"boundObjectRef": {"apiVersion": "v1", "kind": "ConfigMap", "name": "c"}}, 400,
     "cannot bind token to object of type /v1, Kind=ConfigMap"),
    ({"boundObjectRef": {"apiVersion": "apps/v1", "kind": "Pod", "name": "web"}}, 400,
     "cannot bind token to object of type apps/v1, Kind=Pod"),
    ({"boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "gone"}}, 404,
     'pods "gone" not found'),
    ({"boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "other"}}, 400,
     'cannot bind token for serviceaccount "robot" to pod running with different '
     'serviceaccount name.'),
    ({"boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "web", "uid": "old"}},
     409, 'Operation cannot be fulfilled on Pod "web": the UID in the bound object '
     'reference (old) does not match the UID in record. The object might have been '
     'deleted and then recreated'),
], ids=["too-short", "too-long", "unbindable-kind", "pod-of-another-group", "missing-pod",
        "pod-of-another-account", "uid-of-another-pod"])
async def test_token_request_refusals(call: Call, spec: dict[str, Any], status: int,
                                      message: str) -> None:
    await make_account(call)
    await make_account(call, "someone")
    await make_pod(call)
    await make_pod(call, "other", account="someone")
    got, body = await request_token(call, spec)
    assert (got, body["kind"], body["message"]) == (status, "Status", message)


async def test_token_request_for_a_missing_account_is_404(call: Call) -> None:
    status, body = await request_token(call, {}, name="ghost")
    assert (status, body["message"]) == (404, 'serviceaccounts "ghost" not found')


async def test_token_request_names_must_match_the_path(call: Call) -> None:
    await make_account(call)
    status, body = await call("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token",
                              body={"metadata": {"name": "other"}, "spec": {}})
    assert (status, body["message"]) == (
        422, 'TokenRequest.authentication.k8s.io "robot" is invalid: metadata.name: Invalid '
             'value: other: must match the service account name if specified')


async def test_kubelet_sized_pod_token_lasts_a_year_and_warns_after_an_hour(
        call: Call) -> None:
    await make_account(call)
    pod = await make_pod(call)
    status, answer = await request_token(call, {"expirationSeconds": 3607, "boundObjectRef": {
        "apiVersion": "v1", "kind": "Pod", "name": "web"}})
    assert status == 201
    payload = jwt.decode(answer["status"]["token"], options={"verify_signature": False})
    assert payload["exp"] - payload["iat"] == 365 * 24 * 3600
    assert payload["kubernetes.io"]["warnafter"] - payload["iat"] == 3607
    assert payload["kubernetes.io"]["pod"] == {"name": "web", "uid": pod["metadata"]["uid"]}
    assert answer["spec"]["expirationSeconds"] == 3607  # what the caller asked for


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[APIServer]:
    """A server whose tokens last at most an hour; it authenticates nobody."""
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0)
    install(srv, ServiceAccountOptions(key_file=tmp_path / "service.key",
                                       api_audiences=("api", "other"),
                                       max_token_expiration_seconds=3600))
    await srv.start()
    yield srv
    await srv.stop()


async def test_longer_tokens_are_shortened_with_a_warning(capped: APIServer) -> None:
    async with aiohttp.ClientSession(base_url=capped.url) as session:
        await session.post("/api/v1/namespaces/default/serviceaccounts",
                           json={"metadata": {"name": "robot"}})
        async with session.post("/api/v1/namespaces/default/serviceaccounts/robot/token",
                                json={"spec": {"expirationSeconds": 7200}}) as resp:
            assert resp.status == 201
            answer = await resp.json()
            assert resp.headers["Warning"] == ('299 - "requested expiration of 7200 seconds '
                                               'shortened to 3600 seconds"')
    assert answer["spec"] == {"audiences": ["api", "other"], "expirationSeconds": 3600}


async def test_token_review_of_a_static_token_and_of_nothing(call: Call) -> None:
    status, review = await call("POST", REVIEWS, body={"spec": {"token": ADMIN_TOKEN}})
    assert status == 201
    assert review["status"]["authenticated"] is True
    assert review["status"]["user"]["username"] == "admin"
    assert review["status"]["audiences"] == [ISSUER]
    status, review = await call("POST", REVIEWS, body={"spec": {"token": ADMIN_TOKEN,
                                                                "audiences": ["vault"]}})
    assert review["status"] == {"authenticated": False, "user": {}}
    status, body = await call("POST", REVIEWS, body={"spec": {}})
    assert (status, body["message"]) == (400, "token is required for TokenReview in "
                                              "authentication")
    status, body = await call("GET", REVIEWS)
    assert status == 405
    status, body = await call("POST", REVIEWS, body={"kind": "Pod", "spec": {"token": "x"}})
    assert status == 400
    status, body = await call("POST", "/apis/authentication.k8s.io/v1/namespaces/default/"
                                      "tokenreviews", body={"spec": {"token": "x"}})
    assert status == 404


async def test_whoami_needs_credentials(call: Call) -> None:
    status, body = await call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                              body={}, token=None)
    assert status == 401
    status, body = await call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                              body={})
    assert body["status"]["userInfo"] == {
        "username": "admin", "uid": "1", "groups": ["system:masters", "system:authenticated"]}


async def test_discovery_shows_the_token_subresource_and_the_reviews(call: Call) -> None:
    _, core = await call("GET", "/api/v1")
    token = next(r for r in core["resources"] if r["name"] == "serviceaccounts/token")
    assert token == {"name": "serviceaccounts/token", "singularName": "", "namespaced": True,
                     "group": "authentication.k8s.io", "version": "v1",
                     "kind": "TokenRequest", "verbs": ["create"]}
    _, group = await call("GET", "/apis/authentication.k8s.io/v1")
    assert [(r["name"], r["verbs"], r["namespaced"]) for r in group["resources"]] == [
        ("selfsubjectreviews", ["create"], False), ("tokenreviews", ["create"], False)]
    _, groups = await call("GET", "/apis")
    names = [g["name"] for g in groups["groups"]]
    assert "authentication.k8s.io" in names
    assert names.index("authentication.k8s.io") < names.index("batch")


async def test_issuer_discovery_documents(call: Call, server: APIServer) -> None:
    await make_account(call)
    status, config = await call("GET", "/.well-known/openid-configuration")
    assert status == 200
    assert config == {"issuer": ISSUER, "jwks_uri": f"{server.url}/openid/v1/jwks",
                      "response_types_supported": ["id_token"],
                      "subject_types_supported": ["public"],
                      "id_token_signing_alg_values_supported": ["RS256"]}
    status, key_set = await call("GET", "/openid/v1/jwks")
    assert status == 200
    _, answer = await request_token(call, {"audiences": ["vault"]})
    token = answer["status"]["token"]
    [published] = key_set["keys"]
    assert published["kid"] == jwt.get_unverified_header(token)["kid"]
    # what an outside verifier does with the two documents
    claims = jwt.decode(token, jwt.PyJWK(published), algorithms=["RS256"], audience="vault",
                        issuer=config["issuer"])
    assert claims["sub"] == "system:serviceaccount:default:robot"


async def test_no_discovery_for_an_issuer_that_is_no_https_url(tmp_path: Path) -> None:
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0, authenticator=AuthenticatorChain([]))
    join_chain(srv.authenticator, install(srv, ServiceAccountOptions(
        key_file=tmp_path / "service.key", issuers=("kubelite",))))
    assert isinstance(srv.authenticator, AuthenticatorChain)
    assert isinstance(srv.authenticator.authenticators[0], BearerTokenAuthenticator)
    assert "/openid/v1/jwks" not in srv.paths


async def test_openapi_describes_the_review_apis(call: Call) -> None:
    status, index = await call("GET", "/openapi/v3")
    assert status == 200
    url = index["paths"]["apis/authentication.k8s.io/v1"]["serverRelativeURL"]
    status, doc = await call("GET", url)
    assert status == 200
    assert {path: list(ops) for path, ops in doc["paths"].items()
            if path.endswith("reviews")} == {
        "/apis/authentication.k8s.io/v1/selfsubjectreviews": ["post", "parameters"],
        "/apis/authentication.k8s.io/v1/tokenreviews": ["post", "parameters"]}
    assert "io.k8s.api.authentication.v1.TokenReview" in doc["components"]["schemas"]
