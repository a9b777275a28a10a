"""What a PKCS#10 certificate signing request asks for, read once with `cryptography`.

The API server checks a CertificateSigningRequest's `spec.request` with it (a PEM
CERTIFICATE REQUEST whose own signature holds, as upstream's validation does), and the
CSR controllers read the subject and subject alternative names the signers' rules are
about (kubelet client certificates name no SAN, kubelet serving ones need a DNS name
or an IP). `certs.request_public_key` is the signer's view of the same request.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cryptography import x509

from kubelite.pki.certs import AltNames, InvalidRequest, PublicKey, Subject, request_public_key


@dataclass(frozen=True, slots=True)
class SigningRequest:
    public_key: PublicKey
    subject: Subject
    dns_names: tuple[str, ...] = ()
    ips: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...] = ()
    emails: tuple[str, ...] = ()
    uris: tuple[str, ...] = ()

    @property
    def alt_names(self) -> AltNames:
        """The DNS and IP names a signed certificate carries over."""
        return AltNames(self.dns_names, self.ips)


PEM_HEADER = b"-----BEGIN CERTIFICATE REQUEST-----"


def parse_request(pem: bytes) -> SigningRequest:
    """The request in `pem`; InvalidRequest with upstream's words when it is no PEM
    CERTIFICATE REQUEST, does not parse or its signature is bad."""
    first = pem.find(b"-----BEGIN ")
    if first < 0 or not pem.startswith(PEM_HEADER, first):  # the first block decides
        raise InvalidRequest("PEM block type must be CERTIFICATE REQUEST")
    public_key, subject = request_public_key(pem)
    request = x509.load_pem_x509_csr(pem)  # parsed fine just above
    try:
        san = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return SigningRequest(public_key, subject)
    except ValueError as err:  # a malformed extension
        raise InvalidRequest(f"invalid extensions: {err}") from None
    return SigningRequest(
        public_key, subject,
        dns_names=tuple(san.get_values_for_type(x509.DNSName)),
        ips=tuple(ip for ip in san.get_values_for_type(x509.IPAddress)
                  if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address))),
        emails=tuple(san.get_values_for_type(x509.RFC822Name)),
        uris=tuple(san.get_values_for_type(x509.UniformResourceIdentifier)))
