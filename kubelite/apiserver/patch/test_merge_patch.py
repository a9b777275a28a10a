from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.apiserver.patch.merge_patch import (
    ERR_BAD_PATCH,
    apply_merge_patch,
    create_merge_patch,
)
from kubelite.machinery.errors import BadRequest


# RFC 7386 appendix A (object-rooted cases) plus json-patch v4's null pruning.
@pytest.mark.parametrize(
    ("doc", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        ({"a": "x"}, {"a": {"b": None, "c": 1}}, {"a": {"c": 1}}),
        ({}, {"a": [None, {"b": None, "c": 1}]}, {"a": [None, {"c": 1}]}),
        ({"a": {"x": 1}}, {"a": [None, {"b": None}]}, {"a": [None, {"b": None}]}),
        ({"a": 1}, {}, {"a": 1}),
        ({"missing": 1}, {"gone": None}, {"missing": 1}),
        ({"metadata": {"labels": {"a": "1", "b": "2"}, "name": "x"}},
         {"metadata": {"labels": {"a": None, "c": "3"}}},
         {"metadata": {"labels": {"b": "2", "c": "3"}, "name": "x"}}),
        ({"spec": {"containers": [{"name": "a", "image": "x"}]}},
         {"spec": {"containers": [{"name": "a", "image": "y"}]}},
         {"spec": {"containers": [{"name": "a", "image": "y"}]}}),
    ],
    ids=["replace", "add", "delete", "delete-one", "array-to-scalar", "scalar-to-array",
         "nested-merge", "array-replaced", "existing-null-kept", "new-object-pruned",
         "scalar-to-object-pruned", "new-array-objects-pruned-nulls-kept",
         "object-to-array-unpruned", "empty-patch", "delete-missing", "labels", "containers"],
)
def test_apply_merge_patch(doc: dict[str, Any], patch: dict[str, Any], expected: Any) -> None:
    before_doc, before_patch = copy.deepcopy(doc), copy.deepcopy(patch)
    result = apply_merge_patch(doc, patch)
    assert result == expected
    assert doc == before_doc and patch == before_patch


@pytest.mark.parametrize("patch", [None, "x", 1, True, ["a"]], ids=repr)
def test_non_object_patch_is_400(patch: Any) -> None:
    with pytest.raises(BadRequest) as info:
        apply_merge_patch({"a": 1}, patch)
    assert info.value.message == ERR_BAD_PATCH


def test_result_shares_nothing_with_inputs() -> None:
    doc = {"a": {"b": [1]}}
    patch = {"c": {"d": [2]}}
    result = apply_merge_patch(doc, patch)
    result["a"]["b"].append(9)
    result["c"]["d"].append(9)
    assert doc == {"a": {"b": [1]}} and patch == {"c": {"d": [2]}}


@pytest.mark.parametrize(
    ("original", "modified", "patch"),
    [
        ({"a": 1}, {"a": 1}, {}),
        ({"a": 1}, {"a": 2}, {"a": 2}),
        ({"a": 1}, {}, {"a": None}),
        ({}, {"a": {"b": 1}}, {"a": {"b": 1}}),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}, {"a": {"c": 3}}),
        ({"a": {"b": 1}}, {"a": {}}, {"a": {"b": None}}),
        ({"a": [1, 2]}, {"a": [1, 2]}, {}),
        ({"a": [1, 2]}, {"a": [2]}, {"a": [2]}),
        ({"a": 1}, {"a": True}, {"a": True}),
        ({"a": 1}, {"a": 1.0}, {}),
        ({"a": {"b": 1}}, {"a": "x"}, {"a": "x"}),
    ],
    ids=["same", "changed", "removed", "added-object", "nested-change", "nested-removal",
         "same-array", "changed-array", "int-to-bool", "int-float-equal", "object-to-scalar"],
)
def test_create_merge_patch_round_trips(original: Any, modified: Any, patch: Any) -> None:
    created = create_merge_patch(original, modified)
    assert created == patch
    assert apply_merge_patch(original, created) == modified
