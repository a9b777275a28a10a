"""A pod's total requests and limits (pkg/api/v1/resource PodRequests/PodLimits cases)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.quota.pod_resources import pod_limits, pod_requests
from kubelite.api.quota.resources import to_json

Obj = dict[str, Any]


def c(cpu: str, *, sidecar: bool = False, limit: str | None = None) -> Obj:
    resources: Obj = {"requests": {"cpu": cpu}}
    if limit:
        resources["limits"] = {"cpu": limit}
    return {"name": "x", "resources": resources, **({"restartPolicy": "Always"} if sidecar else {})}


@pytest.mark.parametrize(("spec", "expected"), [
    ({"containers": [c("1"), c("2")]}, {"cpu": "3"}),
    ({"containers": [c("1")], "initContainers": [c("4")]}, {"cpu": "4"}),
    ({"containers": [c("1")], "initContainers": [c("500m")]}, {"cpu": "1"}),
    ({"containers": [c("1")], "initContainers": [c("1", sidecar=True), c("1500m")]},
     {"cpu": "2500m"}),
    ({"containers": [c("1")], "initContainers": [c("1500m"), c("1", sidecar=True)]},
     {"cpu": "2"}),
    ({"containers": [c("1")], "resources": {"requests": {"cpu": "3"}}}, {"cpu": "3"}),
], ids=["sum", "init-larger", "init-smaller", "init-beside-earlier-sidecar",
        "init-before-sidecar", "pod-level"])
def test_pod_requests(spec: Obj, expected: dict[str, str]) -> None:
    assert to_json(pod_requests({"spec": spec})) == expected


def test_overhead_adds_only_to_limits_the_pod_has() -> None:
    spec = {"containers": [c("1", limit="2")], "overhead": {"cpu": "100m", "memory": "10Mi"}}
    assert to_json(pod_limits({"spec": spec})) == {"cpu": "2100m"}
    assert to_json(pod_requests({"spec": spec})) == {"cpu": "1100m", "memory": "10Mi"}
