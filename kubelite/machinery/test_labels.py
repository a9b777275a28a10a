from __future__ import annotations

from typing import Any

import pytest

from kubelite.machinery.errors import BadRequest
from kubelite.machinery.labels import (
    DOES_NOT_EXIST,
    EQUALS,
    EXISTS,
    IN,
    NOT_IN,
    Requirement,
    Selector,
    everything,
    new_requirement,
    nothing,
    parse,
    selector_from_label_selector,
    selector_from_set,
)

NAME_PART_REGEX = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_REGEX = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',"
    "  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


# Cases from upstream's selector_test.go (TestSelectorParse / TestSetSelectorParser).
@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("x=a", "x=a"),
        ("x=a,y=b,z=c", "x=a,y=b,z=c"),
        ("x!=a,y=b", "x!=a,y=b"),
        ("x=,z= ", "x=,z="),
        ("x= ,z= ", "x=,z="),
        ("!x", "!x"),
        ("x>1", "x>1"),
        ("x>1,z<5", "x>1,z<5"),
        ("x==a", "x==a"),
        ("\rx", "x"),
        ("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"),
        ("this-is-another-dns.domain.com/key-with-dash in (so,what)",
         "this-is-another-dns.domain.com/key-with-dash in (so,what)"),
        ("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
         "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"),
        ("foo  in\t (abc)", "foo in (abc)"),
        ("x notin\n (abc)", "x notin (abc)"),
        ("x  notin\t\t\t(abc,def)", "x notin (abc,def)"),
        ("x in (def,abc)", "x in (abc,def)"),
        ("x in (abc,)", "x in (,abc)"),
        ("x in ()", "x in ()"),
        ("x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"),
        ("x,y in (a)", "x,y in (a)"),
        ("x notin ( )", "x notin ()"),
        ("x notin (, )", "x notin ()"),
        ("a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"),
        ("a ", "a"),
        ("in in (in)", "in in (in)"),
        ("z=1,a=2,m!=3", "a=2,m!=3,z=1"),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_parse_accepts_and_prints_canonically(text: str, canonical: str) -> None:
    selector = parse(text)
    assert str(selector) == canonical
    assert parse(canonical) == selector


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,,y", "found ',', expected: identifier after ','"),
        (",x,y", "found ',', expected: !, identifier, or 'end of string'"),
        ("x nott in (y)",
         "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"),
        ("a in (xyz),", "found '', expected: identifier after ','"),
        ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"),
        ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"),
        ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"),
        ("(", "found '(', expected: !, identifier, or 'end of string'"),
        ("x in", "unable to parse requirement: found '' expected: '('"),
        ("x in a", "unable to parse requirement: found 'a' expected: '('"),
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ("x=(", "unable to parse requirement: found '(', expected: identifier"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a:", f'unable to parse requirement: <nil>: Invalid value: "a:": {NAME_PART_REGEX}'),
        ("x=a||y=b",
         f'unable to parse requirement: values[0][x]: Invalid value: "a||y": {VALUE_REGEX}'),
        ("x<a", 'unable to parse requirement: values[0]: Invalid value: "a": '
                "for 'Gt', 'Lt' operators, the value must be an integer"),
        ("x in (a,-b)",
         f'unable to parse requirement: values[0][x]: Invalid value: "-b": {VALUE_REGEX}'),
        ("x=" + "a" * 64,
         'unable to parse requirement: values[0][x]: Invalid value: "' + "a" * 64
         + '": must be no more than 63 bytes'),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_parse_rejects_with_upstream_message(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse(text)
    assert info.value.message == message
    assert info.value.code == 400


LABELS = {"x": "a", "y": "b", "n": "5", "in": "in"}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("", True),
        ("x=a", True),
        ("x==a", True),
        ("x=b", False),
        ("x!=a", False),
        ("x!=b", True),
        ("z!=a", True),
        ("z=a", False),
        ("z=", False),
        ("x", True),
        ("z", False),
        ("!z", True),
        ("!x", False),
        ("x in (a,b)", True),
        ("x in (b,c)", False),
        ("z in (a)", False),
        ("x notin (a)", False),
        ("x notin (b)", True),
        ("z notin (a)", True),
        ("x=a,y=b", True),
        ("x=a,y=c", False),
        ("n>4", True),
        ("n>5", False),
        ("n<6", True),
        ("x>1", False),
        ("z>1", False),
        ("in in (in)", True),
    ],
    ids=lambda v: repr(v),
)
def test_matches(text: str, matches: bool) -> None:
    assert parse(text).matches(LABELS) is matches


def test_empty_selector_matches_everything_and_nothing_matches_nothing() -> None:
    assert parse("").is_empty()
    assert everything().matches({}) and everything().matches({"a": "b"})
    assert not nothing().is_empty()
    assert not nothing().matches({}) and not nothing().matches({"a": "b"})
    assert str(nothing()) == ""
    assert nothing().matches_nothing() and not everything().matches_nothing()


def test_matches_treats_none_labels_as_empty() -> None:
    assert parse("!a").matches(None)
    assert not parse("a").matches(None)


def test_requirements_are_sorted_by_key() -> None:
    selector = parse("c=1,a=2,b")
    assert [r.key for r in selector.requirements] == ["a", "b", "c"]
    assert selector.requirements[1] == Requirement("b", EXISTS, ())


def test_requires_exact_match() -> None:
    assert parse("a=b,c!=d").requires_exact_match("a") == "b"
    assert parse("a in (b)").requires_exact_match("a") == "b"
    assert parse("a in (b,c)").requires_exact_match("a") is None
    assert parse("c!=d").requires_exact_match("c") is None
    assert parse("a=b").requires_exact_match("z") is None


def test_selector_from_set_matches_exactly() -> None:
    selector = selector_from_set({"b": "2", "a": "1"})
    assert str(selector) == "a=1,b=2"
    assert selector.matches({"a": "1", "b": "2", "c": "3"})
    assert not selector.matches({"a": "1"})
    assert selector_from_set({}).is_empty() and selector_from_set(None).is_empty()


def test_add_keeps_order_and_returns_new_selector() -> None:
    base = parse("b=1")
    more = base.add(new_requirement("a", IN, ["x"]))
    assert str(base) == "b=1"
    assert str(more) == "a in (x),b=1"
    assert nothing().add(new_requirement("a", EXISTS)).matches_nothing()


@pytest.mark.parametrize(
    ("label_selector", "canonical"),
    [
        ({}, ""),
        ({"matchLabels": {}, "matchExpressions": []}, ""),
        ({"matchLabels": {"foo": "bar"}}, "foo=bar"),
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        ({"matchExpressions": [{"key": "k", "operator": "In", "values": ["v2", "v1"]}]},
         "k in (v1,v2)"),
        ({"matchExpressions": [{"key": "k", "operator": "NotIn", "values": ["v"]}]},
         "k notin (v)"),
        ({"matchExpressions": [{"key": "k", "operator": "Exists"}]}, "k"),
        ({"matchExpressions": [{"key": "k", "operator": "DoesNotExist", "values": []}]}, "!k"),
        ({"matchLabels": {"z": "1"}, "matchExpressions": [{"key": "a", "operator": "Exists"}]},
         "a,z=1"),
    ],
    ids=["empty", "empty-fields", "match-labels", "sorted", "in", "notin", "exists",
         "does-not-exist", "mixed"],
)
def test_selector_from_label_selector(label_selector: dict[str, Any], canonical: str) -> None:
    selector = selector_from_label_selector(label_selector)
    assert str(selector) == canonical
    assert not selector.matches_nothing()


def test_selector_from_label_selector_none_matches_nothing() -> None:
    selector = selector_from_label_selector(None)
    assert selector.matches_nothing()
    assert not selector.matches({})


def test_selector_from_label_selector_matches_like_the_parsed_form() -> None:
    selector = selector_from_label_selector({
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
    })
    assert selector.matches({"app": "web"})
    assert selector.matches({"app": "web", "tier": "front"})
    assert not selector.matches({"app": "web", "tier": "db"})
    assert not selector.matches({"tier": "front"})


@pytest.mark.parametrize(
    ("label_selector", "message"),
    [
        ({"matchExpressions": [{"key": "k", "operator": "Seriously"}]},
         '"Seriously" is not a valid label selector operator'),
        ({"matchExpressions": [{"key": "k", "operator": "In", "values": []}]},
         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"),
        ({"matchExpressions": [{"key": "k", "operator": "Exists", "values": ["a"]}]},
         'values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist'),
        ({"matchLabels": {"-k": "v"}}, f'key: Invalid value: "-k": {NAME_PART_REGEX}'),
        ({"matchLabels": {"k": "-v"}}, f'values[0][k]: Invalid value: "-v": {VALUE_REGEX}'),
        ({"matchExpressions": [{"key": "-k", "operator": "In", "values": []}]},
         f'[key: Invalid value: "-k": {NAME_PART_REGEX}, values: Invalid value: []string(nil): '
         "for 'in', 'notin' operators, values set can't be empty]"),
    ],
    ids=["bad-operator", "in-without-values", "exists-with-values", "bad-key", "bad-value",
         "several-errors"],
)
def test_selector_from_label_selector_rejects(label_selector: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as info:
        selector_from_label_selector(label_selector)
    assert info.value.message == message


@pytest.mark.parametrize(
    ("requirement", "text"),
    [
        (Requirement("a", EQUALS, ("b",)), "a=b"),
        (Requirement("a", IN, ("c", "b")), "a in (b,c)"),
        (Requirement("a", NOT_IN, ("b",)), "a notin (b)"),
        (Requirement("a", EXISTS), "a"),
        (Requirement("a", DOES_NOT_EXIST), "!a"),
    ],
    ids=["equals", "in-sorted", "notin", "exists", "does-not-exist"],
)
def test_requirement_str(requirement: Requirement, text: str) -> None:
    assert str(requirement) == text


def test_selectors_are_hashable_and_compare_by_requirements() -> None:
    assert {parse("a=b,c"), parse("c,a=b")} == {parse("a=b,c")}
    assert parse("a") != nothing()
    assert isinstance(parse("a"), Selector)
