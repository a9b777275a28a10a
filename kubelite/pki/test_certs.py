"""Certificates as upstream's x509 authenticator and TLS peers read them."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubelite.pki.certs import (
    CLIENT_AUTH,
    SERVER_AUTH,
    AltNames,
    CertificateAuthority,
    InvalidRequest,
    Subject,
    expires_within,
    new_key,
    request_public_key,
)

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create("test", now=NOW)


def test_a_client_certificate_names_user_in_cn_and_groups_in_o(
        ca: CertificateAuthority) -> None:
    cert = ca.issue(new_key().public_key(), Subject("jane", ("dev", "ops")),
                    usages=[CLIENT_AUTH], now=NOW)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "jane"
    assert [a.value for a in cert.subject.get_attributes_for_oid(
        NameOID.ORGANIZATION_NAME)] == ["dev", "ops"]
    assert Subject.of(cert) == Subject("jane", ("dev", "ops"))
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    cert.verify_directly_issued_by(ca.certificate)
    assert ca.issued(cert)


def test_a_ca_is_a_ca_and_names_its_prefix_and_time(ca: CertificateAuthority) -> None:
    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca and constraints.critical
    name = ca.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert name == f"test-ca@{int(NOW.timestamp())}"


def test_a_certificate_of_another_ca_is_not_issued_by_this_one(
        ca: CertificateAuthority) -> None:
    other = CertificateAuthority.create("other", now=NOW)
    cert = other.issue(new_key().public_key(), Subject("x"), usages=[CLIENT_AUTH], now=NOW)
    assert not ca.issued(cert)


def test_a_serving_certificate_carries_its_alt_names(ca: CertificateAuthority) -> None:
    names = AltNames.parse(["localhost", "127.0.0.1", "::1", "kubernetes"])
    cert = ca.issue(new_key().public_key(), Subject("kube-apiserver"),
                    usages=[SERVER_AUTH], now=NOW, alt_names=names)
    assert AltNames.of(cert) == names
    assert AltNames.of(cert).covers(AltNames.parse(["kubernetes", "::1"]))
    assert not AltNames.of(cert).covers(AltNames.parse(["example.com"]))


def test_a_leaf_never_outlives_its_ca() -> None:
    short = CertificateAuthority.create("short", now=NOW, validity=datetime.timedelta(days=30))
    cert = short.issue(new_key().public_key(), Subject("x"), usages=[CLIENT_AUTH], now=NOW)
    assert cert.not_valid_after_utc == short.certificate.not_valid_after_utc


@pytest.mark.parametrize("usages", [[], ["code signing"]], ids=["none", "unknown"])
def test_issue_refuses_usages_it_does_not_know(ca: CertificateAuthority,
                                               usages: list[str]) -> None:
    with pytest.raises(ValueError, match="unsupported key usages"):
        ca.issue(new_key().public_key(), Subject("x"), usages=usages, now=NOW)


@pytest.mark.parametrize("names,dns,ips", [
    (["a.example", "10.0.0.1", "a.example", "10.0.0.1"], ("a.example",),
     (ipaddress.ip_address("10.0.0.1"),)),
    (["[::1]", " host ", ""], ("host",), (ipaddress.ip_address("::1"),)),
], ids=["duplicates-dropped", "brackets-and-blanks"])
def test_alt_names_split_ips_from_dns_names(names: list[str], dns: tuple[str, ...],
                                            ips: tuple[object, ...]) -> None:
    assert AltNames.parse(names) == AltNames(dns, ips)  # type: ignore[arg-type]


@pytest.mark.parametrize("days_left,window,expected", [
    (200, 90, False), (90, 90, True), (30, 90, True), (-1, 0, True), (1, 0, False),
], ids=["far", "at-window", "inside-window", "expired", "valid-no-window"])
def test_expires_within(ca: CertificateAuthority, days_left: int, window: int,
                        expected: bool) -> None:
    cert = ca.issue(new_key().public_key(), Subject("x"), usages=[CLIENT_AUTH], now=NOW,
                    validity=datetime.timedelta(days=365))
    now = cert.not_valid_after_utc - datetime.timedelta(days=days_left)
    assert expires_within(cert, datetime.timedelta(days=window), now=now) is expected


def _csr(common_name: str, orgs: list[str]) -> bytes:
    from cryptography.hazmat.primitives import serialization

    name = x509.Name([*(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(
        new_key(), hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM)


def test_a_signing_request_gives_its_key_and_subject_to_sign_for(
        ca: CertificateAuthority) -> None:
    key, subject = request_public_key(_csr("system:node:n1", ["system:nodes"]))
    assert subject == Subject("system:node:n1", ("system:nodes",))
    cert = ca.issue(key, subject, usages=[CLIENT_AUTH], now=NOW)
    assert cert.public_key() == key


def _tampered(pem: bytes) -> bytes:
    """The request with the last byte of its signature changed."""
    from cryptography.hazmat.primitives import serialization

    der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    return x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("pem,message", [
    (b"not a request", "not a PEM certificate request"),
    (_tampered(_csr("jane", [])), "signature does not match"),
], ids=["garbage", "bad-signature"])
def test_a_bad_signing_request_is_refused(pem: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        request_public_key(pem)
