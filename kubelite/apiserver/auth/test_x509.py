"""Client certificates and tokens over a real TLS server: who each request is."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.attributes import Attributes, Decision
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    StaticTokens,
)
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.auth.x509 import X509Authenticator, user_from_subject
from kubelite.pki.certs import (
    CLIENT_AUTH,
    CertificateAuthority,
    Subject,
    certificate_pem,
    key_pem,
    new_key,
)
from kubelite.pki.cluster import ADMIN, CLIENT_CA, SERVER_CA, ClusterTLS, serving_alt_names
from kubelite.storage.factory import open_backend

NOW = datetime.datetime.now(datetime.UTC)
LOOPBACK_TOKEN = "loopback-token"


CN_JANE = (("commonName", "jane"),)
O_DEV = (("organizationName", "dev"),)
O_OPS = (("organizationName", "ops"),)


@pytest.mark.parametrize("subject,user", [
    ((O_DEV, O_OPS, CN_JANE), UserInfo("jane", groups=("dev", "ops"))),
    (((("organizationName", "dev"), ("commonName", "joe")),),
     UserInfo("joe", groups=("dev",))),
    ((O_DEV,), None),
    ((), None),
], ids=["cn-and-groups", "multi-valued-rdn", "no-cn-names-nobody", "empty"])
def test_common_name_user_conversion(subject: tuple[object, ...],
                                     user: UserInfo | None) -> None:
    assert user_from_subject(subject) == user


class MastersOnly:
    """Allows system:masters; every other user's request is refused with its name."""

    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        return (Decision.ALLOW if attrs.user.privileged else Decision.NO_OPINION), ""


@pytest.fixture
def tls(tmp_path: Path) -> ClusterTLS:
    tls = ClusterTLS(tmp_path / "tls")
    tls.ensure(serving_alt_names(bind_address="127.0.0.1", service_cidr="10.43.0.0/16",
                                 extra=[]), now=NOW)
    return tls


@pytest.fixture
async def server(tmp_path: Path, tls: ClusterTLS) -> AsyncIterator[APIServer]:
    tokens = StaticTokens({
        LOOPBACK_TOKEN: UserInfo("system:apiserver", groups=("system:masters",)),
        "jane-token": UserInfo("jane")})
    chain = AuthenticatorChain([X509Authenticator(), BearerTokenAuthenticator([tokens])])
    srv = APIServer(backend=open_backend(f"sqlite://{tmp_path}/db"), port=0,
                    compaction_interval=0, authenticator=chain, authorizer=MastersOnly(),
                    ssl_context=tls.server_context(), loopback_token=LOOPBACK_TOKEN)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def client_context(tls: ClusterTLS, tmp_path: Path, subject: Subject | None = None,
                   ca: CertificateAuthority | None = None) -> ssl.SSLContext:
    """Trusts the server CA; presents a certificate for `subject` signed by `ca`
    (default: the cluster's client CA), or none."""
    context = ssl.create_default_context(cadata=tls.ca_pem(SERVER_CA).decode())
    if subject is None:
        return context
    if ca is None:
        ca = tls.authority(CLIENT_CA)
    key = new_key()
    cert = ca.issue(key.public_key(), subject, usages=[CLIENT_AUTH], now=NOW)
    cert_file, key_file = tmp_path / "c.crt", tmp_path / "c.key"
    cert_file.write_bytes(certificate_pem(cert))
    key_file.write_bytes(key_pem(key))
    context.load_cert_chain(cert_file, key_file)
    return context


async def get(server: APIServer, context: ssl.SSLContext, path: str = "/api/v1/namespaces",
              headers: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.url + path, ssl=context, headers=headers) as resp:
            return resp.status, await resp.json()


def test_the_server_url_is_https(server: APIServer) -> None:
    assert server.url.startswith("https://127.0.0.1:")


async def test_the_admin_certificate_is_a_master(server: APIServer, tls: ClusterTLS,
                                                 tmp_path: Path) -> None:
    context = client_context(tls, tmp_path)
    context.load_cert_chain(tls.cert_path(ADMIN.name), tls.key_path(ADMIN.name))
    status, body = await get(server, context)
    assert (status, body["kind"]) == (200, "NamespaceList")


async def test_a_certificate_names_its_user_by_cn(server: APIServer, tls: ClusterTLS,
                                                  tmp_path: Path) -> None:
    status, body = await get(server, client_context(tls, tmp_path, Subject("jane", ("dev",))))
    assert status == 403
    assert body["message"] == ('namespaces is forbidden: User "jane" cannot list resource '
                               '"namespaces" in API group "" at the cluster scope')


async def test_a_certificate_of_another_ca_is_refused_in_the_handshake(
        server: APIServer, tls: ClusterTLS, tmp_path: Path) -> None:
    stranger = CertificateAuthority.create("stranger", now=NOW)
    context = client_context(tls, tmp_path, Subject("system:admin", ("system:masters",)),
                             ca=stranger)
    with pytest.raises(aiohttp.ClientError) as refused:
        await get(server, context)
    assert not isinstance(refused.value, aiohttp.ClientResponseError)  # never answered


async def test_a_client_that_trusts_another_ca_refuses_the_server(
        server: APIServer, tmp_path: Path) -> None:
    stranger = CertificateAuthority.create("stranger", now=NOW)
    context = ssl.create_default_context(
        cadata=certificate_pem(stranger.certificate).decode())
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await get(server, context)


@pytest.mark.parametrize("header,status", [
    (None, 401),
    ("Bearer jane-token", 403),
    ("Bearer wrong", 401),
    ("Bearer", 401),
    ("Basic amFuZTpwdw==", 401),
    ("Bearer  jane-token extra", 401),
], ids=["nothing", "token", "unknown-token", "bearer-without-token", "basic",
        "token-with-trailing-words"])
async def test_tokens_without_certificate(server: APIServer, tls: ClusterTLS, tmp_path: Path,
                                          header: str | None, status: int) -> None:
    headers = {"Authorization": header} if header else {}
    got, body = await get(server, client_context(tls, tmp_path), headers=headers)
    assert (got, body["kind"], body["code"]) == (status, "Status", status)


async def test_the_loopback_client_authenticates_with_its_token(server: APIServer) -> None:
    response = await server.loopback.transport.request("GET", "/api/v1/namespaces")
    assert response.status == 200
