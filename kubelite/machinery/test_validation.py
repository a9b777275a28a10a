from __future__ import annotations

import pytest

from kubelite.machinery.errors import Cause
from kubelite.machinery.validation import (
    field_invalid,
    go_quote,
    is_c_identifier,
    is_config_map_key,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    join_messages,
    regex_error,
    validate_labels,
)

DNS_LABEL_REGEX = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_REGEX = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
NAME_PART_REGEX = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_REGEX = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',"
    "  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def test_regex_error_formats_examples_with_upstream_spacing() -> None:
    assert regex_error("m", "re") == "m (regex used for validation is 're')"
    assert regex_error("m", "re", "a", "b") == "m (e.g. 'a',  or 'b', regex used for validation is 're')"


@pytest.mark.parametrize(
    "value",
    ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2",
     "a" * 63],
    ids=lambda v: v[:12],
)
def test_dns1123_label_accepts(value: str) -> None:
    assert is_dns1123_label(value) == []


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("", [DNS_LABEL_REGEX]),
        ("A", [DNS_LABEL_REGEX]),
        ("-", [DNS_LABEL_REGEX]),
        ("a-", [DNS_LABEL_REGEX]),
        ("-a", [DNS_LABEL_REGEX]),
        ("a_b", [DNS_LABEL_REGEX]),
        ("a.b", ["must not contain dots"]),
        ("a" * 64, ["must be no more than 63 characters"]),
        ("A" * 64, ["must be no more than 63 characters", DNS_LABEL_REGEX]),
        ("a\n", [DNS_LABEL_REGEX]),
    ],
    ids=["empty", "upper", "dash", "trailing-dash", "leading-dash", "underscore", "dots",
         "too-long", "too-long-and-upper", "trailing-newline"],
)
def test_dns1123_label_rejects_with_upstream_messages(value: str, errors: list[str]) -> None:
    assert is_dns1123_label(value) == errors


@pytest.mark.parametrize(
    "value",
    ["a", "a.b", "a.b.c", "1.a", "a-1.b-2", "0.0", ("a" * 63 + ".") * 3 + "a" * 61],
    ids=["a", "a.b", "a.b.c", "1.a", "dashes", "digits", "max-length"],
)
def test_dns1123_subdomain_accepts(value: str) -> None:
    assert is_dns1123_subdomain(value) == []


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("", [SUBDOMAIN_REGEX]),
        ("A.b", [SUBDOMAIN_REGEX]),
        ("a..b", [SUBDOMAIN_REGEX]),
        ("a.", [SUBDOMAIN_REGEX]),
        (".a", [SUBDOMAIN_REGEX]),
        ("a" * 254, ["must be no more than 253 characters"]),
    ],
    ids=["empty", "upper", "double-dot", "trailing-dot", "leading-dot", "too-long"],
)
def test_dns1123_subdomain_rejects(value: str, errors: list[str]) -> None:
    assert is_dns1123_subdomain(value) == errors


