"""CertificateSigningRequests (certificates.k8s.io/v1), as upstream's
pkg/registry/certificates/certificates/strategy.go.

- create: status is cleared and spec.username, uid, groups and extra are the
  requesting user's, whatever the client sent: the signers and approvers trust them.
- update: only metadata changes (spec and status are kept).
- `status`: spec is kept and the Approved and Denied conditions are put back as they
  were (adding or removing one there is a validation error); status.certificate may be
  set once.
- `approval`: spec and status.certificate are kept; conditions change.
- on both subresources a condition without lastUpdateTime gets now, and one without
  lastTransitionTime keeps the old one's of its type if the status did not change.

Rules and messages: csrvalidation.py. Admission refuses kube-apiserver-client
requests in system:masters (admission/certificate_subject.py); upstream's
CertificateApproval (`approve` on `signers` for /approval) and CertificateSigning
(`sign` for status.certificate) need an authorizer and are not here yet.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.registry.strategy import DefaultStrategy, StatusStrategy, Strategy
from kubelite.machinery.errors import Cause
from kubelite.machinery.timestamps import now_rfc3339

from .csrvalidation import APPROVED, DENIED, conditions_of, validate_csr, validate_csr_update

Obj = dict[str, Any]


class CertificateSigningRequestStrategy(DefaultStrategy):
    has_status = True
    initial_status = {}

    def subresource_strategies(self) -> dict[str, Strategy]:
        return {"status": CertificateStatusStrategy(self),
                "approval": CertificateApprovalStrategy(self)}

    def validate_name(self, name: str, prefix: bool = False) -> list[str]:
        return []  # upstream does not care what requests are called (kubelet: node-csr-<b64>)

    def prepare_for_create_by(self, csr: Obj, user: UserInfo | None) -> None:
        spec = csr.setdefault("spec", {})
        for key in ("username", "uid", "groups", "extra"):
            spec.pop(key, None)
        if user is None:
            return
        spec["username"] = user.name
        if user.uid:
            spec["uid"] = user.uid
        if user.groups:
            spec["groups"] = list(user.groups)
        if user.extra:
            spec["extra"] = {key: list(values) for key, values in user.extra.items()}

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        new["spec"] = old.get("spec") or {}

    def default(self, csr: Obj) -> None:
        for condition in (csr.get("status") or {}).get("conditions") or []:
            if isinstance(condition, dict) and not condition.get("status"):
                condition["status"] = "True"

    def validate(self, csr: Obj) -> list[Cause]:
        return validate_csr(csr)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return validate_csr_update(new, old)


class CertificateStatusStrategy(StatusStrategy):
    """certificatesigningrequests/status: the signer's endpoint."""

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        status = new.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or []
                      if c.get("type") not in (APPROVED, DENIED)]
        # the old Approved and Denied conditions after the rest (preserveConditionInstances)
        status["conditions"] = conditions + conditions_of(old, APPROVED) + conditions_of(
            old, DENIED)
        if not status["conditions"]:
            del status["conditions"]
        _stamp_condition_times(new, old)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return validate_csr_update(new, old, set_certificate=True)


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
        _stamp_condition_times(new, old)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return validate_csr_update(new, old, set_approval=True)


def _stamp_condition_times(new: Obj, old: Obj) -> None:
    """upstream's populateConditionTimestamps."""
    now = now_rfc3339()
    for condition in (new.get("status") or {}).get("conditions") or []:
        if not condition.get("lastUpdateTime"):
            condition["lastUpdateTime"] = now
        if condition.get("lastTransitionTime"):
            continue
        before = [c for c in conditions_of(old, condition.get("type") or "")
                  if c.get("status") == condition.get("status")]
        condition["lastTransitionTime"] = (before[0].get("lastTransitionTime") or now
                                           if before else now)
