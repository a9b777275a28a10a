from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.deployment_scale import round_half_away, scale_plan
from kubelite.controllers.deployment_util import (
    max_surge, replicas, set_replicas_annotations)

Obj = dict[str, Any]
NEW, OLD, OLDER = "2016-05-20T02:00:00Z", "2016-05-20T01:00:00Z", "2016-05-20T00:00:00Z"


def deployment(replicas: int, surge: int = 0) -> Obj:
    # upstream's test newDeployment: maxSurge and maxUnavailable 0 unless given
    return {"metadata": {"name": "foo"},
            "spec": {"replicas": replicas, "strategy": {
                "type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge,
                                                           "maxUnavailable": 0}}}}


def rs(name: str, size: int, created: str) -> Obj:
    return {"metadata": {"name": name, "uid": name, "creationTimestamp": created},
            "spec": {"replicas": size}}


def sized(rss: list[Obj | None], before: Obj) -> None:
    """Annotate as last scaled for `before`, as the test's old deployment."""
    for r in rss:
        if r is not None:
            set_replicas_annotations(r, replicas(before), replicas(before) + max_surge(before))


@pytest.mark.parametrize("d, before, new, olds, want", [
    # upstream's TestScale (sync_test.go)
    pytest.param(deployment(12), deployment(10), rs("foo-v1", 10, NEW), [],
                 {"foo-v1": 12}, id="normal-10-to-12"),
    pytest.param(deployment(5), deployment(10), rs("foo-v1", 10, NEW), [],
                 {"foo-v1": 5}, id="normal-10-to-5"),
    pytest.param(deployment(10), deployment(5), rs("foo-v2", 2, NEW), [rs("foo-v1", 3, OLD)],
                 {"foo-v2": 4, "foo-v1": 6}, id="proportional-5-to-10"),
    pytest.param(deployment(3), deployment(5), rs("foo-v2", 2, NEW), [rs("foo-v1", 3, OLD)],
                 {"foo-v2": 1, "foo-v1": 2}, id="proportional-5-to-3"),
    pytest.param(deployment(4), deployment(9), rs("foo-v2", 8, NEW), [rs("foo-v1", 1, OLD)],
                 {"foo-v2": 4, "foo-v1": 0}, id="proportional-9-to-4"),
    pytest.param(deployment(10), deployment(7), rs("foo-v3", 2, NEW),
                 [rs("foo-v2", 3, OLD), rs("foo-v1", 2, OLDER)],
                 {"foo-v3": 3, "foo-v2": 4, "foo-v1": 3}, id="proportional-7-to-10"),
    pytest.param(deployment(8), deployment(13), rs("foo-v3", 2, NEW),
                 [rs("foo-v2", 8, OLD), rs("foo-v1", 3, OLDER)],
                 {"foo-v3": 1, "foo-v2": 5, "foo-v1": 2}, id="proportional-13-to-8"),
    pytest.param(deployment(4), deployment(3), rs("foo-v3", 1, NEW),
                 [rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
                 {"foo-v3": 2, "foo-v2": 1, "foo-v1": 1}, id="leftover-up-to-newest"),
    pytest.param(deployment(2), deployment(3), rs("foo-v3", 1, NEW),
                 [rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
                 {"foo-v3": 1, "foo-v2": 1, "foo-v1": 0}, id="leftover-down-from-oldest"),
    pytest.param(deployment(5), deployment(4), None,
                 [rs("foo-v2", 2, OLD), rs("foo-v1", 2, OLDER)],
                 {"foo-v2": 3, "foo-v1": 2}, id="no-new-rs-4-to-5"),
    pytest.param(deployment(0), deployment(6), rs("foo-v3", 3, NEW),
                 [rs("foo-v2", 2, OLD), rs("foo-v1", 1, OLDER)],
                 {"foo-v3": 0, "foo-v2": 0, "foo-v1": 0}, id="to-zero"),
    pytest.param(deployment(6), deployment(6), rs("foo-v3", 0, NEW),
                 [rs("foo-v2", 0, OLD), rs("foo-v1", 0, OLDER)],
                 {"foo-v3": 6}, id="from-zero-the-newest"),
    pytest.param(deployment(20, 2), deployment(10, 2), rs("foo-v2", 6, NEW),
                 [rs("foo-v1", 6, OLD)], {"foo-v2": 11, "foo-v1": 11}, id="with-surge"),
    pytest.param(deployment(50, 6), deployment(10, 3), rs("foo-v2", 5, NEW),
                 [rs("foo-v1", 8, OLD)], {"foo-v2": 22, "foo-v1": 34}, id="surge-and-size"),
])
def test_scale(d: Obj, before: Obj, new: Obj | None, olds: list[Obj],
               want: dict[str, int]) -> None:
    sized([new, *olds], before)
    steps, _ = scale_plan(d, new, olds)
    got = {r["metadata"]["name"]: size for r, size in steps}
    assert {name: got.get(name, size) for name, size in want.items()} == want
    assert set(got) <= set(want)


def test_a_saturated_but_broken_new_replica_set_leaves_old_pods_alone() -> None:
    d = deployment(2, 1)
    d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = 1
    new, old = rs("foo-v2", 2, NEW), rs("foo-v1", 1, OLD)
    sized([new, old], d)
    steps, operation = scale_plan(d, new, [old])
    assert {r["metadata"]["name"]: size for r, size in steps} == {"foo-v2": 2, "foo-v1": 1}
    assert operation == ""  # sizes unchanged: only annotations may be written


def test_a_saturated_new_replica_set_scales_the_old_to_zero() -> None:
    d = deployment(3)
    new, old = rs("foo-v2", 3, NEW), rs("foo-v1", 1, OLD)
    sized([new, old], d)
    new["status"] = {"availableReplicas": 3}
    steps, operation = scale_plan(d, new, [old])
    assert [(r["metadata"]["name"], size) for r, size in steps] == [("foo-v1", 0)]
    assert operation is None


@pytest.mark.parametrize("value, want", [(2.5, 3), (2.4, 2), (-2.5, -3), (0.5, 1)])
def test_round_half_away_from_zero(value: float, want: int) -> None:
    assert round_half_away(value) == want
