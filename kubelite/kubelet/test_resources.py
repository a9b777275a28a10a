"""cgroup settings from requests and limits, checked against upstream's helpers_linux_test.go
and policy_test.go outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.resources import (
    container_resources, milli_cpu_to_quota, milli_cpu_to_shares, oom_score_adj)

GiB = 1 << 30


@pytest.mark.parametrize(("milli", "shares"), [
    (0, 2), (1, 2), (2, 2), (100, 102), (250, 256), (1000, 1024), (4000, 4096),
    (1_000_000, 262144),
], ids=["zero", "one-milli", "two-milli", "100m", "250m", "1cpu", "4cpu", "capped"])
def test_cpu_shares(milli: int, shares: int) -> None:
    assert milli_cpu_to_shares(milli) == shares


@pytest.mark.parametrize(("milli", "quota"), [
    (0, 0), (5, 1000), (9, 1000), (10, 1000), (200, 20000), (500, 50000), (1000, 100000),
    (1500, 150000),
], ids=["none", "below-min", "just-below", "at-min", "200m", "500m", "1cpu", "1.5cpu"])
def test_cpu_quota(milli: int, quota: int) -> None:
    assert milli_cpu_to_quota(milli) == quota


def _pod(*resources: dict[str, Any], priority: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "resources": r}
                                           for i, r in enumerate(resources)]}
    if priority:
        spec["priorityClassName"] = priority
    return {"spec": spec, "metadata": {"name": "p", "uid": "u"}}


@pytest.mark.parametrize(("resources", "priority", "expected"), [
    ({}, "", 1000),
    ({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}, "", -997),
    ({"requests": {"memory": "2Gi"}}, "", 500),
    ({"requests": {"memory": "4Gi"}}, "", 3),
    ({"requests": {"cpu": "100m"}}, "", 999),
    ({"requests": {"memory": "1Mi"}}, "", 999),
    ({"requests": {"memory": "100Mi"}}, "", 976),
    ({}, "system-node-critical", -997),
], ids=["best-effort", "guaranteed", "burstable-half", "burstable-all", "burstable-no-memory",
        "burstable-tiny", "burstable-100Mi", "node-critical"])
def test_oom_score_adj(resources: dict[str, Any], priority: str, expected: int) -> None:
    pod = _pod(resources, priority=priority)
    assert oom_score_adj(pod, pod["spec"]["containers"][0], 4 * GiB) == expected


@pytest.mark.parametrize(("resources", "shares", "quota", "memory"), [
    ({}, 2, 0, 0),
    ({"limits": {"cpu": "500m"}}, 512, 50000, 0),
    ({"requests": {"cpu": "250m"}, "limits": {"cpu": "1", "memory": "128Mi"}}, 256, 100000,
     128 << 20),
    ({"requests": {"cpu": "0"}, "limits": {"cpu": "1"}}, 2, 100000, 0),
], ids=["none", "limit-is-request", "both", "explicit-zero-request"])
def test_container_resources(resources: dict[str, Any], shares: int, quota: int,
                             memory: int) -> None:
    pod = _pod(resources)
    got = container_resources(pod, pod["spec"]["containers"][0], 4 * GiB)
    assert (got.cpu_shares, got.cpu_quota, got.cpu_period, got.memory_limit_in_bytes) == (
        shares, quota, 100000, memory)
