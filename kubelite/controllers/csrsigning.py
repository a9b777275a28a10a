"""The CSR signer: approved CertificateSigningRequests of the kubernetes.io signers get
their certificate (upstream's pkg/controller/certificates/signer, the `csrsigning`
controller).

Keys are CSR names. Every added or updated CSR is synced; the sync signs a CSR that is
approved (Approved and not Denied), has no certificate yet, is not Failed and names a
signer this loop has a CA for. A request that breaks its signer's rules (csr_rules.py)
gets a Failed condition, reason SignerValidationFailure, with upstream's message, and
is never looked at again. Otherwise the certificate, `min(spec.expirationSeconds,
--cluster-signing-duration)` long (10 minutes at least), is written through the status
subresource, which refuses to replace a certificate once set: two signers racing
cannot both win.

The CAs are `LoopSettings.csr_signing_files`, read once when the loop is built (an
unreadable pair is logged and its signer left alone; upstream reloads changed files).
`kubelite server` signs the client signers with its client CA and kubelet-serving with
its server CA, as k3s does. The certificate names the request's CN and O (the
subject kubelite's x509 authenticator reads) and its DNS and IP SANs; other subject
fields and email or URI SANs of the request are not copied.
"""

from __future__ import annotations

import base64
import datetime
import logging
from pathlib import Path
from typing import Any

from kubelite.client.controller import Controller, PermanentError
from kubelite.controllers.context import LoopContext
from kubelite.controllers.csr_rules import (
    FAILED,
    SIGNERS,
    SignerRuleError,
    check_request,
    extended_usages,
    is_approved,
    signed_validity,
    true_condition,
)
from kubelite.controllers.pods import meta
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_rfc3339
from kubelite.pki.certs import CertificateAuthority, InvalidRequest, certificate_pem, load_certificate, load_key
from kubelite.pki.requests import parse_request

log = logging.getLogger(__name__)

Obj = dict[str, Any]
RESOURCE = "certificatesigningrequests"


def load_authorities(files: dict[str, tuple[Path, Path]]) -> dict[str, CertificateAuthority]:
    """The CA of each kubernetes.io signer whose files read; the others are logged."""
    authorities = {}
    for signer, (cert_file, key_file) in files.items():
        if signer not in SIGNERS:
            continue
        try:
            authorities[signer] = CertificateAuthority(
                load_certificate(cert_file.read_bytes()), load_key(key_file.read_bytes()))
        except (OSError, ValueError) as err:
            log.error("csrsigning: %s is not signed: its CA (%s, %s) does not load: %s",
                      signer, cert_file, key_file, err)
    return authorities


def sign(csr: Obj, authority: CertificateAuthority, cluster_duration: datetime.timedelta,
         now: datetime.datetime) -> bytes:
    """The PEM certificate for an approved request; SignerRuleError when the request
    is not one its signer signs, InvalidRequest when it does not parse."""
    spec = csr.get("spec") or {}
    request = parse_request(base64.b64decode(spec.get("request") or ""))
    usages = list(spec.get("usages") or [])
    signer = str(spec.get("signerName") or "")
    check_request(signer, request, usages)
    certificate = authority.issue(
        request.public_key, request.subject, usages=extended_usages(usages), now=now,
        alt_names=request.alt_names,
        validity=signed_validity(spec.get("expirationSeconds"), cluster_duration))
    return certificate_pem(certificate)


class CSRSigningLoop:
    name = "csrsigning"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.authorities = load_authorities(ctx.settings.csr_signing_files)
        self.duration = datetime.timedelta(seconds=ctx.settings.cluster_signing_duration)
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=2)
        if not self.authorities:
            return  # nothing to sign with: ask for no informer
        self.csrs = ctx.informers.informer(RESOURCE)
        self.csrs.add_event_handler(on_add=self._enqueue,
                                    on_update=lambda _old, new: self._enqueue(new))

    async def run(self) -> None:
        if not self.authorities:
            log.info("%s: no signing CA (--cluster-signing-cert-file)", self.name)
            return
        await self.controller.run()

    def _enqueue(self, csr: Obj) -> None:
        self.controller.enqueue(str(meta(csr).get("name") or ""))

    async def sync(self, name: str) -> None:
        csr = self.csrs.lister.get("", name)
        if csr is None or not self._wanted(csr):
            return
        authority = self.authorities[csr["spec"]["signerName"]]
        try:
            pem = sign(csr, authority, self.duration,
                       datetime.datetime.now(datetime.UTC))
        except SignerRuleError as err:
            await self._write_status(csr, failed=str(err))
            return
        except InvalidRequest as err:  # validation let it in: nothing retrying fixes
            raise PermanentError(f"unable to parse csr {name!r}: {err}") from None
        await self._write_status(csr, certificate=pem)

    def _wanted(self, csr: Obj) -> bool:
        spec, status = csr.get("spec") or {}, csr.get("status") or {}
        return (spec.get("signerName") in self.authorities and is_approved(csr)
                and true_condition(csr, FAILED) is None and not status.get("certificate"))

    async def _write_status(self, csr: Obj, *, certificate: bytes | None = None,
                            failed: str = "") -> None:
        status = dict(csr.get("status") or {})
        if certificate is not None:
            status["certificate"] = base64.b64encode(certificate).decode()
        else:
            status["conditions"] = [*(status.get("conditions") or []), {
                "type": FAILED, "status": "True", "reason": "SignerValidationFailure",
                "message": failed, "lastUpdateTime": now_rfc3339()}]
        try:
            await self.client.update_status(RESOURCE, {**csr, "status": status})
        except errors.NotFound:
            pass  # deleted meanwhile
