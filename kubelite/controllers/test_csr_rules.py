"""The kubernetes.io signers' rules, with upstream's cases and messages
(pkg/apis/certificates/helpers_test.go, signer_test.go)."""

from __future__ import annotations

import datetime

import pytest

from kubelite.controllers.csr_rules import (
    KUBE_APISERVER_CLIENT,
    KUBELET_CLIENT,
    KUBELET_SERVING,
    SignerRuleError,
    check_request,
    is_approved,
    signed_validity,
)
from kubelite.pki.requests import parse_request
from tests.csr import new_key, request_pem

KEY = new_key()
NODE = ("system:node:n1", ("system:nodes",))
CLIENT_USAGES = ["digital signature", "key encipherment", "client auth"]
SERVING_USAGES = ["digital signature", "key encipherment", "server auth"]


def check(signer: str, usages: list[str], cn: str, orgs: tuple[str, ...],
          **sans: tuple[str, ...]) -> str | None:
    try:
        check_request(signer, parse_request(request_pem(KEY, cn, orgs, **sans)), usages)
    except SignerRuleError as err:
        return str(err)
    return None


@pytest.mark.parametrize(("signer", "usages", "subject", "sans", "expected"), [
    (KUBELET_CLIENT, CLIENT_USAGES, NODE, {}, None),
    (KUBELET_CLIENT, ["digital signature", "client auth"], NODE, {}, None),
    (KUBELET_CLIENT, CLIENT_USAGES, ("system:node:n1", ()), {},
     "subject organization is not system:nodes"),
    (KUBELET_CLIENT, CLIENT_USAGES, ("system:node:n1", ("system:nodes", "x")), {},
     "subject organization is not system:nodes"),
    (KUBELET_CLIENT, CLIENT_USAGES, ("n1", ("system:nodes",)), {},
     "subject common name does not begin with system:node:"),
    (KUBELET_CLIENT, CLIENT_USAGES, NODE, {"dns": ("n1",)}, "DNS subjectAltNames are not allowed"),
    (KUBELET_CLIENT, CLIENT_USAGES, NODE, {"ips": ("10.0.0.1",)},
     "IP subjectAltNames are not allowed"),
    (KUBELET_CLIENT, CLIENT_USAGES, NODE, {"emails": ("a@b.c",)},
     "Email subjectAltNames are not allowed"),
    (KUBELET_CLIENT, ["client auth"], NODE, {},
     "usages did not match [client auth digital signature key encipherment]"),
    (KUBELET_SERVING, SERVING_USAGES, NODE, {"dns": ("n1",)}, None),
    (KUBELET_SERVING, ["digital signature", "server auth"], NODE, {"ips": ("10.0.0.1",)}, None),
    (KUBELET_SERVING, SERVING_USAGES, NODE, {}, "DNS or IP subjectAltName is required"),
    (KUBELET_SERVING, SERVING_USAGES, NODE, {"dns": ("n1",), "emails": ("a@b.c",)},
     "Email subjectAltNames are not allowed"),
    (KUBELET_SERVING, CLIENT_USAGES, NODE, {"dns": ("n1",)},
     "usages did not match [digital signature key encipherment server auth]"),
    (KUBELET_SERVING, SERVING_USAGES, ("n1", ("system:nodes",)), {"dns": ("n1",)},
     "subject common name does not begin with system:node:"),
    (KUBE_APISERVER_CLIENT, ["client auth"], ("jane", ("dev",)), {}, None),
    (KUBE_APISERVER_CLIENT, CLIENT_USAGES, ("jane", ()), {"dns": ("x",)}, None),
    (KUBE_APISERVER_CLIENT, ["client auth", "server auth"], ("jane", ()), {},
     "invalid usage for client certificate: server auth"),
    (KUBE_APISERVER_CLIENT, ["digital signature"], ("jane", ()), {},
     "missing required usage for client certificate: client auth"),
    ("example.com/other", ["client auth"], ("jane", ()), {},
     'unrecognized signerName: "example.com/other"'),
], ids=["kubelet-client", "kubelet-client-no-encipherment", "kubelet-client-no-org",
        "kubelet-client-two-orgs", "kubelet-client-not-node", "kubelet-client-dns",
        "kubelet-client-ip", "kubelet-client-email", "kubelet-client-usages",
        "serving", "serving-ip-no-encipherment", "serving-no-san", "serving-email",
        "serving-usages", "serving-not-node", "client", "client-any-subject",
        "client-server-usage", "client-without-client-auth", "other-signer"])
def test_signer_rules(signer: str, usages: list[str], subject: tuple[str, tuple[str, ...]],
                      sans: dict[str, tuple[str, ...]], expected: str | None) -> None:
    assert check(signer, usages, subject[0], subject[1], **sans) == expected


YEAR = datetime.timedelta(days=365)


@pytest.mark.parametrize(("expiration", "cluster", "expected"), [
    (None, YEAR, YEAR - datetime.timedelta(minutes=5)),
    (3600, YEAR, datetime.timedelta(hours=1)),
    (60, YEAR, datetime.timedelta(minutes=10)),
    (10 * YEAR.days * 86400, YEAR, YEAR - datetime.timedelta(minutes=5)),
    (7200, datetime.timedelta(hours=1), datetime.timedelta(hours=1)),
], ids=["cluster-duration", "asked-shorter", "raised-to-ten-minutes", "capped",
        "short-cluster-duration"])
def test_certificate_lifetime(expiration: int | None, cluster: datetime.timedelta,
                              expected: datetime.timedelta) -> None:
    assert signed_validity(expiration, cluster) == expected


@pytest.mark.parametrize(("conditions", "approved"), [
    ([], False),
    ([{"type": "Approved", "status": "True"}], True),
    ([{"type": "Approved", "status": "True"}, {"type": "Denied", "status": "True"}], False),
    ([{"type": "Denied", "status": "True"}], False),
], ids=["pending", "approved", "approved-and-denied", "denied"])
def test_approved_means_approved_and_not_denied(conditions: list[dict[str, str]],
                                                approved: bool) -> None:
    assert is_approved({"status": {"conditions": conditions}}) is approved
