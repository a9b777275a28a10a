"""Local storage isolation as upstream's localStorageEviction
(eviction_manager_test.go TestLocalStorageEviction's cases)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.eviction.local_storage import violation
from kubelite.kubelet.eviction.signals import ContainerUsage, PodUsage, VolumeUsage

Obj = dict[str, Any]
Mi = 1 << 20


def pod(*, size_limit: str | None = None, limit: str | None = None,
        second_limit: str | None = None) -> Obj:
    def container(name: str, value: str | None) -> Obj:
        return {"name": name,
                "resources": {"limits": {"ephemeral-storage": value}} if value else {}}
    empty_dir = {"sizeLimit": size_limit} if size_limit else {}
    return {"metadata": {"name": "p", "uid": "u"},
            "spec": {"containers": [container("app", limit), container("side", second_limit)],
                     "volumes": [{"name": "scratch", "emptyDir": empty_dir},
                                 {"name": "host", "hostPath": {"path": "/tmp"}}]}}


def usage(*, scratch: int = 0, host: int = 0, rootfs: int = 0, logs: int = 0) -> PodUsage:
    return PodUsage((ContainerUsage("app", rootfs_used_bytes=rootfs, logs_used_bytes=logs),
                     ContainerUsage("side")),
                    {"scratch": VolumeUsage(scratch), "host": VolumeUsage(host)})


@pytest.mark.parametrize("the_pod,the_usage,dedicated,expected", [
    pytest.param(pod(size_limit="1Mi"), usage(scratch=2 * Mi), False,
                 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ',
                 id="emptydir-over-its-size-limit"),
    pytest.param(pod(size_limit="1Mi"), usage(scratch=Mi), False, None,
                 id="emptydir-at-its-size-limit"),
    pytest.param(pod(), usage(scratch=900 * Mi), False, None, id="emptydir-without-size-limit"),
    pytest.param(pod(limit="1Mi", second_limit="1Mi"), usage(scratch=3 * Mi), False,
                 "Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. ",
                 id="pod-total-over-the-containers-limits"),
    pytest.param(pod(limit="1Mi", second_limit="1Mi"), usage(host=30 * Mi), False, None,
                 id="hostpath-is-not-ephemeral"),
    pytest.param(pod(limit="1Mi"), usage(rootfs=2 * Mi), False,
                 "Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. ",
                 id="the-pod-total-goes-before-the-container"),
    pytest.param(pod(limit="1Mi", second_limit="10Mi"), usage(rootfs=2 * Mi), False,
                 'Container app exceeded its local ephemeral storage limit "1Mi". ',
                 id="container-writable-layer-over-its-limit"),
    pytest.param(pod(limit="1Mi", second_limit="10Mi"), usage(rootfs=2 * Mi), True,
                 None, id="with-an-imagefs-only-logs-count"),
    pytest.param(pod(size_limit="1Mi", limit="1Mi"), usage(scratch=2 * Mi, rootfs=2 * Mi), False,
                 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ',
                 id="emptydir-first"),
])
def test_local_storage_violation(the_pod: Obj, the_usage: PodUsage, dedicated: bool,
                                 expected: str | None) -> None:
    assert violation(the_pod, the_usage, dedicated_image_fs=dedicated) == expected
