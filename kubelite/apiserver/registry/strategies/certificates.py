"""CertificateSigningRequests (certificates.k8s.io/v1).

A CSR needs a PEM "CERTIFICATE REQUEST", a signerName and usages. Its status changes
through `status` (the certificate) and `approval` (the conditions) subresources; the
approval strategy keeps everything but status.conditions. Setting spec.username and
groups from the requesting user needs the request's identity and is the store's job.
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from kubelite.apiserver.registry.strategy import DefaultStrategy, StatusStrategy, Strategy
from kubelite.machinery.errors import Cause

from .causes import invalid, required

Obj = dict[str, Any]


class CertificateSigningRequestStrategy(DefaultStrategy):
    has_status = True
    initial_status = {}

    def subresource_strategies(self) -> dict[str, Strategy]:
        return {"status": StatusStrategy(self), "approval": CertificateApprovalStrategy(self)}

    def validate(self, csr: Obj) -> list[Cause]:
        spec = csr.get("spec") or {}
        causes: list[Cause] = []
        request = spec.get("request") or ""
        if not request:
            causes.append(required("spec.request"))
        else:
            try:
                pem = base64.b64decode(request, validate=True).decode("ascii", "replace")
            except (binascii.Error, ValueError):
                pem = ""
            if "-----BEGIN CERTIFICATE REQUEST-----" not in pem:
                causes.append(invalid("spec.request", request,
                                      "PEM block type must be CERTIFICATE REQUEST"))
        if not spec.get("signerName"):
            causes.append(required("spec.signerName"))
        if not spec.get("usages"):
            causes.append(required("spec.usages"))
        return causes


class CertificateApprovalStrategy(StatusStrategy):
    """certificatesigningrequests/approval: only status.conditions change."""

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        conditions = (new.get("status") or {}).get("conditions")
        super().prepare_for_update(new, old)
        status = copy.deepcopy(old.get("status") or {})
        if conditions:
            status["conditions"] = conditions
        else:
            status.pop("conditions", None)
        new["status"] = status
