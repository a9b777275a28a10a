from __future__ import annotations

import pytest

from kubelite.machinery.go_base64 import base64_error

BASE64 = [
    ("valid", "YWJj", None),
    ("one-pad", "YWI=", None),
    ("two-pads", "YQ==", None),
    ("empty", "", None),
    ("newlines-skipped", "YW\r\nJj", None),
    ("missing-padding", "YWJjZA", 4),
    ("short", "abc", 0),
    ("bad-char", "a!bc", 1),
    ("pad-too-early", "Y===", 1),
    ("single-pad-where-two-needed", "YQ=", 3),
    ("wrong-second-pad", "YQ=a", 2),
    ("trailing-garbage", "YWJjZA==x", 8),
    ("space", "YW Jj", 2),
]


@pytest.mark.parametrize("text,offset", [r[1:] for r in BASE64], ids=[r[0] for r in BASE64])
def test_base64_errors_name_go_offset(text: str, offset: int | None) -> None:
    expected = None if offset is None else f"illegal base64 data at input byte {offset}"
    assert base64_error(text.encode()) == expected
