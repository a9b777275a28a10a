from __future__ import annotations

import pytest

from kubelite.apiserver.openapi_handlers import accept_clauses, accepts_gzip

PB = "com.github.proto-openapi.spec.v2@v1.0+protobuf"


@pytest.mark.parametrize(("header", "expected"), [
    (f"application/{PB}", [("application", PB)]),
    ("*/*", [("*", "*")]),
    ("*", [("*", "*")]),
    ("text/html;q=0.9, application/json", [("application", "json"), ("text", "html")]),
    ("*/*;q=0.5, application/*;q=0.5, application/json;q=0.5",
     [("application", "json"), ("application", "*"), ("*", "*")]),
    ("application/json;q=abc, text/plain", [("text", "plain"), ("application", "json")]),
    ("garbage, application/json", [("application", "json")]),
], ids=["kubectl", "anything", "bare-star", "quality-first", "concrete-before-wildcards",
        "bad-quality-is-zero", "not-a-media-range"])
def test_accept_clauses_order_like_goautoneg(header: str, expected: list[tuple[str, str]]) -> None:
    assert accept_clauses(header) == expected


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip", True),
    ("deflate, GZIP;q=0.5", True),
    ("gzip;q=0", False),
    ("gzip;q=0, gzip", False),
    ("deflate, br", False),
    ("", False),
    ("*", False),
], ids=["gzip", "with-quality", "refused", "first-entry-decides", "other-codings", "none",
        "star-is-not-gzip"])
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected
