from __future__ import annotations

import pytest

from kubelite.machinery.errors import BadRequest
from kubelite.machinery.fields import (
    escape_value,
    everything,
    parse,
    selector_from_set,
    unescape_value,
)


# Cases from upstream's fields/selector_test.go (TestSelectorParse, TestSplitTerms, escaping).
@pytest.mark.parametrize(
    ("text", "canonical", "requirements"),
    [
        ("", "", []),
        ("a=b", "a=b", [("a", "=", "b")]),
        ("a==b", "a=b", [("a", "=", "b")]),
        ("a!=b", "a!=b", [("a", "!=", "b")]),
        ("x=a,y=b,z=c", "x=a,y=b,z=c", [("x", "=", "a"), ("y", "=", "b"), ("z", "=", "c")]),
        ("z=c,x=a", "x=a,z=c", [("x", "=", "a"), ("z", "=", "c")]),
        ("x!=a,y=b", "x!=a,y=b", [("x", "!=", "a"), ("y", "=", "b")]),
        ("x=", "x=", [("x", "=", "")]),
        ("x=a,,y=b", "x=a,y=b", [("x", "=", "a"), ("y", "=", "b")]),
        ("metadata.name=foo", "metadata.name=foo", [("metadata.name", "=", "foo")]),
        ("x=a\\,b", "x=a\\,b", [("x", "=", "a,b")]),
        ("x=a\\=b", "x=a\\=b", [("x", "=", "a=b")]),
        ("x=a\\\\b", "x=a\\\\b", [("x", "=", "a\\b")]),
        ("x=a\\\\", "x=a\\\\", [("x", "=", "a\\")]),
        ("x!=\\,", "x!=\\,", [("x", "!=", ",")]),
        ("a b=c d", "a b=c d", [("a b", "=", "c d")]),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_parse(text: str, canonical: str, requirements: list[tuple[str, str, str]]) -> None:
    selector = parse(text)
    assert str(selector) == canonical
    assert selector.requirements() == requirements
    assert parse(canonical) == selector


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", "invalid selector: 'x'; can't understand 'x'"),
        ("a=b,x", "invalid selector: 'a=b,x'; can't understand 'x'"),
        ("x=a=b", "invalid field selector: unescaped character in value: 61"),
        ("x==a==b", "invalid field selector: unescaped character in value: 61"),
        ("x!==a", "invalid field selector: unescaped character in value: 61"),
        ("x=a\\b", "invalid field selector: invalid escape sequence: \\b"),
        ("x=a\\", "invalid field selector: invalid escape sequence: \\"),
    ],
    ids=["no-operator", "second-term", "bare-equals", "double-double", "not-equals-equals",
         "unknown-escape", "trailing-backslash"],
)
def test_parse_rejects_with_upstream_message(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse(text)
    assert info.value.message == message


FIELDS = {"metadata.name": "foo", "status.phase": "Running", "spec.nodeName": ""}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("", True),
        ("metadata.name=foo", True),
        ("metadata.name==foo", True),
        ("metadata.name=bar", False),
        ("metadata.name!=bar", True),
        ("metadata.name!=foo", False),
        ("spec.nodeName=", True),
        ("spec.nodeName!=", False),
        ("missing=", True),
        ("missing!=x", True),
        ("metadata.name=foo,status.phase=Running", True),
        ("metadata.name=foo,status.phase!=Running", False),
    ],
    ids=lambda v: repr(v),
)
def test_matches(text: str, matches: bool) -> None:
    assert parse(text).matches(FIELDS) is matches


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("", ""), ("a", "a"), ("=", "\\="), (",", "\\,"), ("\\", "\\\\"),
     ("\\=\\,\\", "\\\\\\=\\\\\\,\\\\")],
    ids=["empty", "plain", "equals", "comma", "backslash", "mixed"],
)
def test_escape_round_trips(raw: str, escaped: str) -> None:
    assert escape_value(raw) == escaped
    assert unescape_value(escaped) == raw


def test_check_fields_rejects_unsupported_field_with_upstream_message() -> None:
    selector = parse("metadata.name=a,spec.foo=b")
    selector.check_fields({"metadata.name", "spec.foo"})
    with pytest.raises(BadRequest) as info:
        selector.check_fields({"metadata.name", "metadata.namespace"})
    assert info.value.message == "field label not supported: spec.foo"
    assert info.value.code == 400


def test_requires_exact_match() -> None:
    selector = parse("spec.nodeName=n1,status.phase!=Failed")
    assert selector.requires_exact_match("spec.nodeName") == "n1"
    assert selector.requires_exact_match("status.phase") is None
    assert selector.requires_exact_match("metadata.name") is None


def test_everything_and_selector_from_set() -> None:
    assert everything().is_empty() and parse("").is_empty()
    assert not parse("a=b").is_empty()
    selector = selector_from_set({"b": "2", "a": "1,"})
    assert str(selector) == "a=1\\,,b=2"
    assert selector.matches({"a": "1,", "b": "2"})
    assert selector_from_set(None).is_empty()
