"""Keys, certificate authorities and the certificates they sign, with `cryptography`.

Everything here is pure: keys and certificates in, keys and certificates out, the
time always passed in (`now`) so tests can age a certificate without waiting. Files
are files.py's business.

Choices follow k3s (pkg/daemons/control/deps) and client-go's certutil:
- keys are ECDSA P-256: small, and quick to sign a TLS handshake with;
- a CA is self-signed, valid ten years, CN `<prefix>-ca@<unix time>` so two CAs made
  by two clusters never share a name;
- a leaf is valid one year and names its issuer by the CA's subject key identifier,
  which is how `issued_by` tells a leaf of this CA from one of an older CA;
- a client certificate says who its holder is as upstream's x509 authenticator reads
  it: the user in CN, the groups in O (CommonNameUserConversion).
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = datetime.timedelta(days=3650)
LEAF_VALIDITY = datetime.timedelta(days=365)
# Certificates are dated this far back, so a peer whose clock is a little behind
# does not see them as not yet valid (certutil does the same with its NotBefore).
BACKDATE = datetime.timedelta(minutes=5)

# Extended key usages by upstream's certificates/v1 KeyUsage names.
CLIENT_AUTH = "client auth"
SERVER_AUTH = "server auth"
_EXTENDED_USAGES = {CLIENT_AUTH: ExtendedKeyUsageOID.CLIENT_AUTH,
                    SERVER_AUTH: ExtendedKeyUsageOID.SERVER_AUTH}

PrivateKey = ec.EllipticCurvePrivateKey
# what a signing request may carry: upstream's signers take ECDSA and RSA keys
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class InvalidRequest(ValueError):
    """A certificate signing request that cannot be parsed or whose signature is bad."""


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a certificate names: user and groups for a client, a name for a server."""

    common_name: str
    organizations: tuple[str, ...] = ()

    def to_name(self) -> x509.Name:
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)
                      for org in self.organizations]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, self.common_name))
        return x509.Name(attributes)

    @classmethod
    def of(cls, certificate: x509.Certificate) -> Subject:
        name = certificate.subject
        common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        return cls(str(common[0].value) if common else "",
                   tuple(str(a.value) for a in
                         name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)))


@dataclass(frozen=True, slots=True)
class AltNames:
    """A serving certificate's subject alternative names."""

    dns_names: tuple[str, ...] = ()
    ips: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...] = ()

    @classmethod
    def parse(cls, names: Iterable[str]) -> AltNames:
        """Each name as an IP address when it is one, else as a DNS name (k3s addSANs);
        duplicates dropped, order kept."""
        dns: list[str] = []
        ips: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
        for name in names:
            name = name.strip()
            if not name:
                continue
            try:
                ip = ipaddress.ip_address(name.strip("[]"))
            except ValueError:
                if name not in dns:
                    dns.append(name)
                continue
            if ip not in ips:
                ips.append(ip)
        return cls(tuple(dns), tuple(ips))

    @classmethod
    def of(cls, certificate: x509.Certificate) -> AltNames:
        try:
            san = certificate.extensions.get_extension_for_class(
                x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return cls()
        return cls(tuple(san.get_values_for_type(x509.DNSName)),
                   tuple(ip for ip in san.get_values_for_type(x509.IPAddress)
                         if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address))))

    def covers(self, other: AltNames) -> bool:
        return set(other.dns_names) <= set(self.dns_names) and set(other.ips) <= set(self.ips)

    def extension(self) -> x509.SubjectAlternativeName:
        general: list[x509.GeneralName] = [x509.DNSName(n) for n in self.dns_names]
        general += [x509.IPAddress(ip) for ip in self.ips]
        return x509.SubjectAlternativeName(general)


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: PrivateKey

    @classmethod
    def create(cls, prefix: str, *, now: datetime.datetime, key: PrivateKey | None = None,
               validity: datetime.timedelta = CA_VALIDITY) -> CertificateAuthority:
        """A self-signed CA; `key` keeps an existing key (a lost CA certificate is
        made again for the same key, so the leaves it signed stay valid)."""
        key = key or new_key()
        name = x509.Name([x509.NameAttribute(
            NameOID.COMMON_NAME, f"{prefix}-ca@{int(now.timestamp())}")])
        public = key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(public)
            .serial_number(_serial())
            .not_valid_before(now - BACKDATE).not_valid_after(now + validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256()))
        return cls(certificate, key)

    def issue(self, public_key: PublicKey, subject: Subject, *, usages: Sequence[str],
              now: datetime.datetime, alt_names: AltNames | None = None,
              validity: datetime.timedelta = LEAF_VALIDITY) -> x509.Certificate:
        """A leaf certificate for `public_key` naming `subject`, for `usages`
        (CLIENT_AUTH, SERVER_AUTH), never valid past this CA."""
        unknown = [u for u in usages if u not in _EXTENDED_USAGES]
        if unknown or not usages:
            raise ValueError(f"unsupported key usages {unknown or list(usages)}; "
                             f"expected some of {sorted(_EXTENDED_USAGES)}")
        not_after = min(now + validity, self.certificate.not_valid_after_utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject.to_name()).issuer_name(self.certificate.subject)
            .public_key(public_key).serial_number(_serial())
            .not_valid_before(now - BACKDATE).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([_EXTENDED_USAGES[u] for u in usages]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False))
        if alt_names is not None and (alt_names.dns_names or alt_names.ips):
            builder = builder.add_extension(alt_names.extension(), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def issued(self, certificate: x509.Certificate) -> bool:
        """Whether this CA signed `certificate` (by key identifier, as k3s compares)."""
        try:
            authority = certificate.extensions.get_extension_for_class(
                x509.AuthorityKeyIdentifier).value.key_identifier
        except x509.ExtensionNotFound:
            return False
        own = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()).digest
        return authority == own


def request_public_key(csr_pem: bytes) -> tuple[PublicKey, Subject]:
    """The public key and subject of a PEM certificate signing request whose own
    signature checks out: what the CSR signing controller signs for."""
    try:
        request = x509.load_pem_x509_csr(csr_pem)
    except ValueError as err:
        raise InvalidRequest(f"not a PEM certificate request: {err}") from None
    if not request.is_signature_valid:
        raise InvalidRequest("the request's signature does not match its public key")
    key = request.public_key()
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise InvalidRequest("only ECDSA and RSA keys are signed")
    common = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return key, Subject(str(common[0].value) if common else "",
                        tuple(str(o.value) for o in orgs))


def expires_within(certificate: x509.Certificate, window: datetime.timedelta, *,
                   now: datetime.datetime) -> bool:
    """Whether the certificate is past, or within `window` of, its end (certutil's
    IsCertExpired with k3s's renewal days)."""
    return certificate.not_valid_after_utc - window <= now


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def load_certificate(pem: bytes) -> x509.Certificate:
    """The first certificate of a PEM file (a chain file begins with its leaf)."""
    return x509.load_pem_x509_certificates(pem)[0]


def load_key(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an ECDSA private key")
    return key


def _serial() -> int:
    # 63 random bits: positive, unique enough, as Go's crypto/x509 examples use.
    return secrets.randbits(63) | 1


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_encipherment=not ca,
                         key_cert_sign=ca, content_commitment=False,
                         data_encipherment=False, key_agreement=False, crl_sign=False,
                         encipher_only=False, decipher_only=False)
