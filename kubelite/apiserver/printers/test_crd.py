from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for
from kubelite.apiserver.printers.crd import print_value
from kubelite.machinery.go_json import go_float

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


WIDGET = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w1", "creationTimestamp": ago(3 * 86400 + 5)},
    "spec": {"replicas": 3, "ratio": 0.5, "enabled": True, "tags": ["a", "b"], "limits": {"z": 1, "a": "<x>"}},
    "status": {"conditions": [{"type": "Ready", "status": "True"}], "observed": 2.0, "since": ago(90)},
}


def test_crd_without_columns_gets_name_and_age() -> None:
    table = table_for("example.com", "Widget", [WIDGET], now=NOW, crd_columns=[])
    assert [(c["name"], c["type"], c["format"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", "string", "name", 0),
        ("Age", "date", "", 0),
    ]
    assert table["rows"][0]["cells"] == ["w1", "3d"]


def test_crd_columns_definitions_follow_the_crd() -> None:
    columns = [
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {"name": "Notes", "type": "string", "jsonPath": ".spec.notes", "description": "Free text", "priority": 1, "format": "byte"},
    ]
    defs = table_for("example.com", "Widget", [], now=NOW, crd_columns=columns)["columnDefinitions"]
    assert defs[1] == {
        "name": "Replicas",
        "type": "integer",
        "format": "",
        "description": "Custom resource definition column (in JSONPath format): .spec.replicas",
        "priority": 0,
    }
    assert defs[2] == {"name": "Notes", "type": "string", "format": "byte", "description": "Free text", "priority": 1}


@pytest.mark.parametrize(
    ("type_", "path", "want"),
    [
        ("integer", ".spec.replicas", 3),
        ("integer", ".spec.ratio", 0),
        ("integer", ".spec.enabled", None),
        ("integer", ".spec.missing", None),
        ("number", ".spec.replicas", 3.0),
        ("number", ".spec.ratio", 0.5),
        ("boolean", ".spec.enabled", True),
        ("boolean", ".spec.replicas", None),
        ("string", ".spec.replicas", "3"),
        ("string", ".spec.enabled", "true"),
        ("string", ".status.observed", "2"),
        ("string", ".spec.tags", '["a","b"]'),
        ("string", ".spec.limits", '{"a":"\\u003cx\\u003e","z":1}'),
        ("string", '.status.conditions[?(@.type=="Ready")].status', "True"),
        ("string", ".spec.missing", None),
        ("date", ".status.since", "1m"),  # short form, unlike built-in ages ("90s")
        ("date", ".metadata.creationTimestamp", "3d"),
        ("date", ".metadata.name", "<invalid>"),
        ("date", ".spec.replicas", None),
    ],
)
def test_crd_cell_follows_column_type(type_: str, path: str, want: object) -> None:
    columns = [{"name": "C", "type": type_, "jsonPath": path}]
    cells = table_for("example.com", "Widget", [WIDGET], now=NOW, crd_columns=columns)["rows"][0]["cells"]
    assert cells == ["w1", want]


def test_crd_unparseable_path_prints_empty_cells() -> None:
    columns = [{"name": "Bad", "type": "string", "jsonPath": ".spec["}]
    assert table_for("example.com", "Widget", [WIDGET], now=NOW, crd_columns=columns)["rows"][0]["cells"] == ["w1", None]


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (2.0, "2"),
        (0.5, "0.5"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (1e21, "1e+21"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5, "-2.5"),
        (0.0, "0"),
    ],
    ids=lambda v: repr(v),
)
def test_go_float_formats_like_fmt_v(value: float, want: str) -> None:
    assert go_float(value) == want


def test_print_value_of_null_is_no_value() -> None:
    assert print_value(None) == "<no value>"
