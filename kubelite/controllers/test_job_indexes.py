"""Interval strings and index templates, with upstream's cases (indexed_job_utils_test.go)."""

from __future__ import annotations

import pytest

from kubelite.controllers.job_indexes import (
    COMPLETION_INDEX, UNKNOWN_INDEX, completion_index, first_pending_indexes, format_indexes,
    index_generate_name, indexed_template, parse_indexes)


@pytest.mark.parametrize(("indexes", "text"), [
    pytest.param([], "", id="empty"),
    pytest.param([0], "0", id="single"),
    pytest.param([1, 2], "1,2", id="run-of-two-stays-a-list"),
    pytest.param([0, 1, 2, 3, 4], "0-4", id="run"),
    pytest.param([5, 0, 3, 4, 1, 7, 8, 9], "0,1,3-5,7-9", id="mixed"),
])
def test_indexes_format_as_upstream_intervals(indexes: list[int], text: str) -> None:
    assert format_indexes(indexes) == text
    assert parse_indexes(text, 100) == set(indexes)


@pytest.mark.parametrize(("text", "completions", "want"), [
    pytest.param("0-4", 3, {0, 1, 2}, id="cut-at-completions"),
    pytest.param("1,x,3-", 10, {1}, id="junk-skipped"),
    pytest.param("2-2", 5, {2}, id="one-element-range"),
    pytest.param(None, 5, set(), id="absent"),
])
def test_parse_drops_what_does_not_parse(text: str | None, completions: int, want: set[int]) -> None:
    assert parse_indexes(text, completions) == want


@pytest.mark.parametrize(("annotation", "want"), [
    pytest.param("3", 3, id="valid"),
    pytest.param("-1", UNKNOWN_INDEX, id="negative"),
    pytest.param("a", UNKNOWN_INDEX, id="not-a-number"),
    pytest.param(None, UNKNOWN_INDEX, id="absent"),
])
def test_completion_index_comes_from_the_annotation(annotation: str | None, want: int) -> None:
    annotations = {} if annotation is None else {COMPLETION_INDEX: annotation}
    assert completion_index({"metadata": {"annotations": annotations}}) == want


def test_first_pending_indexes_skip_taken_ones() -> None:
    assert first_pending_indexes(6, 3, {0, 2}) == [1, 3, 4]
    assert first_pending_indexes(3, 5, {1}) == [0, 2]


def test_an_index_template_names_hostname_env_and_label() -> None:
    template = {"metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "c", "env": [{"name": "A", "value": "1"}]}]}}
    out = indexed_template(template, "job", 7, failure_count=2)
    assert out["metadata"]["annotations"] == {COMPLETION_INDEX: "7",
                                              "batch.kubernetes.io/job-index-failure-count": "2"}
    assert out["metadata"]["labels"] == {"app": "x", COMPLETION_INDEX: "7"}
    assert out["spec"]["hostname"] == "job-7"
    assert [e["name"] for e in out["spec"]["containers"][0]["env"]] == ["A", "JOB_COMPLETION_INDEX"]
    assert "annotations" not in template["metadata"]  # the template itself is untouched


def test_generate_name_leaves_room_for_the_random_suffix() -> None:
    assert index_generate_name("pi", 3) == "pi-3-"
    long = index_generate_name("x" * 70, 12)
    assert long.endswith("-12-") and len(long) + 5 == 63
