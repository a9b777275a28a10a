"""LimitRange's pure rules: defaults and bounds, with upstream's words
(plugin/pkg/admission/limitranger/admission_test.go cases)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.admission.limit_ranges import (
    ANNOTATION,
    aggregate,
    apply_defaults,
    validate_claim,
    validate_pod,
)

Obj = dict[str, Any]


def limit_range(*items: Obj) -> Obj:
    return {"metadata": {"name": "lr"}, "spec": {"limits": list(items)}}


def container(name: str = "c", requests: Obj | None = None, limits: Obj | None = None) -> Obj:
    resources: Obj = {}
    if requests is not None:
        resources["requests"] = requests
    if limits is not None:
        resources["limits"] = limits
    return {"name": name, "image": "nginx", "resources": resources}


def pod(*containers: Obj, init: tuple[Obj, ...] = ()) -> Obj:
    spec: Obj = {"containers": list(containers)}
    if init:
        spec["initContainers"] = list(init)
    return {"metadata": {"name": "p"}, "spec": spec}


DEFAULTS = {"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "0.1", "memory": "128Mi"}}


def test_defaults_fill_only_what_a_container_leaves_unstated() -> None:
    p = pod(container("web", requests={"cpu": "200m"}), init=(container("setup"),))
    apply_defaults(limit_range(DEFAULTS), p)
    web, setup = p["spec"]["containers"][0], p["spec"]["initContainers"][0]
    assert web["resources"] == {"requests": {"cpu": "200m", "memory": "128Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"}}
    assert setup["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    assert p["metadata"]["annotations"][ANNOTATION] == (
        "LimitRanger plugin set: memory request for container web; cpu, memory limit for "
        "container web; cpu, memory request for init container setup; cpu, memory limit "
        "for init container setup")


def test_nothing_to_default_leaves_the_pod_alone() -> None:
    p = pod(container(requests={"cpu": "1"}, limits={"cpu": "1"}))
    apply_defaults(limit_range({"type": "Container", "default": {"cpu": "2"}}), p)
    assert "annotations" not in p["metadata"]
    assert p["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "1"}


CONTAINER_BOUNDS = {"type": "Container", "min": {"cpu": "100m"}, "max": {"cpu": "1"},
                    "maxLimitRequestRatio": {"cpu": "3"}}


@pytest.mark.parametrize(("item", "containers", "expected"), [
    (CONTAINER_BOUNDS, [container(requests={"cpu": "200m"}, limits={"cpu": "500m"})], []),
    (CONTAINER_BOUNDS, [container(requests={"cpu": "50m"}, limits={"cpu": "100m"})],
     ["minimum cpu usage per Container is 100m, but request is 50m"]),
    (CONTAINER_BOUNDS, [container(requests={"cpu": "200m"}, limits={"cpu": "2"})],
     ["maximum cpu usage per Container is 1, but limit is 2",
      "cpu max limit to request ratio per Container is 3, but provided ratio is 10.000000"]),
    (CONTAINER_BOUNDS, [container()],
     ["minimum cpu usage per Container is 100m.  No request is specified",
      "maximum cpu usage per Container is 1.  No limit is specified",
      "cpu max limit to request ratio per Container is 3, but no request is specified or "
      "request is 0"]),
    ({"type": "Container", "maxLimitRequestRatio": {"memory": "2"}},
     [container(requests={"memory": "100Mi"}, limits={"memory": "150Mi"})], []),
    ({"type": "Container", "min": {"memory": "64Mi"}},
     [container(requests={"memory": "64Mi"}, limits={"memory": "32Mi"})],
     ["minimum memory usage per Container is 64Mi, but limit is 32Mi"]),
    ({"type": "Container", "max": {"memory": "1Gi"}},
     [container(requests={"memory": "2Gi"}, limits={"memory": "512Mi"})],
     ["maximum memory usage per Container is 1Gi, but request is 2Gi"]),
    ({"type": "Pod", "max": {"cpu": "1"}},
     [container("a", requests={"cpu": "600m"}, limits={"cpu": "600m"}),
      container("b", requests={"cpu": "600m"}, limits={"cpu": "600m"})],
     ["maximum cpu usage per Pod is 1, but limit is 1200m"]),
    ({"type": "Pod", "min": {"cpu": "1"}},
     [container("a", requests={"cpu": "600m"}), container("b", requests={"cpu": "600m"})], []),
], ids=["within-bounds", "under-min-request", "over-max-and-ratio", "nothing-stated",
        "ratio-within", "limit-under-min", "request-over-max", "pod-total-over-max",
        "pod-total-over-min"])
def test_pod_bounds(item: Obj, containers: list[Obj], expected: list[str]) -> None:
    assert validate_pod(limit_range(item), pod(*containers)) == expected


def test_an_init_container_is_bounded_like_any_container() -> None:
    p = pod(container(requests={"cpu": "200m"}, limits={"cpu": "200m"}),
            init=(container("setup", requests={"cpu": "2"}, limits={"cpu": "2"}),))
    assert validate_pod(limit_range({"type": "Container", "max": {"cpu": "1"}}), p) == [
        "maximum cpu usage per Container is 1, but limit is 2"]


@pytest.mark.parametrize(("requests", "expected"), [
    ({"storage": "5Gi"}, []),
    ({"storage": "500Mi"}, ["minimum storage usage per PersistentVolumeClaim is 1Gi, but "
                            "request is 500Mi"]),
    ({"storage": "20Gi"}, ["maximum storage usage per PersistentVolumeClaim is 10Gi, but "
                           "request is 20Gi"]),
    ({}, ["minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified",
          "maximum storage usage per PersistentVolumeClaim is 10Gi.  No request is "
          "specified"]),
], ids=["within", "under-min", "over-max", "no-request"])
def test_claim_bounds(requests: Obj, expected: list[str]) -> None:
    item = {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "10Gi"}}
    claim = {"spec": {"resources": {"requests": requests}}}
    assert validate_claim(limit_range(item), claim) == expected


@pytest.mark.parametrize(("messages", "expected"), [
    (["a"], "a"), (["a", "b"], "[a, b]"), (["a", "a"], "a"), (["a", "b", "a"], "[a, b]"),
], ids=["one", "two", "duplicate", "duplicate-among-others"])
def test_aggregate_reads_as_upstreams(messages: list[str], expected: str) -> None:
    assert aggregate(messages) == expected
