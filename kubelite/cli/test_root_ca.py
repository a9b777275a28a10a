"""--root-ca-file: what upstream's readCA accepts and refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.cli.root_ca import certificate_blocks, read_root_ca
from tests.certificates import make_ca_pem

KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n"


@pytest.mark.parametrize(("pem", "certificates"), [
    (make_ca_pem(), 1),
    (make_ca_pem("a") + make_ca_pem("b"), 2),
    ("comment line\n" + make_ca_pem(), 1),
    (KEY + make_ca_pem(), 1),
], ids=["one", "bundle-of-two", "text-around-blocks", "other-blocks-skipped"])
def test_bundles_of_certificates_are_accepted(pem: str, certificates: int) -> None:
    assert certificate_blocks(pem) == certificates


@pytest.mark.parametrize(("pem", "reason"), [
    ("", "data does not contain any valid RSA or ECDSA certificates"),
    (KEY, "data does not contain any valid RSA or ECDSA certificates"),
    ("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not base64"),
    ("-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n",
     "not a DER certificate"),
], ids=["empty", "only-a-key", "not-base64", "not-der"])
def test_what_holds_no_certificate_is_refused(pem: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        certificate_blocks(pem)


def test_the_file_is_published_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "ca.crt"
    pem = "# the cluster CA\n" + make_ca_pem()
    path.write_text(pem)
    assert read_root_ca(path) == pem


def test_errors_name_the_file_as_upstream(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"^error parsing root-ca-file at {tmp_path}/missing: "
                                         "No such file or directory$"):
        read_root_ca(tmp_path / "missing")
