"""The server's encryption and audit flags are checked before it starts, with
kube-apiserver's words."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from kubelite.cli.at_rest_and_audit import add_flags, load


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_flags(parser)
    return parser.parse_args(argv)


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "audit.yaml"
    path.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n")
    return path


def test_without_flags_nothing_is_on() -> None:
    assert load(parse()) == (None, None)


def test_negative_rotation_figures_are_refused() -> None:
    with pytest.raises(ValueError, match="--audit-log-maxage -1 can't be a negative number"):
        load(parse("--audit-log-maxage", "-1"))


def test_auditing_needs_both_flags(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert load(parse("--audit-policy-file", str(policy))) == (None, None)
    assert "needs both --audit-policy-file and --audit-log-path" in capsys.readouterr().err


def test_a_log_path_that_cannot_be_written_stops_the_start(policy: Path,
                                                           tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="cannot open the audit log"):
        load(parse("--audit-policy-file", str(policy),
                   "--audit-log-path", str(blocker / "audit.log")))


def test_the_log_file_exists_once_loaded(policy: Path, tmp_path: Path) -> None:
    _, auditor = load(parse("--audit-policy-file", str(policy),
                            "--audit-log-path", str(tmp_path / "logs" / "audit.log")))
    assert auditor is not None
    assert (tmp_path / "logs" / "audit.log").exists()
    auditor.close()


def test_a_bad_policy_says_which_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\n")
    with pytest.raises(ValueError, match="loading audit policy file: loaded illegal policy "
                       "with 0 rules: from file"):
        load(parse("--audit-policy-file", str(path), "--audit-log-path", "-"))
