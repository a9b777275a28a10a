"""fieldsV1 encoding: path elements, ordering and the "." self marker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubelite.apiserver.patch.fieldpath import FieldSet, PathElement, go_json, path_string

F = PathElement.field


@pytest.mark.parametrize(
    "element,encoded,printed",
    [
        pytest.param(F("spec"), "f:spec", ".spec", id="field"),
        pytest.param(PathElement.key({"name": "x"}), 'k:{"name":"x"}', '[name="x"]', id="key"),
        pytest.param(
            PathElement.key({"protocol": "TCP", "containerPort": 80}),
            'k:{"containerPort":80,"protocol":"TCP"}', '[containerPort=80,protocol="TCP"]', id="keys-sorted-by-name",
        ),
        pytest.param(PathElement.of_value("a<b"), 'v:"a\\u003cb"', '[="a<b"]', id="value-go-escaped"),
        pytest.param(PathElement.of_value(3.0), "v:3", "[=3]", id="integral-float-as-int"),
        pytest.param(PathElement.index(2), "i:2", "[2]", id="index"),
    ],
)
def test_path_element_encoding(element: PathElement, encoded: str, printed: str) -> None:
    assert element.encode() == encoded
    assert str(element) == printed
    assert PathElement.parse(encoded) == element


def test_fields_v1_puts_self_marker_first_and_sorts_elements() -> None:
    item = PathElement.key({"name": "b"})
    fields = FieldSet.of(
        (F("spec"), F("replicas")),
        (F("metadata"), F("labels"), F("z")),
        (F("metadata"), F("labels"), F("a")),
        (F("spec"), F("c"), item),
        (F("spec"), F("c"), item, F("name")),
        (F("spec"), F("c"), PathElement.key({"name": "a"})),
        (F("spec"), F("s"), PathElement.of_value(True)),
        (F("spec"), F("s"), PathElement.of_value("x")),
        (F("spec"), F("s"), PathElement.of_value(2)),
    )
    encoded = fields.to_fields_v1()
    assert json.dumps(encoded, separators=(",", ":")) == (
        '{"f:metadata":{"f:labels":{"f:a":{},"f:z":{}}},'
        '"f:spec":{"f:c":{"k:{\\"name\\":\\"a\\"}":{},"k:{\\"name\\":\\"b\\"}":{".":{},"f:name":{}}},'
        '"f:replicas":{},"f:s":{"v:2":{},"v:\\"x\\"":{},"v:true":{}}}}'
    )
    assert FieldSet.from_fields_v1(encoded) == fields


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param({"f:a": {}}, id="leaf"),
        pytest.param({"f:a": {".": {}, "f:b": {}}}, id="member-with-children"),
        pytest.param({"f:a": {"f:b": {"f:c": {}}}}, id="nested"),
    ],
)
def test_fields_v1_round_trips(encoded: dict[str, Any]) -> None:
    assert FieldSet.from_fields_v1(encoded).to_fields_v1() == encoded


def test_unknown_element_kinds_are_dropped() -> None:
    assert FieldSet.from_fields_v1({"x:y": {}, "f:a": {}}).to_fields_v1() == {"f:a": {}}


def test_set_algebra() -> None:
    a = FieldSet.of((F("a"),), (F("b"), F("c")), (F("b"), F("d")))
    b = FieldSet.of((F("b"), F("c")), (F("e"),))
    assert a.intersection(b) == FieldSet.of((F("b"), F("c")))
    assert a.difference(b) == FieldSet.of((F("a"),), (F("b"), F("d")))
    assert a.union(b) == FieldSet.of((F("a"),), (F("b"), F("c")), (F("b"), F("d")), (F("e"),))
    assert a.recursive_difference(FieldSet.of((F("b"),))) == FieldSet.of((F("a"),))
    assert FieldSet.of(()).empty()


@pytest.mark.parametrize(("other", "expected"), [
    (FieldSet.of((F("a"),)), True),
    (FieldSet.of((F("b"), F("c"))), True),
    (FieldSet.of((F("b"),)), False),  # b is a subtree of a, not one of its paths
    (FieldSet.of((F("b"), F("x"))), False),
    (FieldSet.of((F("z"), F("c"))), False),
    (FieldSet(), False),
], ids=["member", "nested member", "subtree node only", "other leaf below", "other parent",
        "empty"])
def test_intersects_agrees_with_intersection(other: FieldSet, expected: bool) -> None:
    fields = FieldSet.of((F("a"),), (F("b"), F("c")), (F("b"), F("d")))
    assert fields.intersects(other) is expected
    assert (not fields.intersection(other).empty()) is expected


def test_algebra_leaves_its_operands_as_they_were() -> None:
    a = FieldSet.of((F("a"),), (F("b"), F("c")))
    b = FieldSet.of((F("b"), F("d")), (F("e"), F("f")))
    before_a, before_b = list(a.paths()), list(b.paths())
    for result in (a.union(b), a.difference(b), b.recursive_difference(a), b.union(a)):
        assert list(result.paths())
    assert list(a.paths()) == before_a and list(b.paths()) == before_b


def test_paths_list_members_before_subtrees() -> None:
    fields = FieldSet.of((F("spec"), F("template"), F("x")), (F("spec"), F("replicas")))
    assert [path_string(p) for p in fields.paths()] == [".spec.replicas", ".spec.template.x"]


def test_go_json_matches_encoding_json() -> None:
    assert go_json({"b": 1.0, "a": ["<&>"]}) == '{"a":["\\u003c\\u0026\\u003e"],"b":1}'
