"""CertificateSigningRequests end to end in one process: users with tokens create
requests, the API server stamps who asked, an administrator approves or denies through
/approval, and the controller manager's csrsigning loop signs with the cluster's CAs
(or marks the request Failed) while csrcleaner deletes what is finished."""

from __future__ import annotations

import base64
import dataclasses
import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import started_server
from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.authn import AuthenticatorChain, BearerTokenAuthenticator, StaticTokens
from kubelite.apiserver.auth.user import UserInfo
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.controllers.context import LoopContext
from kubelite.controllers.csrcleaner import CSRCleanerLoop
from kubelite.controllers.csrsigning import CSRSigningLoop
from kubelite.controllers.settings import LoopSettings
from kubelite.machinery import errors
from kubelite.pki.cluster import CLIENT_CA, SERVER_CA, ClusterTLS
from tests.csr import csr_object, new_key, request_pem
from tests.loops import run_loops
from tests.test_scheduler import eventually

Obj = dict[str, Any]
CSRS = "certificatesigningrequests"
JANE = UserInfo("jane", "1001", ("dev", "system:authenticated"), {"team": ("blue",)})
ADMIN = UserInfo("admin", groups=("system:masters", "system:authenticated"))
CLIENT = "kubernetes.io/kube-apiserver-client"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture
def tls(tmp_path: Path) -> ClusterTLS:
    tls = ClusterTLS(tmp_path / "tls")
    tls.ensure(None, now=NOW)
    return tls


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    tokens = StaticTokens({"jane-token": JANE, "admin-token": ADMIN})
    async with started_server(tmp_path, authenticator=AuthenticatorChain(
            [BearerTokenAuthenticator([tokens])])) as srv:
        yield srv


@pytest.fixture
async def client(server: APIServer) -> AsyncIterator[Client]:
    """The administrator."""
    c = Client(InProcessTransport(server.handle, token="admin-token"))
    yield c
    await c.close()


@pytest.fixture
async def jane(server: APIServer) -> AsyncIterator[Client]:
    c = Client(InProcessTransport(server.handle, token="jane-token"))
    yield c
    await c.close()


def settings(tls: ClusterTLS) -> LoopSettings:
    """What `kubelite server` gives the signers: the client CA for the client signers,
    the server CA for kubelet-serving."""
    return LoopSettings(csr_signing_files={
        CLIENT: (tls.cert_path(CLIENT_CA), tls.key_path(CLIENT_CA)),
        KUBELET_CLIENT: (tls.cert_path(CLIENT_CA), tls.key_path(CLIENT_CA)),
        KUBELET_SERVING: (tls.cert_path(SERVER_CA), tls.key_path(SERVER_CA))})


@pytest.fixture
async def signer(client: Client, tls: ClusterTLS) -> AsyncIterator[None]:
    loop_settings = settings(tls)
    async with run_loops(client, lambda ctx: CSRSigningLoop(
            dataclasses.replace(ctx, settings=loop_settings))):
        yield


async def decide(client: Client, name: str, kind: str) -> Obj:
    """What `kubectl certificate approve|deny` sends."""
    csr = await client.get(CSRS, name)
    csr.setdefault("status", {}).setdefault("conditions", []).append({
        "type": kind, "status": "True",
        "reason": {"Approved": "KubectlApprove", "Denied": "KubectlDeny"}[kind],
        "message": f"This CSR was {kind.lower()} by kubectl certificate."})
    return await client.update(CSRS, csr, subresource="approval")


async def issued(client: Client, name: str) -> x509.Certificate:
    async def certificate() -> str | None:
        return str((await client.get(CSRS, name)).get("status", {}).get("certificate") or "")
    return x509.load_pem_x509_certificate(base64.b64decode(await eventually(certificate)))


async def test_a_request_records_who_asked_whatever_it_claims(jane: Client) -> None:
    pem = request_pem(new_key(), "jane", ("dev",))
    created = await jane.create(CSRS, csr_object("mine", pem, CLIENT, ["client auth"],
                                                 username="root", groups=["system:masters"]))
    spec = created["spec"]
    assert (spec["username"], spec["uid"], spec["groups"], spec["extra"]) == (
        "jane", "1001", ["dev", "system:authenticated"], {"team": ["blue"]})
    assert created["status"] == {}


