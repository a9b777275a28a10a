"""--root-ca-file (what upstream's readCA accepts and refuses, and where it goes) and
--disable-admission-plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.cli.component_flags import loop_settings, node_settings
from kubelite.cli.main import build_parser, disabled_admission_plugins, main, root_ca_pem
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


@pytest.mark.parametrize("argv", [
    ["server", "--root-ca-file"], ["controller-manager", "--kubeconfig", "k", "--root-ca-file"],
], ids=["server", "controller-manager"])
def test_a_bad_root_ca_file_stops_the_command_before_it_starts(
        argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ca.crt"
    bad.write_text("not a certificate")
    assert main([*argv, str(bad)]) == 2
    assert capsys.readouterr().err == (f"kubelite: error parsing root-ca-file at {bad}: data "
                                       "does not contain any valid RSA or ECDSA certificates\n")


def test_the_root_ca_reaches_the_loops_settings(tmp_path: Path) -> None:
    path = tmp_path / "ca.crt"
    path.write_text(pem := make_ca_pem())
    args = build_parser().parse_args(["controller-manager", "--kubeconfig", "k",
                                      "--root-ca-file", str(path)])
    args.node_settings = node_settings(args)
    args.root_ca_pem = root_ca_pem(args)
    assert loop_settings(args, tmp_path).root_ca_pem == pem


@pytest.mark.parametrize(("flag", "disabled"), [
    ("", frozenset()), ("ServiceAccount", frozenset({"ServiceAccount"})),
    (" ServiceAccount, ", frozenset({"ServiceAccount"})),
    ("NodeRestriction", frozenset({"NodeRestriction"})),
], ids=["none", "service-account", "spaces-and-commas", "node-restriction"])
def test_only_the_service_account_and_node_restriction_plugins_can_be_disabled(
        flag: str, disabled: frozenset[str]) -> None:
    assert disabled_admission_plugins(flag) == disabled


def test_disabling_a_required_plugin_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", "--disable-admission-plugins", "ServiceAccount,Priority"]) == 2
    assert capsys.readouterr().err == ("kubelite: --disable-admission-plugins: 'Priority' "
                                       "cannot be disabled (only ServiceAccount, "
                                       "NodeRestriction can)\n")
