"""Query values read as apimachinery's conversions read them (runtime/conversion.go)."""

from __future__ import annotations

import pytest
from multidict import MultiDict, MultiDictProxy

from kubelite.machinery import errors
from kubelite.machinery.parameters import (
    DRY_RUN,
    FORCE,
    LIMIT,
    PARAMETERS,
    TIMEOUT_SECONDS,
    WATCH,
    parse_bool,
)


def query(*pairs: tuple[str, str]) -> MultiDictProxy[str]:
    return MultiDictProxy(MultiDict(pairs))


BOOLS = [
    ("true", True), ("True", True), ("TRUE", True), ("1", True), ("yes", True),
    ("", True), ("2", True), ("on", True),
    ("false", False), ("False", False), ("FALSE", False), ("fAlSe", False), ("0", False),
]


@pytest.mark.parametrize("text,expected", BOOLS, ids=[f"{t!r}" for t, _ in BOOLS])
def test_a_boolean_is_false_only_for_0_or_false_in_any_case(text: str, expected: bool) -> None:
    assert parse_bool([text]) is expected
    assert WATCH.decode(query(("watch", text))) is expected


def test_an_absent_boolean_is_false_or_unset_where_upstream_has_a_pointer() -> None:
    assert WATCH.decode(query()) is False
    assert FORCE.decode(query()) is None
    assert FORCE.decode(query(("force", "True"))) is True


def test_a_repeated_parameter_counts_its_first_value() -> None:
    assert WATCH.decode(query(("watch", "false"), ("watch", "true"))) is False
    assert LIMIT.decode(query(("limit", "3"), ("limit", "x"))) == 3


INTS = [
    ("zero", "0", 0), ("plain", "500", 500), ("plus-sign", "+7", 7), ("negative", "-3", -3),
    ("leading-zeros", "007", 7),
    ("int64-max", "9223372036854775807", 2**63 - 1),
    ("int64-min", "-9223372036854775808", -(2**63)),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in INTS], ids=[c[0] for c in INTS])
def test_an_integer_is_an_int64(text: str, expected: int) -> None:
    assert LIMIT.decode(query(("limit", text))) == expected
    assert TIMEOUT_SECONDS.decode(query(("timeoutSeconds", text))) == expected


BAD_INTS = [
    ("letters", "abc", 'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("empty", "", 'strconv.ParseInt: parsing "": invalid syntax'),
    ("float", "1.5", 'strconv.ParseInt: parsing "1.5": invalid syntax'),
    ("underscore", "1_000", 'strconv.ParseInt: parsing "1_000": invalid syntax'),
    ("space", " 5", 'strconv.ParseInt: parsing " 5": invalid syntax'),
    ("arabic-digits", "٣", 'strconv.ParseInt: parsing "٣": invalid syntax'),
    ("above-int64", "9223372036854775808",
     'strconv.ParseInt: parsing "9223372036854775808": value out of range'),
    ("below-int64", "-9223372036854775809",
     'strconv.ParseInt: parsing "-9223372036854775809": value out of range'),
]


@pytest.mark.parametrize("text,message", [c[1:] for c in BAD_INTS], ids=[c[0] for c in BAD_INTS])
def test_a_bad_integer_is_a_bad_request_worded_as_go(text: str, message: str) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        LIMIT.decode(query(("limit", text)))
    assert caught.value.message == message
    assert caught.value.to_status()["code"] == 400


def test_an_absent_integer_is_zero_or_unset_where_upstream_has_a_pointer() -> None:
    assert LIMIT.decode(query()) == 0
    assert TIMEOUT_SECONDS.decode(query()) is None


def test_a_list_parameter_keeps_every_value() -> None:
    assert DRY_RUN.decode(query(("dryRun", "All"), ("dryRun", "All"))) == ("All", "All")
    assert DRY_RUN.decode(query()) == ()


def test_every_row_is_keyed_by_its_wire_name_and_documented() -> None:
    for name, parameter in PARAMETERS.items():
        assert parameter.name == name
        assert parameter.description
        assert parameter.codec.openapi_type in ("boolean", "integer", "string")
