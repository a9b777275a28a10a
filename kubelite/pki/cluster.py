"""The cluster's certificates under `<data-dir>/tls`, named as k3s names them.

    server-ca.crt/.key              signs the API server's serving certificate
    client-ca.crt/.key              signs client certificates; the server trusts it
    request-header-ca.crt/.key      signs the front proxy's client certificate
    serving-kube-apiserver.crt/.key the API server's TLS certificate (SANs below)
    client-admin.crt/.key           system:admin in system:masters (the admin kubeconfig)
    client-controller.crt/.key      system:kube-controller-manager
    client-scheduler.crt/.key       system:kube-scheduler
    client-kube-apiserver.crt/.key  system:apiserver in system:masters
    client-auth-proxy.crt/.key      system:auth-proxy, by the request-header CA
    client-kube-apiserver-kubelet.crt/.key
                                    kube-apiserver-kubelet-client: the API server to kubelets

Guarantees:
- A CA is made once and kept: a restart, `ensure` or `rotate` never replaces one, so
  every kubeconfig and every certificate it signed stays valid. A CA whose key is
  missing or unreadable stops the start with the file's name (a new CA would silently
  orphan everything signed before).
- A leaf is (re)issued when it is missing or unreadable, expires within
  RENEW_WITHIN (90 days, k3s's CertificateRenewDays), names another subject, lacks a
  wanted SAN, or was signed by another CA; `rotate` reissues every leaf now.
- Every file is written 0600 through a temporary file and a rename, in a 0700
  folder, so a reader never sees half a key.
- The ServiceAccount signing key (`service.key`) is not made here.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from kubelite.pki.certs import (
    CLIENT_AUTH,
    SERVER_AUTH,
    AltNames,
    CertificateAuthority,
    Subject,
    certificate_pem,
    expires_within,
    key_pem,
    load_certificate,
    load_key,
    new_key,
)

RENEW_WITHIN = datetime.timedelta(days=90)

SERVER_CA = "server-ca"
CLIENT_CA = "client-ca"
REQUEST_HEADER_CA = "request-header-ca"
_CA_PREFIXES = {SERVER_CA: "kubelite-server", CLIENT_CA: "kubelite-client",
                REQUEST_HEADER_CA: "kubelite-request-header"}

# upstream's user.SystemPrivilegedGroup, said again to keep this package below the
# API server
_MASTERS = "system:masters"


@dataclass(frozen=True, slots=True)
class Leaf:
    name: str  # the files' stem
    ca: str
    subject: Subject
    usage: str


SERVING = Leaf("serving-kube-apiserver", SERVER_CA, Subject("kube-apiserver"), SERVER_AUTH)
ADMIN = Leaf("client-admin", CLIENT_CA, Subject("system:admin", (_MASTERS,)), CLIENT_AUTH)
# how the API server proves itself to kubelets (logs, exec, port-forward), named as
# kubeadm names its apiserver-kubelet-client; RBAC binds it to system:kubelet-api-admin
KUBELET_CLIENT = Leaf("client-kube-apiserver-kubelet", CLIENT_CA,
                      Subject("kube-apiserver-kubelet-client"), CLIENT_AUTH)
LEAVES = (
    SERVING,
    ADMIN,
    Leaf("client-controller", CLIENT_CA, Subject("system:kube-controller-manager"),
         CLIENT_AUTH),
    Leaf("client-scheduler", CLIENT_CA, Subject("system:kube-scheduler"), CLIENT_AUTH),
    Leaf("client-kube-apiserver", CLIENT_CA, Subject("system:apiserver", (_MASTERS,)),
         CLIENT_AUTH),
    Leaf("client-auth-proxy", REQUEST_HEADER_CA, Subject("system:auth-proxy"), CLIENT_AUTH),
    KUBELET_CLIENT,
)


def serving_alt_names(*, bind_address: str, service_cidr: str, extra: list[str],
                      host_name: str | None = None,
                      cluster_domain: str = "cluster.local") -> AltNames:
    """The API server's SANs: loopback, the host name, the bind address (unless it is
    every address), the `kubernetes` Service's ClusterIP and DNS names, then `--tls-san`."""
    names = ["localhost", "127.0.0.1", "::1", host_name or socket.gethostname()]
    try:
        if not ipaddress.ip_address(bind_address).is_unspecified:
            names.append(bind_address)
    except ValueError:
        names.append(bind_address)  # a host name
    for cidr in service_cidr.split(","):
        if cidr.strip():
            network = ipaddress.ip_network(cidr.strip(), strict=False)
            names.append(str(network.network_address + 1))
    names += ["kubernetes", "kubernetes.default", "kubernetes.default.svc",
              f"kubernetes.default.svc.{cluster_domain}"]
    return AltNames.parse([*names, *extra])


