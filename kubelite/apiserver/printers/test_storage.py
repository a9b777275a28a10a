from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
CREATED = (NOW - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(group: str, kind: str, obj: dict, **meta) -> list:
    obj = {"metadata": {"name": "x", "creationTimestamp": CREATED, **meta}, **obj}
    return table_for(group, kind, [obj], now=NOW)["rows"][0]["cells"]


def test_persistent_volume_cells() -> None:
    obj = {
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce", "ReadWriteOncePod", "ReadOnlyMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "local-path",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    assert row("", "PersistentVolume", obj) == [
        "x", "10Gi", "RWO,ROX,RWX,RWOP", "Retain", "Bound", "default/data", "local-path", "<unset>", "", "5h", "Filesystem",
    ]


def test_persistent_volume_being_deleted_with_beta_class() -> None:
    obj = {"spec": {"storageClassName": "ignored"}, "status": {"phase": "Released", "reason": "gone"}}
    cells = row(
        "",
        "PersistentVolume",
        obj,
        deletionTimestamp=CREATED,
        annotations={"volume.beta.kubernetes.io/storage-class": "old"},
    )
    assert cells == ["x", "0", "", "", "Terminating", "", "old", "<unset>", "gone", "5h", "<unset>"]


@pytest.mark.parametrize(
    ("spec", "status", "want"),
    [
        (
            {"volumeName": "pv-1", "storageClassName": "fast", "volumeMode": "Block", "volumeAttributesClassName": "gold"},
            {"phase": "Bound", "capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"]},
            ["Bound", "pv-1", "5Gi", "RWO", "fast", "gold", "5h", "Block"],
        ),
        (
            {"storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}},
            {"phase": "Pending"},
            ["Pending", "", "", "", "fast", "<unset>", "5h", "<unset>"],
        ),
    ],
    ids=["bound", "pending"],
)
def test_persistent_volume_claim_cells(spec: dict, status: dict, want: list) -> None:
    assert row("", "PersistentVolumeClaim", {"spec": spec, "status": status}) == ["x", *want]


@pytest.mark.parametrize(
    ("obj", "annotations", "want"),
    [
        ({"provisioner": "rancher.io/local-path"}, {}, ["x", "rancher.io/local-path", "Delete", "Immediate", False, "5h"]),
        (
            {"provisioner": "p", "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": True},
            {"storageclass.kubernetes.io/is-default-class": "true"},
            ["x (default)", "p", "Retain", "WaitForFirstConsumer", True, "5h"],
        ),
    ],
    ids=["defaults", "default-class"],
)
def test_storage_class_cells(obj: dict, annotations: dict, want: list) -> None:
    assert row("storage.k8s.io", "StorageClass", obj, annotations=annotations) == want


def test_csi_driver_cells() -> None:
    assert row("storage.k8s.io", "CSIDriver", {"spec": {}}) == ["x", True, False, False, "<unset>", False, "<none>", "5h"]
    spec = {
        "attachRequired": False,
        "podInfoOnMount": True,
        "storageCapacity": True,
        "tokenRequests": [{"audience": "a"}, {"audience": "b"}],
        "requiresRepublish": True,
        "volumeLifecycleModes": ["Persistent", "Ephemeral"],
    }
    assert row("storage.k8s.io", "CSIDriver", {"spec": spec}) == ["x", False, True, True, "a,b", True, "Persistent,Ephemeral", "5h"]


def test_csi_node_and_volume_attachment_cells() -> None:
    assert row("storage.k8s.io", "CSINode", {"spec": {"drivers": [{"name": "a"}, {"name": "b"}]}}) == ["x", 2, "5h"]
    attachment = {"spec": {"attacher": "csi.example.com", "nodeName": "n1", "source": {"persistentVolumeName": "pv"}}, "status": {"attached": True}}
    assert row("storage.k8s.io", "VolumeAttachment", attachment) == ["x", "csi.example.com", "pv", "n1", True, "5h"]
    assert row("storage.k8s.io", "VolumeAttachment", {"spec": {}}) == ["x", "", "", "", False, "5h"]
