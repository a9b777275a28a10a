"""CertificateSigningRequest rules against upstream's validation outcomes, and who a
request is stamped with, through a real server."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.registry.strategies import STRATEGIES
from kubelite.apiserver.registry.strategies.csrvalidation import validate_csr, validate_csr_update
from tests.csr import csr_object, new_key, request_pem

CSR = STRATEGIES[("certificates.k8s.io", "certificatesigningrequests")]
PEM = request_pem(new_key(), "jane", ("dev",))
CLIENT = "kubernetes.io/kube-apiserver-client"
Obj = dict[str, Any]


def _tampered(pem: bytes) -> bytes:
    body = bytearray(pem)
    at = body.index(b"\n-----END") - 8
    body[at] = ord("A") if body[at] != ord("A") else ord("B")
    return bytes(body)


def csr(pem: bytes = PEM, signer: str = CLIENT, usages: list[str] | None = None,
        conditions: list[Obj] | None = None, **spec: Any) -> Obj:
    obj = csr_object("req", pem, signer, ["client auth"] if usages is None else usages, **spec)
    if conditions is not None:
        obj["status"] = {"conditions": conditions}
    return obj


APPROVED = {"type": "Approved", "status": "True"}
DENIED = {"type": "Denied", "status": "True"}


@pytest.mark.parametrize(("obj", "expected"), [
    (csr(), []),
    (csr(pem=b"hello"), [("spec.request", "PEM block type must be CERTIFICATE REQUEST")]),
    (csr(pem=_tampered(PEM)), [("spec.request",
                                "the request's signature does not match its public key")]),
    (csr(usages=[]), [("spec.usages", "Required value")]),
    (csr(usages=["client auth", "bogus"]), [("spec.usages[1]", 'Unsupported value: "bogus"')]),
    (csr(usages=["client auth", "client auth"]),
     [("spec.usages[1]", 'Duplicate value: "client auth"')]),
    (csr(signer="kubernetes.io/legacy-unknown"),
     [("spec.signerName", "the legacy signerName is not allowed via this API version")]),
    (csr(signer="kubernetes.io"), [("spec.signerName", "must be a fully qualified domain "
                                    "and path of the form 'example.com/signer-name'")]),
    (csr(signer="example/signer"), [("spec.signerName", "should be a domain with at least "
                                     "two segments separated by dots")]),
    (csr(signer=""), [("spec.signerName", "Required value")]),
    (csr(expirationSeconds=599), [("spec.expirationSeconds", "may not specify a duration "
                                   "less than 600 seconds (10 minutes)")]),
    (csr(expirationSeconds=600), []),
    (csr(conditions=[APPROVED, DENIED]),
     [("status.conditions", "Approved and Denied conditions are mutually exclusive")]),
    (csr(conditions=[{"type": "Approved", "status": "False"}]),
     [("status.conditions[0].status", 'Unsupported value: "False"')]),
    (csr(conditions=[{"type": "Ready", "status": "False"}]), []),
    (csr(conditions=[{"type": "", "status": "True"}]),
     [("status.conditions[0].type", "Required value")]),
    (csr(conditions=[APPROVED, APPROVED]),
     [("status.conditions[1].type", 'Duplicate value: "Approved"')]),
], ids=["valid", "not-pem", "bad-signature", "no-usages", "unknown-usage", "duplicate-usage",
        "legacy-signer", "signer-without-path", "signer-single-label", "signer-missing",
        "expiration-too-short", "expiration-ten-minutes", "approved-and-denied",
        "approved-false", "other-condition-any-status", "condition-without-type",
        "duplicate-condition"])
def test_validation_matches_upstream(obj: Obj, expected: list[tuple[str, str]]) -> None:
    causes = validate_csr(obj)
    assert len(causes) == len(expected), [c.message for c in causes]
    for cause, (field, words) in zip(causes, expected):
        assert cause.field == field
        assert words in cause.message


@pytest.mark.parametrize(("certificate", "words"), [
    (b"junk", "must contain at least one CERTIFICATE PEM block"),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
     'only CERTIFICATE PEM blocks are allowed, found "PRIVATE KEY"'),
], ids=["no-block", "other-block"])
def test_a_certificate_must_be_pem_certificates(certificate: bytes, words: str) -> None:
    obj = csr()
    obj["status"] = {"certificate": base64.b64encode(certificate).decode()}
    [cause] = validate_csr(obj)
    assert (cause.field, words in cause.message) == ("status.certificate", True)


@pytest.mark.parametrize(("old", "new", "where", "expected"), [
    ([APPROVED], [], "approval", 'updates may not remove a condition of type "Approved"'),
    ([], [APPROVED], "main", 'updates may not add a condition of type "Approved"'),
    ([], [APPROVED], "status", 'updates may not add a condition of type "Approved"'),
    ([], [APPROVED], "approval", None),
    ([{**DENIED, "reason": "A"}], [{**DENIED, "reason": "B"}], "main",
     'updates may not modify a condition of type "Denied"'),
    ([{"type": "Failed", "status": "True"}], [], "status",
     'updates may not remove a condition of type "Failed"'),
], ids=["remove-approved", "main-adds-approved", "status-adds-approved",
        "approval-adds-approved", "main-changes-denied", "status-removes-failed"])
def test_which_endpoint_may_change_which_condition(old: list[Obj], new: list[Obj], where: str,
                                                   expected: str | None) -> None:
    causes = validate_csr_update(csr(conditions=new), csr(conditions=old),
                                 set_approval=where == "approval",
                                 set_certificate=where == "status")
    assert [c.message.split(": ", 1)[-1] for c in causes] == ([expected] if expected else [])


def test_a_certificate_is_set_once_and_only_through_status() -> None:
    issued = csr()
    issued["status"] = {"certificate": base64.b64encode(b"x").decode()}
    again = csr()
    again["status"] = {"certificate": base64.b64encode(b"y").decode()}
    assert [c.message for c in validate_csr_update(issued, csr())] == [
        "Forbidden: updates may not set certificate content"]
    assert validate_csr_update(issued, csr(), set_certificate=True) == []
    assert [c.message for c in validate_csr_update(again, issued, set_certificate=True)] == [
        "Forbidden: updates may not modify existing certificate content"]


def test_create_stamps_the_requesting_user_over_what_the_client_sent() -> None:
    obj = csr(username="root", groups=["system:masters"])
    CSR.prepare_for_create(obj)
    CSR.prepare_for_create_by(obj, UserInfo("jane", "42", ("dev", "system:authenticated"),
                                            {"scopes": ("a",)}))
    assert {k: obj["spec"].get(k) for k in ("username", "uid", "groups", "extra")} == {
        "username": "jane", "uid": "42", "groups": ["dev", "system:authenticated"],
        "extra": {"scopes": ["a"]}}
    assert obj["status"] == {}


def test_updates_keep_spec_and_the_subresources_their_parts() -> None:
    old = csr(conditions=[APPROVED])
    old["spec"]["username"] = "jane"
    changed = csr(conditions=[APPROVED, DENIED], usages=["server auth"])
    CSR.prepare_for_update(changed, old)
    assert changed["spec"] == old["spec"] and changed["status"] == old["status"]
    status = CSR.subresource_strategies()["status"]
    signed = csr(conditions=[{"type": "Failed", "status": "True"}], usages=["server auth"])
    status.prepare_for_update(signed, old)
    # the signer cannot drop the approval nor change the spec; times are filled
    assert [c["type"] for c in signed["status"]["conditions"]] == ["Failed", "Approved"]
    assert signed["spec"] == old["spec"]
    assert all(c["lastUpdateTime"] and c["lastTransitionTime"]
               for c in signed["status"]["conditions"])
