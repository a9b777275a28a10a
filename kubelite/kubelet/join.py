"""A node's way into a cluster with a bootstrap token: kubeadm's discovery, then the
kubelet's TLS bootstrap.

    kubelite agent --server https://10.0.0.1:6443 --token abcdef.0123456789abcdef

1. Discovery (kubeadm's token discovery, cmd/kubeadm/app/discovery/token). The node
   does not trust the server yet, so it reads kube-public/cluster-info without
   verifying the server and without credentials, and believes the CA in it only if
   `jws-kubeconfig-<token id>` is the token's signature over the kubeconfig there (the
   server's bootstrap signer loop signs it; only someone who knows the token can). With
   `--ca-cert-hash sha256:<hex>` the CA's public key must match that pin as well.
   Then it reads cluster-info again, verifying the server against that CA: the server
   holds the CA's certificate's key.
2. TLS bootstrap (the kubelet's pkg/kubelet/certificate/bootstrap): with the token as
   its credential, the node posts a CertificateSigningRequest for
   `system:node:<name>` in `system:nodes` to the kubernetes.io/kube-apiserver-client-kubelet
   signer; the csrapproving loop approves it (the token's group is bound to the
   nodeclient role), csrsigning signs it, and the node keeps the certificate and its
   key. From then on the node is `system:node:<name>` and the token is not used again.

The private key never leaves the node. What a failure says is kubeadm's and the
kubelet's wording where they have one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
from dataclasses import dataclass

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from kubelite.api.bootstrap_token import (
    CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, JWS_PREFIX, KUBECONFIG_KEY, TOKEN_PATTERN,
    signature_holds)
from kubelite.client.rest import Client
from kubelite.client.transport import HTTPTransport
from kubelite.machinery import errors
from kubelite.pki.certs import key_pem, load_certificate, new_key

KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
NODES_GROUP = "system:nodes"


class JoinError(Exception):
    pass


class Unreachable(JoinError):
    """The server did not answer discovery (refused, timed out, an error status): it
    may be starting, or the node's network coming up, so discovery retries, as
    kubeadm's does within its timeout. A certificate that fails verification is not
    this: it fails the join at once."""


class NotSigned(JoinError):
    """cluster-info has no signature for the token: it is unknown, expired, or so new
    that the bootstrap signer has not signed for it yet (so discovery retries)."""


@dataclass(frozen=True)
class NodeCredentials:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def split_token(token: str) -> tuple[str, str]:
    match = TOKEN_PATTERN.match(token)
    if match is None:
        raise JoinError(f"the token {token!r} must be of the form [a-z0-9]{{6}}.[a-z0-9]{{16}}")
    return match.group(1), match.group(2)


def ca_cert_hash(ca_pem: bytes) -> str:
    """kubeadm's pin of a CA: sha256 of its certificate's SubjectPublicKeyInfo."""
    spki = load_certificate(ca_pem).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def _unverified_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _verifying_context(ca_pem: bytes) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca_pem.decode())


async def _cluster_info(server: str, context: ssl.SSLContext, token: str | None = None) -> dict[str, str]:
    client = Client(HTTPTransport(server, ssl_context=context, token=token, timeout=15))
    try:
        configmap = await client.get("configmaps", CLUSTER_INFO_NAME, namespace=CLUSTER_INFO_NAMESPACE)
    except errors.StatusError as err:
        raise Unreachable(f"failed to request the cluster-info ConfigMap: {err}") from err
    except ssl.SSLError as err:
        raise JoinError(f"{server}: {err}") from err
    except OSError as err:
        raise Unreachable(f"cannot reach {server}: {err}") from err
    finally:
        await client.close()
    return dict(configmap.get("data") or {})


def _ca_of(kubeconfig: str) -> bytes:
    try:
        clusters = (yaml.safe_load(kubeconfig) or {}).get("clusters") or []
        return base64.b64decode(clusters[0]["cluster"]["certificate-authority-data"])
    except (yaml.YAMLError, LookupError, TypeError, ValueError) as err:
        raise JoinError(f"the cluster-info kubeconfig holds no CA: {err}") from None


async def discover_ca(server: str, token: str, ca_cert_hashes: tuple[str, ...] = ()) -> bytes:
    """The cluster's CA, trusted because the token signed it (and the pins match)."""
    token_id, token_value = split_token(token)
    data = await _cluster_info(server, _unverified_context())
    content = data.get(KUBECONFIG_KEY)
    if content is None:
        raise JoinError("there is no kubeconfig in the cluster-info ConfigMap")
    signature = data.get(JWS_PREFIX + token_id)
    if signature is None:
        raise NotSigned(f"token id {token_id!r} is invalid for this cluster or it has expired. "
                        "Use \"kubelite token create\" on the server to create a new valid token")
    if not signature_holds(signature, content, token_id, token_value):
        raise JoinError("failed to verify JWS signature of received cluster info object, "
                        "can't trust this API Server")
    ca_pem = _ca_of(content)
    if ca_cert_hashes and ca_cert_hash(ca_pem) not in ca_cert_hashes:
        raise JoinError(f"cluster CA found in cluster-info ConfigMap is invalid: none of the public "
                        f"keys {list(ca_cert_hashes)} are pinned; it is {ca_cert_hash(ca_pem)}")
    # Again, now verifying the server against that CA: it holds the CA's key pair's cert.
    try:
        again = await _cluster_info(server, _verifying_context(ca_pem))
    except Unreachable:
        raise
    except JoinError as err:
        raise JoinError(f"the server at {server} is not the one its cluster-info names: {err}") from None
    if again.get(KUBECONFIG_KEY) != content:
        raise JoinError("cluster-info changed between two reads; try again")
    return ca_pem


