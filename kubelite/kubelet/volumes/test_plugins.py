"""A memory emptyDir's size and a projected token's owner, against upstream's
calculateEmptyDirMemorySize and FsUserFrom."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.volumes.plugins import fs_user, memory_volume_size, pod_memory_limit

Mi = 1 << 20


def container(memory: str | None, **extra: Any) -> dict[str, Any]:
    return {"name": "c", **extra, "resources": {"limits": {"memory": memory}} if memory else {}}


@pytest.mark.parametrize("containers,init,limit", [
    ([container("64Mi"), container("32Mi")], [], 96 * Mi),
    ([container("64Mi"), container(None)], [], 0),
    ([container("64Mi")], [container("128Mi")], 128 * Mi),
    ([container("64Mi")], [container("16Mi")], 64 * Mi),
    ([container("64Mi")], [container("16Mi", restartPolicy="Always")], 80 * Mi),
    ([container("64Mi")], [container(None)], 0),
], ids=["sum", "one-undeclared", "init-larger", "init-smaller", "sidecar-adds",
        "init-undeclared"])
def test_pod_memory_limit(containers: list[Any], init: list[Any], limit: int) -> None:
    assert pod_memory_limit({"spec": {"containers": containers, "initContainers": init}}) == limit


@pytest.mark.parametrize("size_limit,pod_limit,allocatable,size", [
    (None, None, None, None),
    (None, None, "1Gi", 1024 * Mi),
    (None, "64Mi", "1Gi", 64 * Mi),
    ("8Mi", "64Mi", "1Gi", 8 * Mi),
    ("128Mi", "64Mi", "1Gi", 64 * Mi),  # a sizeLimit above what the pod may use is moot
    ("8Mi", None, None, 8 * Mi),
], ids=["nothing-known", "allocatable", "pod-limit", "size-limit", "size-limit-above-pod",
        "size-limit-alone"])
def test_memory_volume_size(size_limit: str | None, pod_limit: str | None,
                            allocatable: str | None, size: int | None) -> None:
    spec = {"medium": "Memory", **({"sizeLimit": size_limit} if size_limit else {})}
    pod = {"spec": {"containers": [container(pod_limit)]}}
    assert memory_volume_size(spec, pod, {"memory": allocatable} if allocatable else {}) == size


def as_user(user: int | None) -> dict[str, Any]:
    return {"name": "c", **({"securityContext": {"runAsUser": user}} if user is not None else {})}


@pytest.mark.parametrize("pod_user,containers,init,user", [
    (None, [as_user(None)], [], None),
    (None, [as_user(1000), as_user(1000)], [], 1000),
    (None, [as_user(1000), as_user(1001)], [], None),
    (None, [as_user(1000)], [as_user(None)], None),
    (2000, [as_user(None)], [as_user(2000)], 2000),
    (2000, [as_user(1000)], [], 1000),
    (None, [as_user(0)], [], 0),
], ids=["nobody-says", "all-the-same", "two-users", "init-says-nothing", "pod-level",
        "container-overrides-pod", "root"])
def test_fs_user(pod_user: int | None, containers: list[Any], init: list[Any],
                 user: int | None) -> None:
    spec: dict[str, Any] = {"containers": containers, "initContainers": init}
    if pod_user is not None:
        spec["securityContext"] = {"runAsUser": pod_user}
    assert fs_user({"spec": spec}) == user
