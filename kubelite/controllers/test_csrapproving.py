"""Which requests the CSR approver recognizes, and the review it asks for (upstream's
sarapprove_test.go recognizer cases). The loop itself needs an API server serving
SubjectAccessReviews."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.csrapproving import (
    NODE_CLIENT, SELF_NODE_CLIENT, access_review, pending, recognized)
from tests.csr import csr_object, new_key, request_pem

KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
USAGES = ["digital signature", "key encipherment", "client auth"]


def node_csr(cn: str = "system:node:n1", orgs: tuple[str, ...] = ("system:nodes",),
             username: str = "system:node:n1", signer: str = KUBELET_CLIENT,
             usages: list[str] | None = None, **sans: tuple[str, ...]) -> dict[str, Any]:
    return csr_object("node-csr-x", request_pem(new_key(), cn, orgs, **sans), signer,
                      USAGES if usages is None else usages, username=username,
                      groups=["system:nodes", "system:authenticated"])


@pytest.mark.parametrize(("csr", "permissions"), [
    (node_csr(), ["selfnodeclient", "nodeclient"]),
    (node_csr(username="system:bootstrap:abcdef"), ["nodeclient"]),
    (node_csr(usages=["digital signature", "client auth"]), ["selfnodeclient", "nodeclient"]),
    (node_csr(orgs=()), []),
    (node_csr(cn="n1", username="n1"), []),
    (node_csr(dns=("n1",)), []),
    (node_csr(usages=["client auth"]), []),
    (node_csr(signer="kubernetes.io/kube-apiserver-client"), []),
], ids=["self-renewal", "bootstrap", "no-key-encipherment", "not-system-nodes",
        "not-a-node-name", "with-san", "wrong-usages", "other-signer"])
def test_recognized_kubelet_client_requests(csr: dict[str, Any],
                                            permissions: list[str]) -> None:
    assert [p for p, _ in recognized(csr)] == permissions


def test_the_review_asks_about_the_requestor_as_stamped() -> None:
    review = access_review(node_csr(username="system:bootstrap:abcdef"), "nodeclient")
    assert review == {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": "system:bootstrap:abcdef",
                 "groups": ["system:nodes", "system:authenticated"],
                 "resourceAttributes": {"group": "certificates.k8s.io",
                                        "resource": "certificatesigningrequests",
                                        "verb": "create", "subresource": "nodeclient",
                                        "version": "*"}}}
    assert SELF_NODE_CLIENT[1].startswith("Auto approving self kubelet client certificate")
    assert NODE_CLIENT[1] == ("Auto approving kubelet client certificate after "
                              "SubjectAccessReview.")


@pytest.mark.parametrize(("status", "waiting"), [
    ({}, True),
    ({"conditions": [{"type": "Approved", "status": "True"}]}, False),
    ({"conditions": [{"type": "Denied", "status": "True"}]}, False),
    ({"certificate": "eA=="}, False),
], ids=["pending", "approved", "denied", "issued"])
def test_only_undecided_requests_are_looked_at(status: dict[str, Any], waiting: bool) -> None:
    assert pending({"status": status}) is waiting
