from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import PRINTERS
from kubelite.apiserver.table import table_for
from kubelite.machinery.errors import BadRequest

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
CREATED = "2024-06-01T11:00:00Z"


def cm(name: str) -> dict:
    return {"metadata": {"name": name, "namespace": "default", "creationTimestamp": CREATED}, "data": {"k": "v"}}


def test_table_envelope() -> None:
    table = table_for("", "ConfigMap", [cm("a"), cm("b")], now=NOW)
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {}
    assert [row["cells"] for row in table["rows"]] == [["a", 1, "60m"], ["b", 1, "60m"]]


@pytest.mark.parametrize("include", ["Metadata", ""], ids=["metadata", "empty-means-metadata"])
def test_rows_carry_partial_object_metadata_by_default(include: str) -> None:
    obj = cm("a")
    row = table_for("", "ConfigMap", [obj], now=NOW, include_object=include)["rows"][0]
    assert row["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
    assert row["object"]["metadata"] is obj["metadata"]  # referenced, not copied


def test_rows_carry_the_object_or_nothing() -> None:
    obj = cm("a")
    assert table_for("", "ConfigMap", [obj], now=NOW, include_object="Object")["rows"][0]["object"] is obj
    assert "object" not in table_for("", "ConfigMap", [obj], now=NOW, include_object="None")["rows"][0]


def test_unknown_include_object_is_a_bad_request() -> None:
    with pytest.raises(BadRequest):
        table_for("", "ConfigMap", [], now=NOW, include_object="Everything")


@pytest.mark.parametrize(
    ("group", "kind"),
    [
        ("", "LimitRange"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("example.com", "Unknown"),
    ],
)
def test_kinds_without_printer_get_default_table(group: str, kind: str) -> None:
    objs = [
        {"metadata": {"name": "a", "creationTimestamp": CREATED}},
        {"metadata": {"name": "b", "creationTimestamp": "2024-06-01T13:00:00+02:00"}},
        {"metadata": {"name": "c"}},
    ]
    table = table_for(group, kind, objs, now=NOW)
    assert table["columnDefinitions"][0]["name"] == "Name"
    assert table["columnDefinitions"][0]["format"] == "name"
    assert {k: table["columnDefinitions"][1][k] for k in ("name", "type", "format", "priority")} == {
        "name": "Created At",
        "type": "date",
        "format": "",
        "priority": 0,
    }
    assert [row["cells"] for row in table["rows"]] == [
        ["a", CREATED],
        ["b", "2024-06-01T11:00:00Z"],
        ["c", "0001-01-01T00:00:00Z"],
    ]


def test_column_definitions_are_fresh_per_table() -> None:
    first = table_for("", "Pod", [], now=NOW)
    first["columnDefinitions"][0]["name"] = "changed"
    assert table_for("", "Pod", [], now=NOW)["columnDefinitions"][0]["name"] == "Name"


def test_every_printer_has_one_name_column_and_cells_for_each_column() -> None:
    for (group, kind), printer in PRINTERS.items():
        names = [c["name"] for c in printer.columns]
        assert names.count("Name") == 1 or kind == "Event", (group, kind)
        cells = printer.cells({"metadata": {"name": "x"}}, 0)
        extra = 1 if kind == "IPAddress" else 0  # upstream's IPAddress prints an undeclared age cell
        assert len(cells) == len(printer.columns) + extra, (group, kind)


def test_ten_thousand_pods_build_in_one_pass() -> None:
    start = datetime(2024, 6, 1, tzinfo=timezone.utc)
    pods = [
        {
            "metadata": {
                "name": f"pod-{i}",
                "namespace": "default",
                "creationTimestamp": (start + timedelta(seconds=i % 3600)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "spec": {"nodeName": f"node-{i % 100}", "containers": [{"name": "c", "image": "busybox"}]},
            "status": {
                "phase": "Running",
                "podIP": f"10.42.{i // 256 % 256}.{i % 256}",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "c", "ready": True, "restartCount": 0, "state": {"running": {}}}],
            },
        }
        for i in range(10_000)
    ]
    table = table_for("", "Pod", pods, now=NOW)
    assert len(table["rows"]) == 10_000
    assert table["rows"][9_999]["cells"][:3] == ["pod-9999", "1/1", "Running"]
    assert table["rows"][0]["object"]["metadata"] is pods[0]["metadata"]
