"""CertificateSigningRequest validation, as upstream's pkg/apis/certificates/validation.

A CSR is valid when spec.request is a PEM CERTIFICATE REQUEST whose signature holds,
spec.usages is non-empty, known and without duplicates, spec.signerName is a qualified
`domain/path` (and not `kubernetes.io/legacy-unknown`, which certificates/v1 refuses),
spec.expirationSeconds is at least 600, its conditions have a type and a status (True
alone for Approved, Denied and Failed; Approved and Denied never both) and
status.certificate holds only PEM CERTIFICATE blocks.

An update may not remove an Approved, Denied or Failed condition; only the approval
subresource may add or change Approved and Denied, and only the status subresource may
set status.certificate, once. Upstream tolerates, on updates, what an old object
already breaks (requests stored through certificates/v1beta1); kubelite serves only
v1 and stores no such object, so every write is held to the full rules.

Whether a request fits its signer (a kubelet client certificate names system:node:...)
is no validation upstream: the signing controller marks such a request Failed.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from cryptography import x509

from kubelite.machinery.errors import Cause
from kubelite.machinery.validation import is_dns1123_label, is_dns1123_subdomain
from kubelite.pki.certs import InvalidRequest
from kubelite.pki.requests import parse_request

from .causes import duplicate, forbidden, invalid, not_supported, required, too_long

Obj = dict[str, Any]

LEGACY_UNKNOWN = "kubernetes.io/legacy-unknown"
APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
_TRUE_ONLY = frozenset({APPROVED, DENIED, FAILED})
_ALL_STATUSES = ("False", "True", "Unknown")

VALID_USAGES = frozenset({
    "signing", "digital signature", "content commitment", "key encipherment",
    "key agreement", "data encipherment", "cert sign", "crl sign", "encipher only",
    "decipher only", "any", "server auth", "client auth", "code signing",
    "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user",
    "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc"})

_PEM_BLOCK = re.compile(rb"-----BEGIN ([^-]*)-----\r?\n(.*?)-----END \1-----", re.S)


def decode_request(spec: Obj) -> bytes | None:
    """spec.request's bytes (base64 in JSON); None when it is no base64."""
    try:
        return base64.b64decode(spec.get("request") or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None


def validate_csr(csr: Obj) -> list[Cause]:
    spec = csr.get("spec") or {}
    causes: list[Cause] = []
    request = spec.get("request") or ""
    error = _request_error(decode_request(spec))
    if error:
        causes.append(invalid("spec.request", request, error))
    usages = spec.get("usages") or []
    if not usages:
        causes.append(required("spec.usages"))
    seen: set[str] = set()
    for i, usage in enumerate(usages):
        if usage not in VALID_USAGES:
            causes.append(not_supported(f"spec.usages[{i}]", usage, sorted(VALID_USAGES)))
        if usage in seen:
            causes.append(duplicate(f"spec.usages[{i}]", usage))
        seen.add(usage)
    signer = spec.get("signerName") or ""
    if signer == LEGACY_UNKNOWN:
        causes.append(invalid("spec.signerName", signer,
                              "the legacy signerName is not allowed via this API version"))
    else:
        causes += validate_signer_name("spec.signerName", signer)
    expiration = spec.get("expirationSeconds")
    if isinstance(expiration, int) and expiration < 600:
        causes.append(invalid("spec.expirationSeconds", expiration,
                              "may not specify a duration less than 600 seconds (10 minutes)"))
    causes += _validate_conditions(csr)
    certificate_error = certificate_pem_error(certificate_bytes(csr))
    if certificate_error:
        causes.append(invalid("status.certificate", "<certificate data>", certificate_error))
    return causes


def validate_csr_update(new: Obj, old: Obj, *, set_approval: bool = False,
                        set_certificate: bool = False) -> list[Cause]:
    """What an update may not do beyond making an invalid object: through the main
    resource (both False), `status` (set_certificate) or `approval` (set_approval)."""
    causes: list[Cause] = []
    for kind in (APPROVED, DENIED, FAILED):
        if len(conditions_of(new, kind)) < len(conditions_of(old, kind)):
            causes.append(forbidden("status.conditions",
                                    f'updates may not remove a condition of type "{kind}"'))
    if not set_approval:
        for kind in (APPROVED, DENIED):
            before, after = conditions_of(old, kind), conditions_of(new, kind)
            if len(after) > len(before):
                causes.append(forbidden("status.conditions",
                                        f'updates may not add a condition of type "{kind}"'))
            elif len(after) == len(before) and after != before:
                causes.append(forbidden("status.conditions",
                                        f'updates may not modify a condition of type "{kind}"'))
    if certificate_bytes(new) != certificate_bytes(old):
        if not set_certificate:
            causes.append(forbidden("status.certificate",
                                    "updates may not set certificate content"))
        elif certificate_bytes(old):
            causes.append(forbidden("status.certificate",
                                    "updates may not modify existing certificate content"))
    return causes


def validate_signer_name(field: str, signer: str) -> list[Cause]:
    """apivalidation.ValidateSignerName: `<domain with a dot>/<path>`."""
    if not signer:
        return [required(field)]
    segments = signer.split("/")
    if len(segments) != 2:
        return [invalid(field, signer, "must be a fully qualified domain and path of the "
                                       "form 'example.com/signer-name'")]
    domain, path = segments
    causes: list[Cause] = []
    if len(domain) > 253:
        causes.append(too_long(field, 253))
    labels = domain.split(".")
    for label in labels:
        errors = is_dns1123_label(label)
        if errors:
            causes += [invalid(field, domain, f'validating label "{label}": {e}')
                       for e in errors]
            break
    if len(labels) < 2:
        causes.append(invalid(field, domain,
                              "should be a domain with at least two segments separated by dots"))
    if len(path) > 253:
        causes.append(too_long(field, 253))
    causes += [invalid(field, path, f"validating path segment: {e}")
               for e in is_dns1123_subdomain(path)]
    return causes


def conditions_of(csr: Obj, kind: str) -> list[Obj]:
    return [c for c in (csr.get("status") or {}).get("conditions") or []
            if c.get("type") == kind]


def certificate_bytes(csr: Obj) -> bytes:
    try:
        return base64.b64decode((csr.get("status") or {}).get("certificate") or "")
    except (binascii.Error, ValueError):
        return b"?"  # not base64: no PEM either


def certificate_pem_error(data: bytes) -> str | None:
    """upstream's validateCertificate: empty, or only well-formed CERTIFICATE blocks."""
    if not data:
        return None
    blocks = 0
    for match in _PEM_BLOCK.finditer(data):
        kind, body = match.group(1).decode("ascii", "replace"), match.group(2)
        if kind != "CERTIFICATE":
            return f'only CERTIFICATE PEM blocks are allowed, found "{kind}"'
        if b":" in body.split(b"\n", 1)[0]:
            return "no PEM block headers are permitted"
        try:
            x509.load_pem_x509_certificate(match.group(0))
        except ValueError as err:
            return f"x509: malformed certificate: {err}"
        blocks += 1
    if blocks == 0:
        return "must contain at least one CERTIFICATE PEM block"
    return None


def _request_error(pem: bytes | None) -> str | None:
    if pem is None:
        return "PEM block type must be CERTIFICATE REQUEST"
    try:
        parse_request(pem)
    except InvalidRequest as err:
        return str(err)
    return None


def _validate_conditions(csr: Obj) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    approved = denied = False
    for i, condition in enumerate((csr.get("status") or {}).get("conditions") or []):
        kind, status = condition.get("type") or "", condition.get("status") or ""
        at = f"status.conditions[{i}]"
        if not kind:
            causes.append(required(f"{at}.type"))
        allowed = ("True",) if kind in _TRUE_ONLY else _ALL_STATUSES
        if not status:
            causes.append(required(f"{at}.status"))
        elif status not in allowed:
            causes.append(not_supported(f"{at}.status", status, allowed))
        approved, denied = approved or kind == APPROVED, denied or kind == DENIED
        if kind in (APPROVED, DENIED) and approved and denied:
            causes.append(invalid("status.conditions", kind,
                                  "Approved and Denied conditions are mutually exclusive"))
        if kind in seen:
            causes.append(duplicate(f"{at}.type", kind))
        seen.add(kind)
    return causes