async def test_an_approved_client_request_is_signed_by_the_client_ca(
        client: Client, jane: Client, tls: ClusterTLS, signer: None) -> None:
    pem = request_pem(new_key(), "jane", ("dev", "ops"))
    await jane.create(CSRS, csr_object("jane", pem, CLIENT, ["digital signature", "client auth"],
                                       expirationSeconds=3600))
    approved = await decide(client, "jane", "Approved")
    assert approved["status"]["conditions"][0]["lastUpdateTime"]
    certificate = await issued(client, "jane")
    assert tls.authority(CLIENT_CA).issued(certificate)
    names = certificate.subject
    assert [a.value for a in names.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["jane"]
    assert [a.value for a in names.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "dev", "ops"]
    usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    lifetime = certificate.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(minutes=55) < lifetime <= datetime.timedelta(hours=1)
    # the approval stays, and the certificate cannot be replaced
    csr = await client.get(CSRS, "jane")
    assert [c["type"] for c in csr["status"]["conditions"]] == ["Approved"]
    csr["status"]["certificate"] = base64.b64encode(pem).decode()
    with pytest.raises(errors.Invalid):
        await client.update(CSRS, csr, subresource="status")


async def test_a_kubelet_serving_request_is_signed_by_the_server_ca_with_its_names(
        client: Client, tls: ClusterTLS, signer: None) -> None:
    pem = request_pem(new_key(), "system:node:n1", ("system:nodes",), dns=("n1",),
                      ips=("10.0.0.7",))
    await client.create(CSRS, csr_object("serving", pem, KUBELET_SERVING,
                                         ["digital signature", "key encipherment",
                                          "server auth"]))
    await decide(client, "serving", "Approved")
    certificate = await issued(client, "serving")
    assert tls.authority(SERVER_CA).issued(certificate)
    sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["n1"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.0.0.7"]


async def test_a_request_its_signer_refuses_fails_with_upstreams_reason(
        client: Client, signer: None) -> None:
    pem = request_pem(new_key(), "system:node:n1", ())
    await client.create(CSRS, csr_object("bad", pem, KUBELET_CLIENT,
                                         ["digital signature", "key encipherment",
                                          "client auth"]))
    await decide(client, "bad", "Approved")

    async def failed() -> Obj | None:
        conditions = (await client.get(CSRS, "bad"))["status"].get("conditions") or []
        return next((c for c in conditions if c["type"] == "Failed"), None)
    condition = await eventually(failed)
    assert (condition["reason"], condition["message"]) == (
        "SignerValidationFailure", "subject organization is not system:nodes")
    assert "certificate" not in (await client.get(CSRS, "bad"))["status"]


async def test_denied_is_never_signed_and_cannot_be_approved_too(
        client: Client, jane: Client, signer: None) -> None:
    await jane.create(CSRS, csr_object("no", request_pem(new_key(), "jane"), CLIENT,
                                       ["client auth"]))
    await decide(client, "no", "Denied")
    with pytest.raises(errors.Invalid) as refused:
        await decide(client, "no", "Approved")
    assert "Approved and Denied conditions are mutually exclusive" in str(refused.value)
    # a later request signed shows the signer has looked at the denied one
    await jane.create(CSRS, csr_object("yes", request_pem(new_key(), "jane"), CLIENT,
                                       ["client auth"]))
    await decide(client, "yes", "Approved")
    await issued(client, "yes")
    assert "certificate" not in (await client.get(CSRS, "no"))["status"]


async def test_the_signer_cannot_drop_an_approval(client: Client) -> None:
    await client.create(CSRS, csr_object("keep", request_pem(new_key(), "x"), CLIENT,
                                         ["client auth"]))
    approved = await decide(client, "keep", "Approved")
    approved["status"]["conditions"] = []
    with pytest.raises(errors.Invalid) as refused:
        await client.update(CSRS, approved, subresource="approval")
    assert 'updates may not remove a condition of type "Approved"' in str(refused.value)


async def test_the_cleaner_deletes_finished_requests_an_hour_on(client: Client) -> None:
    for name in ("denied", "pending"):
        await client.create(CSRS, csr_object(name, request_pem(new_key(), "x"), CLIENT,
                                             ["client auth"]))
    await decide(client, "denied", "Denied")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2)
    async with run_loops(client, lambda ctx: CSRCleanerLoop(ctx, clock=lambda: later,
                                                            period=0.05)):
        async def denied_gone() -> bool:
            names = [c["metadata"]["name"] for c in (await client.list(CSRS))["items"]]
            return names == ["pending"]
        assert await eventually(denied_gone)


async def test_no_client_certificate_request_may_ask_for_system_masters(jane: Client) -> None:
    pem = request_pem(new_key(), "jane", ("dev", "system:masters"))
    with pytest.raises(errors.Forbidden) as refused:
        await jane.create(CSRS, csr_object("root", pem, CLIENT, ["client auth"]))
    assert str(refused.value) == (
        'certificatesigningrequests.certificates.k8s.io "root" is forbidden: use of '
        "kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed")
    # another signer's request may name the group: its CA is not the one the server trusts
    await jane.create(CSRS, csr_object("other", pem, "example.com/signer", ["client auth"]))
