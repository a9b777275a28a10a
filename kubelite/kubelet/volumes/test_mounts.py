"""container_mounts refusing what upstream's makeMounts refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelite.kubelet.parts import VolumeError
from kubelite.kubelet.volumes.mounts import container_mounts, expand

Obj = dict[str, Any]


@pytest.mark.parametrize("mount,message", [
    ({"name": "nope", "mountPath": "/x"}, 'cannot find volume "nope" to mount into container "app"'),
    ({"name": "work", "mountPath": "/x", "subPathExpr": "$(UNSET)"}, "missing value for UNSET"),
    ({"name": "work", "mountPath": "/x", "subPath": "../etc"},
     "unable to provision SubPath `../etc`: must not contain '..'"),
    ({"name": "work", "mountPath": "/x", "subPath": "/etc"},
     "unable to provision SubPath `/etc`: must be a relative path"),
    ({"name": "work", "mountPath": "/x", "mountPropagation": "Bidirectional"},
     "Bidirectional mount propagation is available only to privileged containers"),
    ({"name": "work", "mountPath": "/x", "mountPropagation": "Sideways"},
     "invalid MountPropagation mode: 'Sideways'"),
], ids=["unknown-volume", "unset-variable", "backstep", "absolute", "bidirectional-unprivileged",
        "bad-propagation"])
def test_bad_volume_mounts_are_refused(tmp_path: Path, mount: Obj, message: str) -> None:
    (tmp_path / "work").mkdir()
    pod = {"metadata": {"uid": "u1", "name": "p", "namespace": "default"},
           "spec": {"volumes": [{"name": "work", "emptyDir": {}}]}}
    with pytest.raises(VolumeError) as caught:
        container_mounts(tmp_path, pod, {"name": "app", "volumeMounts": [mount]},
                         {"work": str(tmp_path / "work")})
    assert str(caught.value) == message


def test_sub_path_may_not_leave_the_volume_by_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "escape").symlink_to("/etc")
    pod: Obj = {"metadata": {"uid": "u1"}, "spec": {"volumes": [{"name": "w", "emptyDir": {}}]}}
    with pytest.raises(VolumeError, match="not within volume path"):
        container_mounts(tmp_path, pod, {"name": "app", "volumeMounts": [
            {"name": "w", "mountPath": "/x", "subPath": "escape"}]}, {"w": str(tmp_path / "work")})



@pytest.mark.parametrize("text,env,expanded,missing", [
    ("$(A)/x", {"A": "a"}, "a/x", set()),
    ("$$(A)", {"A": "a"}, "$(A)", set()),
    ("$(B)", {}, "", {"B"}),
    ("$(A", {"A": "a"}, "$(A", set()),
    ("a$b", {}, "a$b", set()),
], ids=["variable", "escaped", "missing", "unclosed", "lone-dollar"])
def test_expand(text: str, env: dict[str, str], expanded: str, missing: set[str]) -> None:
    assert expand(text, env) == (expanded, missing)


@pytest.mark.parametrize("volume,read_only", [
    ({"emptyDir": {}}, False), ({"configMap": {"name": "c"}}, True),
    ({"secret": {"secretName": "s"}}, True), ({"projected": {"sources": []}}, True),
    ({"downwardAPI": {}}, True), ({"hostPath": {"path": "/x"}}, False),
    ({"persistentVolumeClaim": {"claimName": "c"}}, False),
    ({"persistentVolumeClaim": {"claimName": "c", "readOnly": True}}, True),
], ids=["emptydir", "configmap", "secret", "projected", "downward", "hostpath", "claim",
        "read-only-claim"])
def test_volumes_the_kubelet_writes_are_read_only(tmp_path: Path, volume: Obj,
                                                  read_only: bool) -> None:
    pod = {"metadata": {"uid": "u1"}, "spec": {"volumes": [{"name": "v", **volume}]}}
    mounts = container_mounts(tmp_path, pod, {"name": "app", "terminationMessagePath": "",
                                              "volumeMounts": [{"name": "v", "mountPath": "/v"}]},
                              {"v": str(tmp_path)})
    assert [(m.container_path, m.readonly) for m in mounts] == [("/v", read_only)]
