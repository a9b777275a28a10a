"""CertificateSubjectRestriction (plugin/pkg/admission/certificates/subjectrestriction
upstream): no CertificateSigningRequest for the kube-apiserver-client signer may ask to
be in system:masters.

A certificate from that signer is a credential the API server trusts (its CA is the
client CA); one naming O=system:masters would pass every authorizer, so whoever may
approve requests could mint an administrator. Checked on create only, as upstream: the
request is immutable afterwards.
"""

from __future__ import annotations

import base64
import binascii
from typing import ClassVar

from kubelite.apiserver.admission.chain import Attributes, Finish, Operation
from kubelite.apiserver.auth.user import SYSTEM_PRIVILEGED_GROUP
from kubelite.pki.certs import InvalidRequest
from kubelite.pki.requests import parse_request

KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"


class CertificateSubjectRestriction:
    name: ClassVar[str] = "CertificateSubjectRestriction"

    def handles(self, attrs: Attributes) -> bool:
        return (attrs.operation is Operation.CREATE and not attrs.subresource
                and attrs.is_resource("certificates.k8s.io", "certificatesigningrequests"))

    async def validate(self, attrs: Attributes) -> Finish | None:
        spec = attrs.obj.get("spec") or {}
        if spec.get("signerName") != KUBE_APISERVER_CLIENT:
            return None
        try:
            request = parse_request(base64.b64decode(spec.get("request") or "", validate=True))
        except (InvalidRequest, binascii.Error, ValueError) as err:
            raise attrs.forbidden(f"unable to parse csr: {err}") from None
        if SYSTEM_PRIVILEGED_GROUP in request.subject.organizations:
            raise attrs.forbidden(f"use of {KUBE_APISERVER_CLIENT} signer with "
                                  f"{SYSTEM_PRIVILEGED_GROUP} group is not allowed")
        return None
