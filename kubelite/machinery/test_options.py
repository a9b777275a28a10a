"""Option classes: decoded from the query by their rows, checked with upstream's words."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import MultiDict, MultiDictProxy

from kubelite.machinery import errors
from kubelite.machinery.delete_options import DeleteOptions
from kubelite.machinery.options import (
    CreateOptions,
    GetOptions,
    ListOptions,
    PatchOptions,
    UpdateOptions,
)


def query(text: str) -> MultiDictProxy[str]:
    pairs = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in text.split("&") if p]
    return MultiDictProxy(MultiDict(pairs))


def test_list_options_read_every_list_and_watch_parameter() -> None:
    opts = ListOptions.parse(query(
        "watch=True&allowWatchBookmarks=1&labelSelector=a%3Db&fieldSelector=f&limit=5"
        "&resourceVersion=7&timeoutSeconds=30&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan"))
    assert opts == ListOptions(
        watch=True, allow_watch_bookmarks=True, label_selector="a%3Db", field_selector="f",
        limit=5, resource_version="7", timeout_seconds=30, send_initial_events=True,
        resource_version_match="NotOlderThan")
    assert ListOptions.parse(query("continue=token")).continue_ == "token"


def test_a_parameter_of_another_verb_is_ignored() -> None:
    assert GetOptions.parse(query("limit=abc&resourceVersion=3")) == GetOptions(
        resource_version="3")


def test_the_legacy_watch_path_is_validated_as_a_watch() -> None:
    assert ListOptions.parse(query(""), force_watch=True).watch is True
    with pytest.raises(errors.Invalid):
        ListOptions.parse(query("resourceVersionMatch=NotOlderThan&resourceVersion=1"),
                          force_watch=True)


INVALID = [
    ("list-match-without-rv", ListOptions.parse, "resourceVersionMatch=Exact",
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
     "resourceVersionMatch is forbidden unless resourceVersion is provided"),
    ("list-match-unknown", ListOptions.parse, "resourceVersionMatch=Newest&resourceVersion=1",
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: '
     '"Newest": supported values: "Exact", "NotOlderThan", ""'),
    ("list-exact-zero", ListOptions.parse, "resourceVersionMatch=Exact&resourceVersion=0",
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
     'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
    ("list-match-with-continue", ListOptions.parse,
     "resourceVersionMatch=Exact&resourceVersion=5&continue=t",
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
     "resourceVersionMatch is forbidden when continue is provided"),
    ("list-send-initial-events", ListOptions.parse, "sendInitialEvents=false",
     'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: '
     "sendInitialEvents is forbidden for list"),
    ("watch-match-alone", ListOptions.parse, "watch=1&resourceVersionMatch=NotOlderThan",
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
     "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"),
    ("watch-list-without-match", ListOptions.parse,
     "watch=1&sendInitialEvents=true&allowWatchBookmarks=true",
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
     "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"),
    ("watch-list-exact", ListOptions.parse,
     "watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=Exact",
     'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: '
     "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, "
     'resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]'),
    ("watch-list-without-bookmarks", ListOptions.parse,
     "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
     'ListOptions.meta.k8s.io "" is invalid: allowWatchBookmarks: Forbidden: '
     "sendInitialEvents requires setting allowWatchBookmarks to true"),
    ("create-dry-run", CreateOptions.parse, "dryRun=Some",
     'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: '
     'supported values: "All"'),
    ("update-field-validation", UpdateOptions.parse, "fieldValidation=strict",
     'UpdateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: '
     '"strict": supported values: "", "Ignore", "Strict", "Warn"'),
    ("create-field-manager-too-long", CreateOptions.parse, "fieldManager=" + "m" * 129,
     'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more '
     "than 128 bytes"),
    ("create-field-manager-unprintable", CreateOptions.parse, "fieldManager=a\x01",
     'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\x01": '
     "invalid character U+0001 (at position 1)"),
]


@pytest.mark.parametrize("parse,text,message", [c[1:] for c in INVALID],
                         ids=[c[0] for c in INVALID])
def test_unacceptable_values_are_invalid_with_upstream_messages(
        parse: Any, text: str, message: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        parse(query(text))
    status = caught.value.to_status()
    assert status["message"] == message
    assert (status["code"], status["details"]["group"]) == (422, "meta.k8s.io")


PATCHES = [
    ("force-on-merge-patch", "force=false&fieldManager=m", False,
     'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for '
     "non-apply patch"),
    ("apply-without-manager", "force=true", True,
     'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
     "for apply patch"),
]


@pytest.mark.parametrize("text,apply,message", [c[1:] for c in PATCHES],
                         ids=[c[0] for c in PATCHES])
def test_patch_options_depend_on_the_patch_type(text: str, apply: bool, message: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        PatchOptions.parse(query(text), apply=apply)
    assert caught.value.message == message


def test_apply_with_force_in_any_spelling_forces() -> None:
    for spelling in ("true", "True", "1", "TRUE"):
        opts = PatchOptions.parse(query(f"force={spelling}&fieldManager=m"), apply=True)
        assert opts.force is True


def test_an_unset_field_validation_means_warn() -> None:
    assert CreateOptions.parse(query("")).validation_directive == "Warn"
    assert CreateOptions.parse(query("fieldValidation=Strict")).validation_directive == "Strict"


def test_each_kind_reads_the_parameters_upstream_documents_for_it() -> None:
    def names(cls: Any) -> set[str]:
        return {p.name for p in cls.parameters()}

    assert names(ListOptions) == {
        "allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
        "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds",
        "watch"}
    assert names(GetOptions) == {"resourceVersion"}
    assert names(CreateOptions) == names(UpdateOptions) == {
        "dryRun", "fieldManager", "fieldValidation"}
    assert names(PatchOptions) == {"dryRun", "fieldManager", "fieldValidation", "force"}
    assert names(DeleteOptions) == {
        "dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential",
        "orphanDependents", "propagationPolicy"}
