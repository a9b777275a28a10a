from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.catalogue import GVK, RESOURCES
from kubelite.apiserver.validation import (
    check_body,
    check_delete_options,
    check_patched,
    check_subresource_body,
    go_print,
)
from kubelite.machinery import errors

CONFIGMAPS = next(s for s in RESOURCES if s.plural == "configmaps")

PRINTED = [
    ("map-keys-sorted", {"b": 1, "a": [True, None]}, "map[a:[true <nil>] b:1]"),
    ("nested", {"data": {"k": "v"}}, "map[data:map[k:v]]"),
    ("fraction", 1.5, "1.5"),
    ("integral-float", 2.0, "2"),
    ("float-exponent", 1e6, "1e+06"),
    ("small-float", 1e-5, "1e-05"),
    ("negative-float", -0.25, "-0.25"),
]


@pytest.mark.parametrize("value,text", [p[1:] for p in PRINTED], ids=[p[0] for p in PRINTED])
def test_go_print_matches_fmt_plus_v(value: Any, text: str) -> None:
    assert go_print(value) == text


def test_mistyped_body_is_a_400_with_the_kind_and_version() -> None:
    with pytest.raises(errors.BadRequest) as err:
        check_body(CONFIGMAPS, "v1", {"data": []}, "Strict")
    assert str(err.value) == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
        "array into Go struct field ConfigMap.data of type map[string]string")


def test_type_error_comes_before_unknown_fields() -> None:
    with pytest.raises(errors.BadRequest, match="cannot unmarshal number"):
        check_body(CONFIGMAPS, "v1", {"data": {"a": 1}, "bogus": 1}, "Strict")
    assert check_body(CONFIGMAPS, "v1", {"data": {"a": "1"}, "bogus": 1}, "Warn") == [
        'unknown field "bogus"']


def test_patched_object_mistyped_is_a_422_on_patch() -> None:
    patch = {"data": {"k": 2}}
    with pytest.raises(errors.Invalid) as err:
        check_patched(CONFIGMAPS, "v1", {"kind": "ConfigMap", "data": {"k": 2}}, "Strict",
                      patch, strategic=True)
    status = err.value.to_status()
    assert status["message"] == (
        ' "" is invalid: patch: Invalid value: "map[data:map[k:2]]": json: cannot unmarshal '
        "number into Go struct field ConfigMap.data of type string")
    assert status["details"]["causes"][0]["field"] == "patch"


def test_mistyped_subresource_body_is_a_400_in_its_own_kind() -> None:
    with pytest.raises(errors.BadRequest) as err:
        check_subresource_body(GVK("policy", "v1", "Eviction"), {"deleteOptions": []})
    assert str(err.value) == (
        'Eviction in version "v1" cannot be handled as a Eviction: json: cannot unmarshal '
        "array into Go struct field Eviction.deleteOptions of type v1.DeleteOptions")


def test_mistyped_delete_options_is_a_400_with_the_decoder_message() -> None:
    with pytest.raises(errors.BadRequest) as err:
        check_delete_options({"gracePeriodSeconds": "5"})
    assert str(err.value) == ("json: cannot unmarshal string into Go struct field "
                              "DeleteOptions.gracePeriodSeconds of type int64")
