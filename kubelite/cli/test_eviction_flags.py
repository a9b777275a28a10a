"""The kubelet's --eviction-* flags on `kubelite server` and `kubelite agent`."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.cli import node
from kubelite.cli.main import build_parser
from kubelite.kubelet.eviction import DEFAULT_HARD


@pytest.mark.parametrize("command", [
    pytest.param(["server"], id="server"),
    pytest.param(["agent", "--kubeconfig", "k", "--server", "https://10.0.0.1:6443"], id="agent"),
])
def test_eviction_flags_make_the_kubelet_config(command: list[str]) -> None:
    args = build_parser().parse_args([
        *command, "--eviction-hard", "memory.available<500Mi,nodefs.available<5%",
        "--eviction-soft", "memory.available<1Gi", "--eviction-soft-grace-period",
        "memory.available=1m30s", "--eviction-minimum-reclaim", "memory.available=100Mi",
        "--eviction-max-pod-grace-period", "20", "--eviction-pressure-transition-period", "1m"])
    config = node.kubelet_config(args, Path("/data"))
    assert config.eviction_hard == "memory.available<500Mi,nodefs.available<5%"
    assert (config.eviction_soft, config.eviction_soft_grace_period) == (
        "memory.available<1Gi", "memory.available=1m30s")
    assert config.eviction_minimum_reclaim == "memory.available=100Mi"
    assert (config.eviction_max_pod_grace_period,
            config.eviction_pressure_transition_period) == (20.0, 60.0)


def test_upstreams_defaults_without_flags() -> None:
    config = node.kubelet_config(build_parser().parse_args(["server"]), Path("/data"))
    assert config.eviction_hard == DEFAULT_HARD
    assert config.eviction_pressure_transition_period == 300.0


@pytest.mark.parametrize("flags,message", [
    pytest.param(["--eviction-hard", "memory.avail<1Gi"],
                 "eviction flags: unsupported eviction signal memory.avail", id="signal"),
    pytest.param(["--eviction-soft", "memory.available<1Gi"],
                 "grace period must be specified for the soft eviction threshold memory.available",
                 id="soft-without-grace"),
    pytest.param(["--eviction-hard", "nodefs.available<150%"],
                 "must be <= 100%", id="percentage"),
    pytest.param(["--eviction-pressure-transition-period", "later"],
                 "--eviction-pressure-transition-period: invalid duration 'later'", id="duration"),
    pytest.param(["--eviction-max-pod-grace-period", "-1"], "must not be negative",
                 id="negative-grace"),
])
def test_bad_eviction_flags_are_refused(flags: list[str], message: str) -> None:
    args = build_parser().parse_args(["server", *flags])
    with pytest.raises(ValueError, match=message):
        node.kubelet_config(args, Path("/data"))
