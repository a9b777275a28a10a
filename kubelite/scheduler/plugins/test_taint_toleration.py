"""TaintToleration against upstream's taint_toleration_test.go outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import Code, CycleState
from kubelite.scheduler.plugins.taint_toleration import TaintToleration


def taint(key: str, value: str, effect: str) -> dict[str, str]:
    return {"key": key, "value": value, "effect": effect}


def tol(key: str, value: str, effect: str, operator: str = "Equal") -> dict[str, str]:
    return {"key": key, "operator": operator, "value": value, "effect": effect}


@pytest.mark.parametrize("tolerations, node_taints, expected", [
    ([tol("foo", "bar", "PreferNoSchedule")],
     [[taint("foo", "bar", "PreferNoSchedule")], [taint("foo", "blah", "PreferNoSchedule")]], [100, 0]),
    ([tol("cpu-type", "arm64", "PreferNoSchedule"), tol("disk-type", "ssd", "PreferNoSchedule")],
     [[], [taint("cpu-type", "arm64", "PreferNoSchedule")],
      [taint("cpu-type", "arm64", "PreferNoSchedule"), taint("disk-type", "ssd", "PreferNoSchedule")]],
     [100, 100, 100]),
    ([tol("foo", "bar", "PreferNoSchedule")],
     [[], [taint("cpu-type", "arm64", "PreferNoSchedule")],
      [taint("cpu-type", "arm64", "PreferNoSchedule"), taint("disk-type", "ssd", "PreferNoSchedule")]],
     [100, 50, 0]),
    ([tol("cpu-type", "arm64", "NoSchedule"), tol("disk-type", "ssd", "PreferNoSchedule")],
     [[], [taint("cpu-type", "arm64", "NoSchedule")], [taint("cpu-type", "arm64", "PreferNoSchedule")]],
     [100, 100, 0]),
    ([], [[], [taint("cpu-type", "arm64", "PreferNoSchedule")]], [100, 0]),
], ids=["tolerated-beats-untolerated", "all-tolerated-score-alike", "more-untolerated-lower",
        "only-prefer-no-schedule-counts", "no-tolerations"])
def test_score_reverse_normalized_by_untolerated_prefer_no_schedule(tolerations, node_taints, expected) -> None:
    nodes = table(*(make_node(f"n{i}", taints=t) for i, t in enumerate(node_taints)))
    plugin, pod = TaintToleration(), make_pod(tolerations=tolerations)
    raw = plugin.score(CycleState(), pod, nodes, np.arange(len(nodes)))
    assert plugin.normalize_score(CycleState(), pod, raw).tolist() == expected


@pytest.mark.parametrize("tolerations, node_taints, reason", [
    ([], [taint("dedicated", "user1", "NoSchedule")], "node(s) had untolerated taint {dedicated: user1}"),
    ([tol("dedicated", "user1", "NoSchedule")], [taint("dedicated", "user1", "NoSchedule")], None),
    ([tol("dedicated", "user2", "NoSchedule")], [taint("dedicated", "user1", "NoSchedule")],
     "node(s) had untolerated taint {dedicated: user1}"),
    ([tol("foo", "", "NoSchedule", "Exists")], [taint("foo", "bar", "NoSchedule")], None),
    ([tol("dedicated", "user2", "NoSchedule"), tol("foo", "", "NoSchedule", "Exists")],
     [taint("dedicated", "user2", "NoSchedule"), taint("foo", "bar", "NoSchedule")], None),
    ([tol("foo", "bar", "PreferNoSchedule")], [taint("foo", "blah", "NoSchedule")],
     "node(s) had untolerated taint {foo: blah}"),
    ([], [taint("foo", "bar", "PreferNoSchedule")], None),
    ([], [taint("a", "1", "PreferNoSchedule"), taint("b", "2", "NoExecute"), taint("c", "3", "NoSchedule")],
     "node(s) had untolerated taint {b: 2}"),
    ([{"operator": "Exists"}], [taint("a", "1", "NoExecute")], None),
], ids=["no-tolerations", "tolerated", "other-value", "exists", "all-tolerated", "wrong-effect",
        "prefer-no-schedule-only-scores", "first-untolerated-is-reported", "wildcard-toleration"])
def test_filter_rejects_untolerated_no_schedule_and_no_execute(tolerations, node_taints, reason) -> None:
    nodes = table(make_node("n", taints=node_taints), make_node("clean"))
    plugin = TaintToleration()
    verdict = plugin.filter(CycleState(), make_pod(tolerations=tolerations), nodes)
    status = verdict.status_of(nodes.row_of["n"], plugin.name)
    assert status.reasons == ((reason,) if reason else ())
    assert verdict.status_of(nodes.row_of["clean"], plugin.name).is_success()
    if reason:
        assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