class ClusterTLS:
    """The certificate files of one data dir: `ClusterTLS(data_dir / "tls")`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def cert_path(self, name: str) -> Path:
        return self.directory / f"{name}.crt"

    def key_path(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    def ensure(self, alt_names: AltNames | None, *, now: datetime.datetime,
               renew_within: datetime.timedelta = RENEW_WITHIN,
               force: bool = False) -> list[str]:
        """Make what is missing and renew what is due; the names of the leaves issued.
        `alt_names`: what the serving certificate must name (None: what it names now).
        `force`: reissue every leaf."""
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        authorities = {name: self._authority(name, now) for name in _CA_PREFIXES}
        issued = []
        for leaf in LEAVES:
            ca = authorities[leaf.ca]
            wanted = (alt_names if leaf is SERVING else None)
            current = self._read_leaf(leaf)
            if leaf is SERVING and wanted is None:
                wanted = AltNames.of(current) if current is not None else AltNames()
            if not force and current is not None and not _due(
                    current, leaf, ca, wanted, now, renew_within):
                continue
            key = new_key()
            certificate = ca.issue(key.public_key(), leaf.subject, usages=(leaf.usage,),
                                   now=now, alt_names=wanted)
            _write(self.key_path(leaf.name), key_pem(key))
            _write(self.cert_path(leaf.name), certificate_pem(certificate))
            issued.append(leaf.name)
        return issued

    def rotate(self, *, now: datetime.datetime) -> list[str]:
        """Reissue every leaf now, keeping the CAs and the serving certificate's names."""
        missing = [str(self.cert_path(ca)) for ca in _CA_PREFIXES
                   if not self.cert_path(ca).exists()]
        if missing:
            raise FileNotFoundError(f"no cluster CA at {', '.join(missing)}: start the "
                                    f"server once to make them")
        return self.ensure(None, now=now, force=True)

    def authority(self, ca: str) -> CertificateAuthority:
        """A CA made already, with its key: what a signer (the CSR signing controller)
        signs with. OSError or ValueError when it is missing or unreadable."""
        return CertificateAuthority(load_certificate(self.cert_path(ca).read_bytes()),
                                    load_key(self.key_path(ca).read_bytes()))

    def ca_pem(self, ca: str = SERVER_CA) -> bytes:
        return self.cert_path(ca).read_bytes()

    def credentials(self, leaf: Leaf) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) of a leaf."""
        return self.cert_path(leaf.name).read_bytes(), self.key_path(leaf.name).read_bytes()

    def server_context(self) -> ssl.SSLContext:
        """The API server's TLS: its serving certificate, and client certificates
        asked for but optional (token clients send none), verified against the
        client CA when sent."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path(SERVING.name), self.key_path(SERVING.name))
        context.load_verify_locations(cadata=self.ca_pem(CLIENT_CA).decode())
        context.verify_mode = ssl.CERT_OPTIONAL
        context.set_alpn_protocols(["http/1.1"])
        return context

    def kubelet_client_context(self) -> ssl.SSLContext:
        """The API server's TLS towards kubelets: its kubelet client certificate; the
        kubelets' serving certificates are not checked (upstream's default without
        --kubelet-certificate-authority: kubelets serve self-signed ones)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.load_cert_chain(self.cert_path(KUBELET_CLIENT.name),
                                self.key_path(KUBELET_CLIENT.name))
        return context

    def _authority(self, name: str, now: datetime.datetime) -> CertificateAuthority:
        cert_path, key_path = self.cert_path(name), self.key_path(name)
        if not key_path.exists():
            if cert_path.exists():
                raise ValueError(f"{cert_path} exists without its key {key_path}: remove "
                                 f"the certificate to make a new CA (every certificate "
                                 f"it signed stops working)")
            authority = CertificateAuthority.create(_CA_PREFIXES[name], now=now)
            _write(key_path, key_pem(authority.key))
            _write(cert_path, certificate_pem(authority.certificate))
            return authority
        try:
            key = load_key(key_path.read_bytes())
        except ValueError as err:
            raise ValueError(f"{key_path}: {err}") from None
        if not cert_path.exists():
            authority = CertificateAuthority.create(_CA_PREFIXES[name], now=now, key=key)
            _write(cert_path, certificate_pem(authority.certificate))
            return authority
        try:
            return CertificateAuthority(load_certificate(cert_path.read_bytes()), key)
        except ValueError as err:
            raise ValueError(f"{cert_path}: {err}") from None

    def _read_leaf(self, leaf: Leaf) -> x509.Certificate | None:
        try:
            certificate = load_certificate(self.cert_path(leaf.name).read_bytes())
            load_key(self.key_path(leaf.name).read_bytes())
        except (OSError, ValueError):
            return None  # missing or unreadable: issued again
        return certificate


def _due(current: x509.Certificate, leaf: Leaf, ca: CertificateAuthority,
         wanted: AltNames | None, now: datetime.datetime,
         renew_within: datetime.timedelta) -> bool:
    return (expires_within(current, renew_within, now=now)
            or Subject.of(current) != leaf.subject
            or not ca.issued(current)
            or (wanted is not None and not AltNames.of(current).covers(wanted)))


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)
