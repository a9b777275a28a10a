from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.body_shape import MAX_DEPTH
from kubelite.apiserver.negotiation import decode_body
from kubelite.machinery import errors


def nested(depth: int) -> bytes:
    return b'{"a":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


REFUSED = [
    ("json-too-deep", nested(MAX_DEPTH + 1), "application/json", False, "exceeded max depth"),
    ("strict-json-too-deep", nested(MAX_DEPTH + 1), "application/json", True,
     "exceeded max depth"),
    ("strict-json-past-python-recursion", nested(5000), "application/json", True,
     "exceeded max depth"),
    ("yaml-too-deep", b"a: " + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, "application/yaml", False,
     "exceeded max depth"),
    ("yaml-block-too-deep", b"".join(b" " * i + b"a:\n" for i in range(MAX_DEPTH + 1)),
     "application/yaml", False, "exceeded max depth"),
    ("yaml-billion-laughs",
     b"a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
     b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
     b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
     "application/yaml", False,
     "error converting YAML to JSON: yaml: document contains excessive aliasing"),
    ("yaml-alias-contains-itself", b"x: &a {b: [1, *a]}", "application/yaml", False,
     "error converting YAML to JSON: yaml: anchor value contains itself"),
    ("yaml-lone-surrogate", b'a: "\\ud800"', "application/yaml", False,
     "invalid Unicode character escape code"),
    ("strict-json-lone-surrogate", b'{"a": "\\ud800"}', "application/json", True,
     "the object provided is unrecognized or malformed"),
]


@pytest.mark.parametrize("body,ctype,strict,message", [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_body_the_server_cannot_hold_is_a_400(body: bytes, ctype: str, strict: bool,
                                              message: str) -> None:
    with pytest.raises(errors.BadRequest) as err:
        decode_body(body, ctype, strict=strict)
    assert message in str(err.value)


ACCEPTED = [
    ("json-at-max-depth", nested(MAX_DEPTH), "application/json", False, None),
    ("yaml-shared-alias", b"x: &a {b: 1}\ny: *a", "application/yaml", False,
     {"x": {"b": 1}, "y": {"b": 1}}),
    ("yaml-keys-become-strings", b"2: a\nnull: b\ntrue: c\n1.5: d", "application/yaml",
     False, {"2": "a", "null": "b", "true": "c", "1.5": "d"}),
    ("yaml-date-stays-text", b"a: 2024-01-02\nb: 2024-01-02T03:04:05Z", "application/yaml",
     False, {"a": "2024-01-02", "b": "2024-01-02T03:04:05+00:00"}),
    ("yaml-binary-and-set", b"a: !!binary aGk=\nb: !!set {x}", "application/yaml", False,
     {"a": "hi", "b": {"x": None}}),
    ("yaml-integer-past-64-bits", b"a: 100000000000000000000", "application/yaml", False,
     {"a": 1e20}),
    ("strict-json-integer-past-64-bits", b'{"a": 100000000000000000000, "b": 7}',
     "application/json", True, {"a": 1e20, "b": 7}),
    ("strict-json-surrogate-pair", b'{"a": "\\ud83d\\ude00"}', "application/json", True,
     {"a": "\U0001f600"}),
]


@pytest.mark.parametrize("body,ctype,strict,decoded", [r[1:] for r in ACCEPTED],
                         ids=[r[0] for r in ACCEPTED])
def test_body_settles_into_json_values(body: bytes, ctype: str, strict: bool,
                                       decoded: Any) -> None:
    got = decode_body(body, ctype, strict=strict)
    if decoded is not None:
        assert got == decoded
