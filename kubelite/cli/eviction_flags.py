"""The kubelet's eviction flags, as upstream's kubelet spells them, for `kubelite
server` and `kubelite agent` (cli/node.py adds them to the node's flag group).

--eviction-hard / --eviction-soft take `signal<quantity|percent` pairs, comma
separated; --eviction-soft-grace-period and --eviction-minimum-reclaim `signal=value`;
--eviction-pressure-transition-period a Go duration (5m0s); --eviction-max-pod-grace-period
whole seconds. A given --eviction-hard replaces upstream's default set rather than
adding to it, as upstream's kubelet; `--eviction-hard ""` turns hard eviction off.
Bad values are refused before the node starts, with upstream's words.
"""

from __future__ import annotations

import argparse
from typing import Any

from kubelite.api.protobuf.wellknown import parse_duration
from kubelite.kubelet.eviction.thresholds import DEFAULT_HARD, ThresholdError, parse_thresholds


def add(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--eviction-hard", default=DEFAULT_HARD,
                       help="hard eviction thresholds, e.g. memory.available<1Gi "
                            f"(default: {DEFAULT_HARD})")
    group.add_argument("--eviction-soft", default="",
                       help="soft eviction thresholds, e.g. memory.available<1.5Gi; each "
                            "needs a grace period")
    group.add_argument("--eviction-soft-grace-period", default="",
                       help="how long a soft threshold must hold, e.g. memory.available=1m30s")
    group.add_argument("--eviction-max-pod-grace-period", type=int, default=0,
                       help="the most seconds a pod gets to stop on a soft eviction")
    group.add_argument("--eviction-minimum-reclaim", default="",
                       help="how far past a threshold eviction reclaims, e.g. "
                            "memory.available=0Mi,nodefs.available=500Mi")
    group.add_argument("--eviction-pressure-transition-period", default="5m0s",
                       help="how long the node holds a pressure condition after it ends")


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """KubeletConfig's eviction fields from the flags; ValueError names the bad flag."""
    hard = getattr(args, "eviction_hard", DEFAULT_HARD)
    soft = getattr(args, "eviction_soft", "")
    grace = getattr(args, "eviction_soft_grace_period", "")
    reclaim = getattr(args, "eviction_minimum_reclaim", "")
    try:
        parse_thresholds(hard, soft, grace, reclaim)
    except ThresholdError as err:
        raise ValueError(f"eviction flags: {err}") from None
    transition = getattr(args, "eviction_pressure_transition_period", "5m0s")
    try:
        seconds = parse_duration(transition.strip()) / 1e9
    except ValueError:
        raise ValueError(f"--eviction-pressure-transition-period: invalid duration "
                         f"{transition!r}") from None
    max_grace = getattr(args, "eviction_max_pod_grace_period", 0)
    if seconds < 0 or max_grace < 0:
        raise ValueError("--eviction-pressure-transition-period and "
                         "--eviction-max-pod-grace-period must not be negative")
    return {"eviction_hard": hard, "eviction_soft": soft, "eviction_soft_grace_period": grace,
            "eviction_minimum_reclaim": reclaim, "eviction_max_pod_grace_period": float(max_grace),
            "eviction_pressure_transition_period": seconds}
