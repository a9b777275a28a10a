"""What each kubernetes.io signer signs, and how long for (upstream's
pkg/apis/certificates/helpers.go and pkg/controller/certificates/signer).

- kube-apiserver-client: usages among digital signature, key encipherment and client
  auth, with client auth;
- kube-apiserver-client-kubelet: O=system:nodes alone, CN=system:node:<name>, no SAN,
  usages exactly {digital signature, key encipherment, client auth} or (a key that
  cannot encipher) {digital signature, client auth};
- kubelet-serving: O=system:nodes alone, a DNS or IP SAN and no email or URI, usages
  {digital signature, key encipherment, server auth} or without key encipherment,
  CN=system:node:<name>.

A request that breaks its signer's rules raises SignerRuleError with upstream's message,
which the signing controller writes into a Failed condition. Requests of other signers
are not ours (`SIGNERS`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from kubelite.pki.certs import CLIENT_AUTH, SERVER_AUTH
from kubelite.pki.requests import SigningRequest

Obj = dict[str, Any]

KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
SIGNERS = (KUBE_APISERVER_CLIENT, KUBELET_CLIENT, KUBELET_SERVING)

APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
NODES_GROUP = "system:nodes"
NODE_PREFIX = "system:node:"

DIGITAL_SIGNATURE, KEY_ENCIPHERMENT = "digital signature", "key encipherment"
KUBELET_CLIENT_USAGES = frozenset({DIGITAL_SIGNATURE, KEY_ENCIPHERMENT, CLIENT_AUTH})
KUBELET_SERVING_USAGES = frozenset({DIGITAL_SIGNATURE, KEY_ENCIPHERMENT, SERVER_AUTH})

# upstream's signer: a requested duration under 10 minutes is raised to it; a
# certificate shorter than 8 hours ends `duration` after now, a longer one `duration`
# after its backdated start
MIN_DURATION = datetime.timedelta(minutes=10)
SHORT = datetime.timedelta(hours=8)
BACKDATE = datetime.timedelta(minutes=5)


class SignerRuleError(ValueError):
    """The request is not one its signer signs."""


def check_request(signer: str, request: SigningRequest, usages: Sequence[str]) -> None:
    if signer == KUBE_APISERVER_CLIENT:
        _check_client_usages(usages)
    elif signer == KUBELET_CLIENT:
        check_kubelet_client(request, usages)
    elif signer == KUBELET_SERVING:
        check_kubelet_serving(request, usages)
    else:
        raise SignerRuleError(f'unrecognized signerName: "{signer}"')


def check_kubelet_client(request: SigningRequest, usages: Sequence[str]) -> None:
    """ValidateKubeletClientCSR."""
    if request.subject.organizations != (NODES_GROUP,):
        raise SignerRuleError("subject organization is not system:nodes")
    if request.dns_names:
        raise SignerRuleError("DNS subjectAltNames are not allowed")
    if request.emails:
        raise SignerRuleError("Email subjectAltNames are not allowed")
    if request.ips:
        raise SignerRuleError("IP subjectAltNames are not allowed")
    if request.uris:
        raise SignerRuleError("URI subjectAltNames are not allowed")
    if not request.subject.common_name.startswith(NODE_PREFIX):
        raise SignerRuleError("subject common name does not begin with system:node:")
    if set(usages) not in (KUBELET_CLIENT_USAGES, KUBELET_CLIENT_USAGES - {KEY_ENCIPHERMENT}):
        raise SignerRuleError(f"usages did not match {_go_list(KUBELET_CLIENT_USAGES)}")


def check_kubelet_serving(request: SigningRequest, usages: Sequence[str]) -> None:
    """ValidateKubeletServingCSR."""
    if request.subject.organizations != (NODES_GROUP,):
        raise SignerRuleError("subject organization is not system:nodes")
    if not request.dns_names and not request.ips:
        raise SignerRuleError("DNS or IP subjectAltName is required")
    if request.emails:
        raise SignerRuleError("Email subjectAltNames are not allowed")
    if request.uris:
        raise SignerRuleError("URI subjectAltNames are not allowed")
    if set(usages) not in (KUBELET_SERVING_USAGES,
                           KUBELET_SERVING_USAGES - {KEY_ENCIPHERMENT}):
        raise SignerRuleError(f"usages did not match {_go_list(KUBELET_SERVING_USAGES)}")
    if not request.subject.common_name.startswith(NODE_PREFIX):
        raise SignerRuleError("subject common name does not begin with system:node:")


def _check_client_usages(usages: Sequence[str]) -> None:
    """validAPIServerClientUsages."""
    for usage in usages:
        if usage not in (DIGITAL_SIGNATURE, KEY_ENCIPHERMENT, CLIENT_AUTH):
            raise SignerRuleError(f"invalid usage for client certificate: {usage}")
    if CLIENT_AUTH not in usages:
        raise SignerRuleError(f"missing required usage for client certificate: {CLIENT_AUTH}")


def extended_usages(usages: Sequence[str]) -> list[str]:
    """The extended key usages a certificate gets (digital signature and key
    encipherment are the key usages every leaf carries)."""
    return [u for u in (CLIENT_AUTH, SERVER_AUTH) if u in usages]


def signed_validity(expiration_seconds: int | None,
                    cluster_duration: datetime.timedelta) -> datetime.timedelta:
    """How long after now the certificate ends: spec.expirationSeconds capped by
    --cluster-signing-duration and raised to 10 minutes, then less the backdate for a
    long one (upstream's duration() and PermissiveSigningPolicy)."""
    duration = cluster_duration
    if expiration_seconds is not None:
        duration = max(MIN_DURATION, min(cluster_duration,
                                         datetime.timedelta(seconds=expiration_seconds)))
    return duration if duration < SHORT else duration - BACKDATE


def true_condition(csr: Obj, kind: str) -> Obj | None:
    for condition in (csr.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status", "True") == "True":
            return dict(condition)
    return None


def is_approved(csr: Obj) -> bool:
    """IsCertificateRequestApproved: Approved and not Denied."""
    return true_condition(csr, APPROVED) is not None and true_condition(csr, DENIED) is None


def _go_list(values: frozenset[str]) -> str:
    return "[" + " ".join(sorted(values)) + "]"  # Go's %v of a sorted []string