def _request_pem(node_name: str) -> tuple[bytes, bytes]:
    key = new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, NODES_GROUP),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node_name}")])
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM), key_pem(key)


async def request_client_certificate(server: str, ca_pem: bytes, token: str, node_name: str, *,
                                     timeout: float = 120.0) -> NodeCredentials:
    """The node's client certificate, from a CSR the bootstrap token posts."""
    request, key = _request_pem(node_name)
    client = Client(HTTPTransport(server, ssl_context=_verifying_context(ca_pem), token=token))
    try:
        csr = await client.create("certificatesigningrequests", {
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"generateName": "node-csr-"},
            "spec": {"request": base64.b64encode(request).decode(),
                     "signerName": KUBELET_CLIENT_SIGNER,
                     "usages": ["digital signature", "client auth"]}})
        name = csr["metadata"]["name"]
        async with asyncio.timeout(timeout):
            certificate = await _signed(client, name)
    except TimeoutError:
        raise JoinError(f"certificate signing request {name} was not signed within {timeout:g}s: "
                        "is the csrapproving loop running, and the token's group bound to "
                        "the nodeclient role?") from None
    except errors.StatusError as err:
        raise JoinError(f"cannot create a certificate signing request: {err}") from err
    finally:
        await client.close()
    return NodeCredentials(ca_pem=ca_pem, cert_pem=certificate, key_pem=key)


async def _signed(client: Client, name: str) -> bytes:
    """Polls the CSR until it carries a certificate, or was denied or failed."""
    delay = 0.1
    while True:
        csr = await client.get("certificatesigningrequests", name)
        status = csr.get("status") or {}
        for condition in status.get("conditions") or ():
            if condition.get("type") in ("Denied", "Failed") and condition.get("status", "True") == "True":
                raise JoinError(f"certificate signing request {name} is {condition['type'].lower()}: "
                                f"{condition.get('reason', '')} {condition.get('message', '')}".rstrip())
        if status.get("certificate"):
            return base64.b64decode(status["certificate"])
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def join(server: str, token: str, node_name: str, *, ca_cert_hashes: tuple[str, ...] = (),
               timeout: float = 120.0) -> NodeCredentials:
    """Discovery, retried while the server does not answer or the token is not signed
    for (as kubeadm retries within its discovery timeout), then the TLS bootstrap."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            ca_pem = await discover_ca(server, token, ca_cert_hashes)
            break
        except (Unreachable, NotSigned):
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(1.0)
    left = max(deadline - asyncio.get_running_loop().time(), 10.0)
    return await request_client_certificate(server, ca_pem, token, node_name, timeout=left)
