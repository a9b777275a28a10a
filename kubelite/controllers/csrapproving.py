"""The CSR approver: kubelet client certificate requests approved when the requestor
may have them (upstream's pkg/controller/certificates/approver/sarapprove.go, the
`csrapproving` controller).

Keys are CSR names. A CSR without a certificate, an Approved or a Denied condition is
recognized as
- `selfnodeclient`: a kube-apiserver-client-kubelet request (csr_rules'
  check_kubelet_client passes) from the node it names (spec.username is the CN): a
  kubelet renewing its own certificate;
- `nodeclient`: any such request (a bootstrap token asking for a node's first one).
For each permission it fits, in that order, a SubjectAccessReview asks whether the
requestor (spec.username, uid, groups, extra, as the API server stamped them) may
`create` `certificatesigningrequests/<permission>` in certificates.k8s.io; the first
allowed one adds Approved (reason AutoApproved, upstream's message) through the
approval subresource. A recognized request no review allows is looked at again with
back-off, as upstream's IgnorableError is; one that is not recognized is left to a
person.

The reviews are authorization.k8s.io/v1 SubjectAccessReviews, created through the API
like any client's, so this loop needs an API server that serves them.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from kubelite.client.controller import Controller, TemporaryError
from kubelite.client.resource import Resource
from kubelite.controllers.context import LoopContext
from kubelite.controllers.csr_rules import (
    APPROVED,
    DENIED,
    KUBELET_CLIENT,
    SignerRuleError,
    check_kubelet_client,
    true_condition,
)
from kubelite.controllers.pods import meta
from kubelite.machinery import errors
from kubelite.pki.certs import InvalidRequest
from kubelite.pki.requests import parse_request

log = logging.getLogger(__name__)

Obj = dict[str, Any]
RESOURCE = "certificatesigningrequests"
SUBJECT_ACCESS_REVIEWS = Resource("authorization.k8s.io", "v1", "subjectaccessreviews",
                                  namespaced=False, kind="SubjectAccessReview")

SELF_NODE_CLIENT = ("selfnodeclient",
                    "Auto approving self kubelet client certificate after SubjectAccessReview.")
NODE_CLIENT = ("nodeclient",
               "Auto approving kubelet client certificate after SubjectAccessReview.")


def recognized(csr: Obj) -> list[tuple[str, str]]:
    """The (permission, approval message) pairs `csr` fits, most specific first."""
    spec = csr.get("spec") or {}
    if spec.get("signerName") != KUBELET_CLIENT:
        return []
    try:
        request = parse_request(base64.b64decode(spec.get("request") or ""))
        check_kubelet_client(request, list(spec.get("usages") or []))
    except (InvalidRequest, SignerRuleError, ValueError):
        return []
    if spec.get("username") == request.subject.common_name:
        return [SELF_NODE_CLIENT, NODE_CLIENT]
    return [NODE_CLIENT]


def access_review(csr: Obj, permission: str) -> Obj:
    """The SubjectAccessReview asking whether the requestor may have `permission`."""
    spec = csr.get("spec") or {}
    review: Obj = {"user": spec.get("username", ""),
                   "resourceAttributes": {"group": "certificates.k8s.io",
                                          "resource": RESOURCE, "verb": "create",
                                          "subresource": permission, "version": "*"}}
    for key in ("uid", "groups", "extra"):
        if spec.get(key):
            review[key] = spec[key]
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": review}


def pending(csr: Obj) -> bool:
    return (not (csr.get("status") or {}).get("certificate")
            and true_condition(csr, APPROVED) is None and true_condition(csr, DENIED) is None)


class CSRApprovingLoop:
    name = "csrapproving"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.csrs = ctx.informers.informer(RESOURCE)
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=2)
        self.csrs.add_event_handler(on_add=self._enqueue,
                                    on_update=lambda _old, new: self._enqueue(new))

    async def run(self) -> None:
        await self.controller.run()

    def _enqueue(self, csr: Obj) -> None:
        if pending(csr):
            self.controller.enqueue(str(meta(csr).get("name") or ""))

    async def sync(self, name: str) -> None:
        csr = self.csrs.lister.get("", name)
        if csr is None or not pending(csr):
            return
        tried = []
        for permission, message in recognized(csr):
            tried.append(permission)
            try:
                review = await self.client.create(SUBJECT_ACCESS_REVIEWS,
                                                  access_review(csr, permission))
            except errors.NotFound:  # a server without the authorization API
                raise TemporaryError("SubjectAccessReviews are not served") from None
            if (review.get("status") or {}).get("allowed"):
                await self._approve(csr, message)
                return
        if tried:
            raise TemporaryError(f"recognized csr {name!r} as {tried} but subject access "
                                 f"review was not approved")

    async def _approve(self, csr: Obj, message: str) -> None:
        status = dict(csr.get("status") or {})
        status["conditions"] = [*(status.get("conditions") or []), {
            "type": APPROVED, "status": "True", "reason": "AutoApproved", "message": message}]
        try:
            await self.client.update(RESOURCE, {
                **csr, "apiVersion": "certificates.k8s.io/v1",
                "kind": "CertificateSigningRequest", "status": status}, subresource="approval")
        except errors.NotFound:
            pass  # deleted meanwhile
