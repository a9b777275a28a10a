"""The serving certificate a kubelet makes for itself when it is given none.

Upstream's kubelet, without --tls-cert-file, writes `kubelet.crt` and `kubelet.key`
into its certificate directory: a CA of its own (`<host>-ca@<unix time>`) and a
serving certificate it signs (`<host>@<unix time>`) for the node's names and addresses
(client-go's cert.GenerateSelfSignedCertKey). Callers that verify kubelets need
--kubelet-certificate-authority; the API server and metrics-server by default do
not verify them, and neither does kubelite.

Kept on disk and made again when it is missing, expires within 90 days, or no longer
names every name the node has.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509

from kubelite.pki.certs import (
    SERVER_AUTH, AltNames, CertificateAuthority, Subject, certificate_pem, expires_within,
    key_pem, load_certificate, new_key)

RENEW_WITHIN = datetime.timedelta(days=90)


def _names_of(pem: bytes) -> AltNames | None:
    try:
        certificate = load_certificate(pem)
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    ips = [ip for ip in extension.get_values_for_type(x509.IPAddress)
           if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address))]
    return AltNames(tuple(extension.get_values_for_type(x509.DNSName)), tuple(ips))


def serving_certificate(directory: Path, host: str, names: list[str], *,
                        now: datetime.datetime | None = None) -> tuple[Path, Path]:
    """(certificate chain, key) files for a kubelet serving `host` and `names` (IPs
    or DNS names), made or remade when due."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    cert_path, key_path = directory / "kubelet.crt", directory / "kubelet.key"
    wanted = AltNames.parse([host, *names])
    if cert_path.exists() and key_path.exists():
        pem = cert_path.read_bytes()
        have = _names_of(pem)
        if have is not None and set(wanted.dns_names) <= set(have.dns_names) \
                and set(wanted.ips) <= set(have.ips) \
                and not expires_within(load_certificate(pem), RENEW_WITHIN, now=now):
            return cert_path, key_path
    ca = CertificateAuthority.create(host, now=now)
    key = new_key()
    leaf = ca.issue(key.public_key(), Subject(f"{host}@{int(now.timestamp())}"),
                    usages=[SERVER_AUTH], now=now, alt_names=wanted)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path, data in ((key_path, key_pem(key)),
                       (cert_path, certificate_pem(leaf) + certificate_pem(ca.certificate))):
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.chmod(0o600)
        tmp.replace(path)
    return cert_path, key_path
