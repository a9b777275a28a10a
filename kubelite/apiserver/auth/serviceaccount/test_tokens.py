"""ServiceAccount tokens against a real server that authenticates: TokenRequest,
the tokens it issues used as credentials, legacy Secret tokens, and every kind of bad
token refused with a 401."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.audiences import TokenRejected
from kubelite.apiserver.auth.serviceaccount import keys
from kubelite.apiserver.auth.serviceaccount.authenticator import (
    CachedObjects,
    ServiceAccountTokenAuthenticator,
)
from kubelite.apiserver.auth.serviceaccount.conftest import ISSUER, Call
from kubelite.apiserver.auth.serviceaccount.issuer import TokenIssuer

WAIT = 10.0
SA_PATH = "/api/v1/namespaces/default/serviceaccounts"
WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"


async def make_account(call: Call, name: str = "robot") -> dict[str, Any]:
    status, account = await call("POST", SA_PATH, body={"metadata": {"name": name}})
    assert status == 201, account
    return account


async def make_pod(call: Call, name: str = "web", account: str = "robot") -> dict[str, Any]:
    status, pod = await call("POST", "/api/v1/namespaces/default/pods", body={
        "metadata": {"name": name},
        "spec": {"serviceAccountName": account,
                 "containers": [{"name": "c", "image": "nginx"}]}})
    assert status == 201, pod
    return pod


async def request_token(call: Call, spec: dict[str, Any], name: str = "robot"
                        ) -> tuple[int, Any]:
    return await call("POST", f"{SA_PATH}/{name}/token", body={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})


async def token_for(call: Call, spec: dict[str, Any] | None = None) -> str:
    status, answer = await request_token(call, spec or {})
    assert status == 201, answer
    token: str = answer["status"]["token"]
    return token


async def whoami(call: Call, token: str) -> tuple[int, Any]:
    status, review = await call("POST", WHOAMI, body={
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, token=token)
    return status, review["status"]["userInfo"] if status == 201 else review


async def test_requested_token_authenticates_as_the_service_account(call: Call) -> None:
    account = await make_account(call)
    status, answer = await request_token(call, {})
    assert status == 201, answer
    assert answer["kind"] == "TokenRequest"
    assert answer["metadata"]["name"] == "robot"
    assert answer["spec"] == {"audiences": [ISSUER], "expirationSeconds": 3600}
    payload = jwt.decode(answer["status"]["token"], options={"verify_signature": False})
    assert payload["exp"] - payload["iat"] == 3600
    assert payload["sub"] == "system:serviceaccount:default:robot"
    status, user = await whoami(call, answer["status"]["token"])
    assert status == 201
    assert user == {
        "username": "system:serviceaccount:default:robot",
        "uid": account["metadata"]["uid"],
        "groups": ["system:serviceaccounts", "system:serviceaccounts:default",
                   "system:authenticated"],
        "extra": {"authentication.kubernetes.io/credential-id": [f"JTI={payload['jti']}"]}}


async def _refused_within(call: Call, token: str) -> None:
    """The cache sees a deletion a moment after the write: wait for the refusal."""
    async def refused() -> None:
        while (await whoami(call, token))[0] != 401:
            await asyncio.sleep(0.01)
    await asyncio.wait_for(refused(), WAIT)


async def test_pod_bound_token_dies_with_the_pod(call: Call) -> None:
    await make_account(call)
    pod = await make_pod(call)
    token = await token_for(call, {"boundObjectRef": {
        "apiVersion": "v1", "kind": "Pod", "name": "web", "uid": pod["metadata"]["uid"]}})
    status, user = await whoami(call, token)
    assert status == 201
    assert user["extra"]["authentication.kubernetes.io/pod-name"] == ["web"]
    assert user["extra"]["authentication.kubernetes.io/pod-uid"] == [pod["metadata"]["uid"]]
    status, _ = await call("DELETE", "/api/v1/namespaces/default/pods/web",
                           body={"gracePeriodSeconds": 0})
    assert status == 200
    await _refused_within(call, token)
    await make_pod(call)  # the same name again is another pod
    assert (await whoami(call, token))[0] == 401


async def test_secret_bound_token_dies_with_the_secret(call: Call) -> None:
    await make_account(call)
    status, secret = await call("POST", "/api/v1/namespaces/default/secrets",
                                body={"metadata": {"name": "s"}})
    assert status == 201
    token = await token_for(call, {"boundObjectRef": {
        "apiVersion": "v1", "kind": "Secret", "name": "s"}})
    assert (await whoami(call, token))[0] == 201
    await call("DELETE", "/api/v1/namespaces/default/secrets/s")
    await _refused_within(call, token)


async def test_token_of_a_recreated_account_is_refused(call: Call) -> None:
    await make_account(call)
    token = await token_for(call)
    await call("DELETE", f"{SA_PATH}/robot")
    await _refused_within(call, token)
    await make_account(call)  # same name, new uid
    assert (await whoami(call, token))[0] == 401


async def test_token_for_another_audience_is_not_the_apis(call: Call) -> None:
    await make_account(call)
    token = await token_for(call, {"audiences": ["vault"]})
    assert (await whoami(call, token))[0] == 401
    status, review = await call("POST", REVIEWS, body={"spec": {
        "token": token, "audiences": ["vault"]}})
    assert status == 201
    assert review["status"]["authenticated"] is True
    assert review["status"]["audiences"] == ["vault"]


def _issuer(tmp_path: Path, *, clock: float | None = None,
            key: keys.SigningKey | None = None) -> TokenIssuer:
    key = key or keys.load(tmp_path / "tls" / "service.key")
    return TokenIssuer(key=key, issuer=ISSUER, api_audiences=(ISSUER,),
                       clock=(lambda: clock) if clock is not None else time.time)


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = "system:serviceaccount:kube-system:admin"
    forged = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=")
    return f"{header}.{forged.decode()}.{signature}"


@functools.cache
def _stranger() -> keys.SigningKey:
    """A key the server has never seen."""
    return keys.SigningKey.from_private_key(
        rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _hmac_with_public_key(token: str, key: keys.SigningKey) -> str:
    """The classic key confusion: HS256 keyed with the published public key."""
    claims = jwt.decode(token, options={"verify_signature": False})
    secret = key.public_key.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (b64(orjson.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"})) + "."
                     + b64(orjson.dumps(claims)))
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


FORGED = "square/go-jose: error in cryptographic primitive"
# what a TokenReview says of each; None: not a token of ours, nobody objects
BAD_TOKENS = {
    "garbage": None, "three-dots": None, "json": None, "header-not-json": None,
    "empty-segments": None,
    "expired": "service account token has expired",
    "not-yet-valid": "service account token is not valid yet",
    "unsigned": FORGED, "tampered": FORGED, "hs256-with-the-public-key": FORGED,
    # signed by a key the server does not have: its kid names none of ours
    "other-key": "invalid signature, no keys found",
    "legacy-by-another-key": "invalid signature, no keys found",
    "unknown-kid": "invalid signature, no keys found",
    "unknown-account": 'serviceaccounts "ghost" not found',
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_bad_tokens_are_401_never_5xx(call: Call, server: APIServer, tmp_path: Path,
                                            kind: str) -> None:
    account = await make_account(call)
    uid = account["metadata"]["uid"]
    stranger = _stranger()

    def issued(issuer: TokenIssuer, name: str = "robot", account_uid: str = uid) -> str:
        return issuer.issue(namespace="default", name=name, uid=account_uid,
                            audiences=(ISSUER,), expiration_seconds=3600).token

    now = time.time()
    token = {
        "garbage": lambda: "not-a-jwt",
        "expired": lambda: issued(_issuer(tmp_path, clock=now - 7200)),
        "not-yet-valid": lambda: issued(_issuer(tmp_path, clock=now + 600)),
        "other-key": lambda: issued(_issuer(tmp_path, key=stranger)),
        "unknown-kid": lambda: jwt.encode(
            jwt.decode(issued(_issuer(tmp_path)), options={"verify_signature": False}),
            stranger.private_key, algorithm="RS256", headers={"kid": "nobody"}),
        "unsigned": lambda: jwt.encode(
            jwt.decode(issued(_issuer(tmp_path)), options={"verify_signature": False}),
            None, algorithm="none"),
        "tampered": lambda: _tampered(issued(_issuer(tmp_path))),
        "three-dots": lambda: "a.b.c",
        "json": lambda: '{"iss": "https://kubernetes.default.svc.cluster.local"}',
        "unknown-account": lambda: issued(_issuer(tmp_path), name="ghost", account_uid="x"),
        "hs256-with-the-public-key": lambda: _hmac_with_public_key(
            issued(_issuer(tmp_path)), keys.load(tmp_path / "tls" / "service.key")),
        "legacy-by-another-key": lambda: _issuer(tmp_path, key=stranger).issue_legacy(
            namespace="default", name="robot", uid=uid, secret_name="robot-token"),
        "header-not-json": lambda: "bm90IGpzb24." + issued(_issuer(tmp_path)).split(".", 1)[1],
        "empty-segments": lambda: "..",
    }[kind]()
    status, body = await whoami(call, token)
    assert status == 401, body
    assert (body["kind"], body["reason"], body["message"]) == ("Status", "Unauthorized",
                                                               "Unauthorized")
    status, review = await call("POST", REVIEWS, body={"spec": {"token": token}})
    assert status == 201
    assert review["status"] == {"authenticated": False, "user": {},
                                **({"error": BAD_TOKENS[kind]} if BAD_TOKENS[kind] else {})}


async def test_expired_token_review_says_why(call: Call, tmp_path: Path) -> None:
    account = await make_account(call)
    token = _issuer(tmp_path, clock=time.time() - 7200).issue(
        namespace="default", name="robot", uid=account["metadata"]["uid"],
        audiences=(ISSUER,), expiration_seconds=3600).token
    status, review = await call("POST", REVIEWS, body={"spec": {"token": token}})
    assert status == 201
    assert review["status"] == {"authenticated": False, "user": {},
                                "error": "service account token has expired"}


async def test_legacy_secret_token_lives_as_long_as_its_secret(call: Call,
                                                               tmp_path: Path) -> None:
    account = await make_account(call)
    token = _issuer(tmp_path).issue_legacy(namespace="default", name="robot",
                                           uid=account["metadata"]["uid"],
                                           secret_name="robot-token")
    status, _ = await call("POST", "/api/v1/namespaces/default/secrets", body={
        "metadata": {"name": "robot-token",
                     "annotations": {"kubernetes.io/service-account.name": "robot"}},
        "type": "kubernetes.io/service-account-token",
        "data": {"token": base64.b64encode(token.encode()).decode()}})
    assert status == 201
    status, user = await whoami(call, token)
    assert status == 201
    assert user["username"] == "system:serviceaccount:default:robot"
    assert "extra" not in user
    # signed by the same key for the same secret, but not the Secret's copy
    other = _issuer(tmp_path).sign({**jwt.decode(token, options={"verify_signature": False}),
                                    "iat": 1})
    status, review = await call("POST", REVIEWS, body={"spec": {"token": other}})
    assert review["status"] == {"authenticated": False, "user": {},
                                "error": "Token does not match server's copy"}
    await call("DELETE", "/api/v1/namespaces/default/secrets/robot-token")
    await _refused_within(call, token)


async def test_a_token_seen_before_still_expires(call: Call, server: APIServer,
                                                tmp_path: Path) -> None:
    """Signatures are checked once per token; times and lookups on every use."""
    account = await make_account(call)
    now = [time.time()]
    authenticator = ServiceAccountTokenAuthenticator(
        keys=[keys.load(tmp_path / "tls" / "service.key")], issuers=[ISSUER],
        api_audiences=[ISSUER], objects=CachedObjects(server.registry), clock=lambda: now[0])
    token = _issuer(tmp_path, clock=now[0]).issue(
        namespace="default", name="robot", uid=account["metadata"]["uid"],
        audiences=(ISSUER,), expiration_seconds=600).token
    user = await authenticator.authenticate_token(token)
    assert user is not None and user.uid == account["metadata"]["uid"]
    now[0] += 600 + 59  # within the leeway
    assert await authenticator.authenticate_token(token) is not None
    now[0] += 2
    assert await authenticator.authenticate_token(token) is None
    with pytest.raises(TokenRejected, match="service account token has expired"):
        await authenticator.review_token(token, None)


async def make_node(call: Call, name: str = "n1") -> dict[str, Any]:
    status, node = await call("POST", "/api/v1/nodes", body={"metadata": {"name": name}})
    assert status == 201, node
    return node


async def test_pod_bound_token_names_the_pods_node(call: Call) -> None:
    await make_account(call)
    node = await make_node(call)
    status, pod = await call("POST", "/api/v1/namespaces/default/pods", body={
        "metadata": {"name": "web"},
        "spec": {"serviceAccountName": "robot", "nodeName": "n1",
                 "containers": [{"name": "c", "image": "nginx"}]}})
    assert status == 201, pod
    token = await token_for(call, {"boundObjectRef": {
        "apiVersion": "v1", "kind": "Pod", "name": "web"}})
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["kubernetes.io"]["node"] == {"name": "n1", "uid": node["metadata"]["uid"]}
    _, user = await whoami(call, token)
    assert user["extra"]["authentication.kubernetes.io/node-name"] == ["n1"]
    assert user["extra"]["authentication.kubernetes.io/node-uid"] == [node["metadata"]["uid"]]
    # the pod, not its node, decides: the token outlives the node
    await call("DELETE", "/api/v1/nodes/n1")
    assert (await whoami(call, token))[0] == 201


async def test_node_bound_token_dies_with_the_node(call: Call) -> None:
    await make_account(call)
    node = await make_node(call)
    token = await token_for(call, {"boundObjectRef": {
        "apiVersion": "v1", "kind": "Node", "name": "n1"}})
    _, user = await whoami(call, token)
    assert user["extra"]["authentication.kubernetes.io/node-uid"] == [node["metadata"]["uid"]]
    await call("DELETE", "/api/v1/nodes/n1")
    await _refused_within(call, token)
