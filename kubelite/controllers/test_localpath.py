"""The local-path provisioner's pure rules: which claims it serves, what it refuses, the
PV it makes and which directories it may remove."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelite.controllers import localpath
from kubelite.api import volume_claims as vc

Obj = dict[str, Any]
WFFC = {"metadata": {"name": "local-path"}, "provisioner": localpath.PROVISIONER,
        "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}
IMMEDIATE = {**WFFC, "volumeBindingMode": "Immediate"}
ASKED = {vc.ANN_STORAGE_PROVISIONER: localpath.PROVISIONER}


def claim(annotations: dict[str, str] | None = None, **spec: Any) -> Obj:
    return {"metadata": {"name": "data", "namespace": "ns", "uid": "u1", "resourceVersion": "3",
                         "annotations": annotations or {}},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local-path",
                     "resources": {"requests": {"storage": "2Gi"}}, **spec}}


@pytest.mark.parametrize(("given", "storage_class", "wanted"), [
    (claim({**ASKED, vc.ANN_SELECTED_NODE: "n1"}), WFFC, True),
    (claim(ASKED), WFFC, False),
    (claim(ASKED), IMMEDIATE, True),
    (claim({vc.ANN_BETA_STORAGE_PROVISIONER: localpath.PROVISIONER, vc.ANN_SELECTED_NODE: "n1"}),
     WFFC, True),
    (claim({vc.ANN_SELECTED_NODE: "n1"}), WFFC, False),
    (claim({**ASKED, vc.ANN_SELECTED_NODE: "n1"}, volumeName="pv"), WFFC, False),
    (claim({**ASKED, vc.ANN_SELECTED_NODE: "n1"}), {**WFFC, "provisioner": "other.io/x"}, False),
    (claim({**ASKED, vc.ANN_SELECTED_NODE: "n1"}), None, False),
], ids=["selected-node", "waits-for-a-node", "immediate-needs-no-node", "beta-annotation",
        "not-asked-by-the-binder", "already-bound", "another-provisioners-class", "no-class"])
def test_wants_provisioning(given: Obj, storage_class: Obj | None, wanted: bool) -> None:
    assert localpath.wants_provisioning(given, storage_class) is wanted


@pytest.mark.parametrize(("given", "reason"), [
    (claim({vc.ANN_SELECTED_NODE: "n1"}), ""),
    (claim({vc.ANN_SELECTED_NODE: "n1"}, accessModes=["ReadWriteOncePod"]), ""),
    (claim({vc.ANN_SELECTED_NODE: "n1"}, accessModes=["ReadWriteMany"]),
     "NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes"),
    (claim({vc.ANN_SELECTED_NODE: "n1"}, selector={"matchLabels": {"a": "b"}}),
     "claim.Spec.Selector is not supported"),
    (claim(), "configuration error, no node was specified"),
], ids=["fine", "read-write-once-pod", "read-write-many", "selector", "no-node"])
def test_refusal(given: Obj, reason: str) -> None:
    assert localpath.refusal(given) == reason


def test_the_volume_is_pinned_to_the_nodes_hostname_and_names_the_claim() -> None:
    node = {"metadata": {"name": "sim-1", "labels": {"kubernetes.io/hostname": "host-1"}}}
    pv = localpath.volume_for(claim(), WFFC, node, Path("/d/storage/pvc-u1_ns_data"))
    assert pv["metadata"] == {"name": "pvc-u1",
                              "annotations": {vc.ANN_DYNAMICALLY_PROVISIONED: localpath.PROVISIONER}}
    spec = pv["spec"]
    assert spec["hostPath"] == {"path": "/d/storage/pvc-u1_ns_data", "type": "DirectoryOrCreate"}
    assert spec["nodeAffinity"]["required"]["nodeSelectorTerms"] == [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["host-1"]}]}]
    assert (spec["capacity"], spec["persistentVolumeReclaimPolicy"], spec["storageClassName"]) == (
        {"storage": "2Gi"}, "Delete", "local-path")
    assert vc.is_bound_to_claim(pv, claim())


@pytest.mark.parametrize(("path", "owned"), [
    ("/d/storage/pvc-u1_ns_data", True),
    ("/d/storage/pvc-u1_ns_data/", True),
    ("/d/storage/pvc-other_ns_data", False),
    ("/d/storage", False),
    ("/d/storage/../pvc-u1_ns_data", False),
    ("/d/storage/sub/pvc-u1_ns_data", False),
    ("/", False),
], ids=["ours", "trailing-slash", "another-pv-name", "the-storage-dir", "dot-dot-escape",
        "nested", "root"])
def test_only_its_own_directories_may_be_removed(path: str, owned: bool) -> None:
    pv = {"metadata": {"name": "pvc-u1"}, "spec": {"hostPath": {"path": path}}}
    assert (localpath.owned_directory(pv, Path("/d/storage")) is not None) is owned
