"""The command line refuses a bad scheduler configuration before anything starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubelite.cli.main import main
from kubelite.cli.standalone import scheduler_options
from kubelite.scheduler import config

ROOT = Path(__file__).resolve().parents[2]

BAD = """apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: a
  plugins:
    score:
      enabled: [{name: NoSuchPlugin}]
- schedulerName: a
"""
ERRORS = ['  profiles[0].plugins.score.enabled[0]: Invalid value: "NoSuchPlugin": plugin '
          '"NoSuchPlugin" does not exist',
          '  profiles[1].schedulerName: Duplicate value: "profiles[0].schedulerName"']


@pytest.fixture
def bad_config(tmp_path: Path) -> Path:
    path = tmp_path / "scheduler.yaml"
    path.write_text(BAD)
    return path


def test_scheduler_with_a_bad_config_exits_listing_every_error(
        bad_config: Path, tmp_path: Path) -> None:
    # a real process: nothing may start, and the exit code and stderr are what a user sees
    done = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "scheduler", "--kubeconfig",
         str(tmp_path / "never-read"), "--config", str(bad_config)],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"kubelite: invalid KubeSchedulerConfiguration {bad_config}: 2 errors", *ERRORS]


def test_server_with_a_bad_scheduler_config_starts_nothing(
        bad_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    code = main(["server", "--data-dir", str(data_dir), "--port", "0",
                 "--scheduler-config", str(bad_config)])
    assert code == 2
    assert capsys.readouterr().err.splitlines()[1:] == ERRORS
    assert not data_dir.exists()  # refused before the store was opened


def test_scheduler_without_any_kubeconfig_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scheduler"]) == 2
    assert "--kubeconfig is required" in capsys.readouterr().err


def test_a_configuration_becomes_the_schedulers_options() -> None:
    loaded = config.load("""apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: false, resourceName: s, resourceNamespace: ns, leaseDuration: 30s}
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
profiles: [{schedulerName: a}, {schedulerName: b}]
""")
    options = scheduler_options(loaded)
    assert [p.scheduler_name for p in options["profiles"]] == ["a", "b"]
    assert (options["leader_elect"], options["lease_name"], options["lease_namespace"],
            options["lease_duration"]) == (False, "s", "ns", 30.0)
    assert (options["pod_initial_backoff"], options["pod_max_backoff"]) == (2.0, 20.0)
    assert scheduler_options(None) == {}


@pytest.mark.parametrize("content,message", [
    (None, "No such file"),
    ("token,user\n", "at least 3 columns"),
], ids=["missing", "too-few-columns"])
def test_server_with_a_bad_token_file_starts_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
        message: str) -> None:
    tokens = tmp_path / "tokens.csv"
    if content is not None:
        tokens.write_text(content)
    data_dir = tmp_path / "data"
    code = main(["server", "--data-dir", str(data_dir), "--port", "0",
                 "--token-auth-file", str(tokens)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("kubelite: --token-auth-file: ") and message in err
    assert not data_dir.exists()
