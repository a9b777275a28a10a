from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.apiserver.patch.json_patch import (
    MAX_OPERATIONS,
    REJECTED,
    PatchError,
    apply_json_patch,
    json_equal,
)
from kubelite.machinery.errors import BadRequest, Invalid, RequestEntityTooLarge

DOC = {"foo": "bar", "baz": ["a", "b"], "nested": {"x": 1}, "a/b": 1, "m~n": 2}


# RFC 6902 appendix A and json-patch v4's own cases.
@pytest.mark.parametrize(
    ("doc", "ops", "expected"),
    [
        ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
         {"foo": "bar", "baz": "qux"}),
        ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
         {"foo": ["bar", "qux", "baz"]}),
        ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": "x"}], {"foo": ["bar", "x"]}),
        ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/1", "value": "x"}], {"foo": ["bar", "x"]}),
        ({"foo": ["a", "b"]}, [{"op": "add", "path": "/foo/-1", "value": "x"}],
         {"foo": ["a", "b", "x"]}),
        ({"foo": "bar"}, [{"op": "add", "path": "/foo", "value": ["abc", "def"]}],
         {"foo": ["abc", "def"]}),
        ({"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
         {"foo": "bar", "child": {"grandchild": {}}}),
        ({"foo": "bar"}, [{"op": "add", "path": "/n"}], {"foo": "bar", "n": None}),
        ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
        ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}],
         {"foo": ["bar", "baz"]}),
        ({"foo": ["a", "b", "c"]}, [{"op": "remove", "path": "/foo/-1"}], {"foo": ["a", "b"]}),
        ({"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}],
         {"baz": "boo", "foo": "bar"}),
        ({"foo": [1, 2]}, [{"op": "replace", "path": "/foo/0", "value": 9}], {"foo": [9, 2]}),
        ({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
         [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
         {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
        ({"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
         {"foo": ["all", "cows", "eat", "grass"]}),
        ({"foo": {"a": [1]}}, [{"op": "copy", "from": "/foo", "path": "/bar"}],
         {"foo": {"a": [1]}, "bar": {"a": [1]}}),
        ({"baz": "qux", "foo": ["a", 2, "c"]},
         [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
         {"baz": "qux", "foo": ["a", 2, "c"]}),
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
        ({"a/b": 1, "m~n": 2}, [{"op": "replace", "path": "/a~1b", "value": 3},
                                {"op": "remove", "path": "/m~0n"}], {"a/b": 3}),
        ({"": 1}, [{"op": "replace", "path": "/", "value": 2}], {"": 2}),
        ({"foo": 1}, [{"op": "test", "path": "/missing", "value": None}], {"foo": 1}),
        ({"foo": 1}, [{"op": "test", "path": "/foo", "value": 1.0}], {"foo": 1}),
        ({"foo": {"a": 1, "b": [1, 2]}}, [{"op": "test", "path": "", "value": {"foo": {"b": [1, 2], "a": 1}}}],
         {"foo": {"a": 1, "b": [1, 2]}}),
        ({"metadata": {"labels": {"a": "b"}}},
         [{"op": "add", "path": "/metadata/labels/c", "value": "d"},
          {"op": "remove", "path": "/metadata/labels/a"}],
         {"metadata": {"labels": {"c": "d"}}}),
        ({"foo": 1}, None, {"foo": 1}),
        ({"foo": 1}, [], {"foo": 1}),
    ],
    ids=["add-member", "add-array-element", "append-dash", "append-at-length", "add-negative",
         "add-array-value", "add-nested-object", "add-without-value-writes-null",
         "remove-member", "remove-element", "remove-negative", "replace-member",
         "replace-element", "move-member", "move-element", "copy-deep", "test-passes",
         "escaped-tilde-one", "escaped-keys", "empty-key", "test-missing-null-passes",
         "test-number-equality", "test-root", "labels-edit", "null-patch", "empty-patch"],
)
def test_apply(doc: dict[str, Any], ops: Any, expected: Any) -> None:
    before = copy.deepcopy(doc)
    assert apply_json_patch(doc, ops) == expected
    assert doc == before


@pytest.mark.parametrize(
    ("ops", "detail"),
    [
        ([{"op": "test", "path": "/foo", "value": "nope"}], "testing value /foo failed"),
        ([{"op": "test", "path": "/nested/x", "value": True}], "testing value /nested/x failed"),
        ([{"op": "test", "path": "/missing", "value": 1}], "testing value /missing failed"),
        ([{"op": "remove", "path": "/missing"}], "Unable to remove nonexistent key: missing"),
        ([{"op": "replace", "path": "/missing", "value": 1}], "doc is missing key: /missing"),
        ([{"op": "add", "path": "/missing/x", "value": 1}], "doc is missing path"),
        ([{"op": "add", "path": "/foo/x", "value": 1}], "doc is missing path"),
        ([{"op": "add", "path": "/baz/5", "value": 1}], "Unable to access invalid index: 5"),
        ([{"op": "add", "path": "/baz/-4", "value": 1}], "Unable to access invalid index: -4"),
        ([{"op": "remove", "path": "/baz/2"}], "Unable to access invalid index: 2"),
        ([{"op": "replace", "path": "/baz/x", "value": 1}], "not a proper array index"),
        ([{"op": "move", "from": "/missing", "path": "/x"}], "missing from path"),
        ([{"op": "move", "from": "/nested", "path": "/nested/y"}], "into its own child"),
        ([{"op": "copy", "path": "/x"}], "operation missing from field"),
        ([{"op": "add", "value": 1}], "operation missing path field"),
        ([{"op": "add", "path": "foo", "value": 1}], "path must start with '/'"),
        ([{"op": "frobnicate", "path": "/foo"}], "Unexpected kind: frobnicate"),
        ([{"path": "/foo"}], "Unexpected kind: None"),
        ([{"op": "add", "path": "", "value": {}}], "root"),
    ],
    ids=["test-mismatch", "test-bool-is-not-one", "test-missing", "remove-missing",
         "replace-missing", "add-missing-parent", "add-under-scalar", "add-past-end",
         "add-negative-past-start", "remove-past-end", "bad-index", "move-missing",
         "move-into-child", "copy-no-from", "no-path", "relative-path", "unknown-op",
         "no-op", "add-root"],
)
def test_apply_failures_are_422_with_upstream_message(ops: list[dict[str, Any]], detail: str) -> None:
    with pytest.raises(Invalid) as info:
        apply_json_patch(DOC, ops)
    assert info.value.code == 422
    assert info.value.message == REJECTED
    assert isinstance(info.value.__cause__, PatchError)
    assert detail in str(info.value.__cause__)


def test_failed_operation_leaves_document_untouched() -> None:
    doc = {"a": 1}
    with pytest.raises(Invalid):
        apply_json_patch(doc, [{"op": "add", "path": "/b", "value": 2},
                               {"op": "test", "path": "/a", "value": 9}])
    assert doc == {"a": 1}


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        ("x", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"),
        ([1], "json: cannot unmarshal number into Go value of type jsonpatch.Operation"),
        (["add"], "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
    ],
    ids=["object", "string", "number-op", "string-op"],
)
def test_undecodable_patch_is_400(ops: Any, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        apply_json_patch({}, ops)
    assert info.value.message == message


def test_too_many_operations_is_413() -> None:
    ops = [{"op": "test", "path": "/a", "value": 1}] * (MAX_OPERATIONS + 1)
    with pytest.raises(RequestEntityTooLarge) as info:
        apply_json_patch({"a": 1}, ops)
    assert info.value.message == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
        "got 10001"
    )
    assert apply_json_patch({"a": 1}, ops[:MAX_OPERATIONS]) == {"a": 1}


def test_added_values_are_copied_not_shared() -> None:
    value = {"x": [1]}
    result = apply_json_patch({}, [{"op": "add", "path": "/v", "value": value}])
    result["v"]["x"].append(2)
    assert value == {"x": [1]}


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [(1, 1.0, True), (True, 1, False), (False, 0, False), ({"a": [1, {"b": None}]},
     {"a": [1, {"b": None}]}, True), ([1, 2], [2, 1], False), ("1", 1, False), (None, None, True)],
    ids=["int-float", "bool-int", "false-zero", "nested", "order", "string-number", "nulls"],
)
def test_json_equal(a: Any, b: Any, equal: bool) -> None:
    assert json_equal(a, b) is equal
