from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
CREATED = (NOW - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(group: str, kind: str, obj: dict, **meta) -> list:
    obj = {"metadata": {"name": "x", "creationTimestamp": CREATED, **meta}, **obj}
    return table_for(group, kind, [obj], now=NOW)["rows"][0]["cells"]


def test_lease_cells() -> None:
    assert row("coordination.k8s.io", "Lease", {"spec": {"holderIdentity": "node-1"}}) == ["x", "node-1", "400d"]
    assert row("coordination.k8s.io", "Lease", {"spec": {}}) == ["x", "", "400d"]


@pytest.mark.parametrize(
    ("status", "deleting", "want"),
    [
        ({}, False, "pending"),
        ({"allocation": {}}, False, "allocated"),
        ({"allocation": {}, "reservedFor": [{"name": "p"}]}, False, "allocated,reserved"),
        ({}, True, "deleted"),
        ({"allocation": {}}, True, "deleted,allocated"),
    ],
    ids=["pending", "allocated", "reserved", "deleted", "deleted-allocated"],
)
def test_resource_claim_state(status: dict, deleting: bool, want: str) -> None:
    meta = {"deletionTimestamp": CREATED} if deleting else {}
    assert row("resource.k8s.io", "ResourceClaim", {"status": status}, **meta) == ["x", want, "400d"]


def test_resource_slice_cells() -> None:
    obj = {"spec": {"nodeName": "n1", "driver": "gpu.example.com", "pool": {"name": "n1"}}}
    assert row("resource.k8s.io", "ResourceSlice", obj) == ["x", "n1", "gpu.example.com", "n1", "400d"]
