"""The CSR cleaner: finished and forgotten CertificateSigningRequests are deleted
(upstream's pkg/controller/certificates/cleaner, the `csrcleaner` controller).

Once an hour (`period`) every CSR in the informer's cache is checked, and deleted when
- it was issued (Approved with a certificate) and its Approved condition was last
  updated over an hour ago, or its certificate has expired;
- it was Denied, or Failed, over an hour ago (the condition's lastUpdateTime);
- it is still pending (no condition) 24 hours after its creation.

The predicates are pure functions of the CSR and `now` (`expired_reason`); the clock is
injected for tests.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
from typing import Any

from cryptography import x509

from kubelite.client.controller import Controller
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.csr_rules import APPROVED, DENIED, FAILED
from kubelite.controllers.pods import meta
from kubelite.machinery import errors

log = logging.getLogger(__name__)

Obj = dict[str, Any]
POLLING_INTERVAL = 3600.0
APPROVED_EXPIRATION = datetime.timedelta(hours=1)
DENIED_EXPIRATION = datetime.timedelta(hours=1)
PENDING_EXPIRATION = datetime.timedelta(hours=24)


def expired_reason(csr: Obj, now: datetime.datetime) -> str | None:
    """Why the cleaner deletes `csr` now (upstream's log line), or None to keep it."""
    status = csr.get("status") or {}
    conditions = status.get("conditions") or []
    issued = bool(status.get("certificate"))
    for condition in conditions:
        kind, updated = condition.get("type"), _time(condition.get("lastUpdateTime"))
        old = updated is not None and now - updated > APPROVED_EXPIRATION
        # an approved request that was never issued stays, as upstream keeps it
        if kind == APPROVED and issued and _certificate_expired(status["certificate"], now):
            return "the associated certificate is expired"
        if kind == APPROVED and issued and old:
            return f"it is more than {_hours(APPROVED_EXPIRATION)} old and approved"
        if kind in (DENIED, FAILED) and updated is not None \
                and now - updated > DENIED_EXPIRATION:
            return f"it is more than {_hours(DENIED_EXPIRATION)} old and {kind.lower()}"
    created = _time(meta(csr).get("creationTimestamp"))
    if not conditions and created is not None and now - created > PENDING_EXPIRATION:
        return f"it is more than {_hours(PENDING_EXPIRATION)} old and unhandled"
    return None


class CSRCleanerLoop:
    name = "csrcleaner"

    def __init__(self, ctx: LoopContext, *, clock: Clock = utc_now,
                 period: float = POLLING_INTERVAL) -> None:
        self.client = ctx.client
        self.clock = clock
        self.csrs = ctx.informers.informer("certificatesigningrequests")
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=1)
        self.controller.enqueue_every(period, self._names)

    async def run(self) -> None:
        for name in self._names():  # upstream's wait.Until runs a pass at once
            self.controller.enqueue(name)
        await self.controller.run()

    def _names(self) -> list[str]:
        return [str(meta(csr).get("name") or "") for csr in self.csrs.lister.list()]

    async def sync(self, name: str) -> None:
        csr = self.csrs.lister.get("", name)
        if csr is None:
            return
        reason = expired_reason(csr, self.clock())
        if reason is None:
            return
        log.info("Cleaning CSR %r as %s.", name, reason)
        try:
            await self.client.delete("certificatesigningrequests", name,
                                     preconditions={"uid": meta(csr).get("uid", "")})
        except (errors.NotFound, errors.Conflict):
            pass  # gone, or another CSR of that name by now


def _time(text: object) -> datetime.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _certificate_expired(certificate_b64: str, now: datetime.datetime) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(base64.b64decode(certificate_b64))
    except (binascii.Error, ValueError):
        return False  # upstream logs the parse error and keeps the CSR
    return now > certificate.not_valid_after_utc


def _hours(delta: datetime.timedelta) -> str:
    return f"{int(delta.total_seconds() // 3600)}h0m0s"
