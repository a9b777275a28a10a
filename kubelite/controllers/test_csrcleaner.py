"""When the CSR cleaner deletes a request (upstream's cleaner_test.go cases)."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import pytest

from kubelite.controllers.csrcleaner import expired_reason
from kubelite.pki.certs import CLIENT_AUTH, CertificateAuthority, Subject, certificate_pem, new_key

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)
CA = CertificateAuthority.create("test", now=NOW - datetime.timedelta(days=30))


def ago(**delta: float) -> str:
    return (NOW - datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate(ends_in: datetime.timedelta) -> str:
    issued = CA.issue(new_key().public_key(), Subject("jane"), usages=(CLIENT_AUTH,),
                      now=NOW - datetime.timedelta(days=1),
                      validity=datetime.timedelta(days=1) + ends_in)
    return base64.b64encode(certificate_pem(issued)).decode()


def csr(created: str, conditions: list[dict[str, str]] | None = None,
        **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "c", "creationTimestamp": created},
            "status": {"conditions": conditions or [], **status}}


def cond(kind: str, updated: str) -> dict[str, str]:
    return {"type": kind, "status": "True", "lastUpdateTime": updated}


VALID = certificate(datetime.timedelta(days=30))


@pytest.mark.parametrize(("obj", "deleted"), [
    (csr(ago(hours=1)), False),
    (csr(ago(hours=25)), True),
    (csr(ago(hours=25), [cond("Approved", ago(minutes=5))]), False),
    (csr(ago(hours=25), [cond("Approved", ago(hours=2))]), False),
    (csr(ago(hours=2), [cond("Approved", ago(minutes=5))], certificate=VALID), False),
    (csr(ago(hours=2), [cond("Approved", ago(hours=2))], certificate=VALID), True),
    (csr(ago(minutes=5), [cond("Approved", ago(minutes=5))],
         certificate=certificate(-datetime.timedelta(minutes=1))), True),
    (csr(ago(hours=2), [cond("Denied", ago(minutes=59))]), False),
    (csr(ago(hours=2), [cond("Denied", ago(minutes=61))]), True),
    (csr(ago(hours=2), [cond("Approved", ago(minutes=5)), cond("Failed", ago(minutes=61))]),
     True),
], ids=["pending-recent", "pending-past-deadline", "approved-recent-unissued",
        "approved-old-never-issued", "issued-recent", "issued-past-deadline",
        "issued-expired", "denied-recent", "denied-past-deadline", "failed-past-deadline"])
def test_which_requests_the_cleaner_deletes(obj: dict[str, Any], deleted: bool) -> None:
    assert (expired_reason(obj, NOW) is not None) is deleted
