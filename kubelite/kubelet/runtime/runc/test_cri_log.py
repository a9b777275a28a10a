from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubelite.kubelet.runtime.runc.cri_log import MAX_LINE, LogWriter, timestamp

ENTRY = re.compile(rb"^(\S+) (stdout|stderr) ([FP]) (.*)$")


def entries(path: Path) -> list[tuple[bytes, bytes, bytes]]:
    out = []
    for line in path.read_bytes().split(b"\n")[:-1]:
        match = ENTRY.match(line)
        assert match, line
        out.append((match.group(2), match.group(3), match.group(4)))
    return out


def test_timestamp_has_nanoseconds_in_utc() -> None:
    assert timestamp(1475713029_669794202) == "2016-10-06T00:17:09.669794202Z"
    assert timestamp(1475713029_000000005) == "2016-10-06T00:17:09.000000005Z"


@pytest.mark.parametrize(
    "writes, expected",
    [
        ([("stdout", b"a\nb\n")], [(b"stdout", b"F", b"a"), (b"stdout", b"F", b"b")]),
        ([("stdout", b"he"), ("stderr", b"x\n"), ("stdout", b"llo\n")],
         [(b"stderr", b"F", b"x"), (b"stdout", b"F", b"hello")]),
        ([("stdout", b"no newline")], [(b"stdout", b"F", b"no newline")]),
        ([("stdout", b"\n")], [(b"stdout", b"F", b"")]),
        ([("stdout", b"x" * (MAX_LINE + 5) + b"\n")],
         [(b"stdout", b"P", b"x" * MAX_LINE), (b"stdout", b"F", b"xxxxx")]),
    ],
    ids=["lines", "partial-writes-per-stream", "last-line-without-newline", "empty-line", "long-line"],
)
def test_output_is_written_line_by_line(
    tmp_path: Path, writes: list[tuple[str, bytes]], expected: list[tuple[bytes, bytes, bytes]]
) -> None:
    writer = LogWriter(str(tmp_path / "0.log"))
    for stream, data in writes:
        writer.write(stream, data)
    writer.close()
    assert entries(tmp_path / "0.log") == expected