def test_dns1035_label_must_start_with_a_letter() -> None:
    assert is_dns1035_label("abc-1") == []
    assert is_dns1035_label("1abc") == [
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


@pytest.mark.parametrize(
    "value",
    ["simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple",
     "now-with-dashes/simple", "now-with-dashes/now-with-dashes", "now.with.dots/simple",
     "now-with.dashes-and.dots/simple", "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678",
     "Uppercase_Is_OK_123", "example.com/Uppercase_Is_OK_123", "requests.storage-foo",
     "a" * 63, "a" * 253 + "/" + "b" * 63],
    ids=lambda v: v[:20],
)
def test_qualified_name_accepts_upstream_good_values(value: str) -> None:
    assert is_qualified_name(value) == []


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("nospecialchars%^=@", [NAME_PART_REGEX]),
        ("cantendwithadash-", [NAME_PART_REGEX]),
        ("-cantstartwithadash-", [NAME_PART_REGEX]),
        ("only/one/slash", [
            "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
            "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]),
        ("Example.com/abc", ["prefix part " + SUBDOMAIN_REGEX]),
        ("example_com/abc", ["prefix part " + SUBDOMAIN_REGEX]),
        ("example.com/", ["name part must be non-empty", NAME_PART_REGEX]),
        ("/simple", ["prefix part must be non-empty"]),
        ("", ["name part must be non-empty", NAME_PART_REGEX]),
        ("a" * 64, ["name part must be no more than 63 bytes"]),
        ("a" * 254 + "/abc", ["prefix part must be no more than 253 bytes"]),
    ],
    ids=["special-chars", "trailing-dash", "leading-dash", "two-slashes", "upper-prefix",
         "underscore-prefix", "empty-name", "empty-prefix", "empty", "long-name", "long-prefix"],
)
def test_qualified_name_rejects_with_upstream_messages(value: str, errors: list[str]) -> None:
    assert is_qualified_name(value) == errors


@pytest.mark.parametrize(
    "value",
    ["simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", "a" * 63, "",
     "UpperCase", "with_underscore", "a.b"],
    ids=lambda v: v[:20] or "empty",
)
def test_label_value_accepts(value: str) -> None:
    assert is_valid_label_value(value) == []


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("nospecialchars%^=@", [LABEL_VALUE_REGEX]),
        ("Tama-nui-te-rā.o-Ioh", [LABEL_VALUE_REGEX]),
        ("-starts", [LABEL_VALUE_REGEX]),
        ("ends_", [LABEL_VALUE_REGEX]),
        ("a" * 64, ["must be no more than 63 bytes"]),
        ("é" * 32, ["must be no more than 63 bytes", LABEL_VALUE_REGEX]),
    ],
    ids=["special", "non-ascii", "leading-dash", "trailing-underscore", "too-long",
         "counts-bytes-not-characters"],
)
def test_label_value_rejects(value: str, errors: list[str]) -> None:
    assert is_valid_label_value(value) == errors


@pytest.mark.parametrize(
    ("value", "ok"),
    [("a", True), ("_a", True), ("A_b9", True), ("9a", False), ("a-b", False), ("", False)],
    ids=["letter", "underscore", "mixed", "digit-first", "dash", "empty"],
)
def test_c_identifier(value: str, ok: bool) -> None:
    assert (is_c_identifier(value) == []) is ok


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("a", '"a"'), ('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"'), ("\n", '"\\n"'), ("\x01", '"\\x01"'),
     ("rā", '"rā"')],
    ids=["plain", "quote", "backslash", "newline", "control", "unicode"],
)
def test_go_quote_matches_go_percent_q(value: str, quoted: str) -> None:
    assert go_quote(value) == quoted


def test_field_invalid_renders_error_body() -> None:
    assert field_invalid("metadata.labels", "a b", "bad") == Cause(
        type="FieldValueInvalid", message='Invalid value: "a b": bad', field="metadata.labels"
    )


def test_validate_labels_reports_each_bad_key_and_value_at_the_path() -> None:
    causes = validate_labels({"good": "ok", "bad key": "ok", "k": "bad value"}, "metadata.labels")
    assert causes == [
        Cause("FieldValueInvalid", f'Invalid value: "bad key": {NAME_PART_REGEX}', "metadata.labels"),
        Cause("FieldValueInvalid", f'Invalid value: "bad value": {LABEL_VALUE_REGEX}',
              "metadata.labels"),
    ]


def test_validate_labels_accepts_none_and_valid_labels() -> None:
    assert validate_labels(None, "metadata.labels") == []
    assert validate_labels({"app": "web", "example.com/tier": ""}, "metadata.labels") == []


def test_join_messages_brackets_several_and_dedupes() -> None:
    assert join_messages(["a"]) == "a"
    assert join_messages(["a", "b", "a"]) == "[a, b]"


CONFIG_KEY_REGEX = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("key.name", []),
        ("KEY_NAME", []),
        (".hidden", []),
        ("a/b", [CONFIG_KEY_REGEX]),
        (".", ["must not be '.'"]),
        ("..", ["must not be '..'"]),
        ("..data", ["must not start with '..'"]),
        ("k" * 254, ["must be no more than 253 characters"]),
    ],
    ids=["dotted", "upper-underscore", "leading-dot", "slash", "dot", "dotdot", "dotdot-prefix",
         "too-long"],
)
def test_config_map_key(value: str, errors: list[str]) -> None:
    assert is_config_map_key(value) == errors
