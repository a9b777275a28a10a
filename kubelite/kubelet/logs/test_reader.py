"""The log reader against upstream's outcomes for kubectl logs' options."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubelite.kubelet.logs.reader import (
    LogFormatError,
    LogOptions,
    follow_logs,
    format_timestamp,
    log_files,
    parse_record,
    parse_timestamp,
    read_logs,
)

T0 = 1_475_713_029_669_794_202  # 2016-10-06T00:17:09.669794202Z
LOG = (b"2016-10-06T00:17:09.669794202Z stdout F one\n"
       b"2016-10-06T00:17:10Z stderr P tw\n"
       b"2016-10-06T00:17:10.5Z stderr F o\n"
       b"2016-10-06T00:17:11.000000001Z stdout F three\n")


@pytest.mark.parametrize(("text", "ns"), [
    ("2016-10-06T00:17:09.669794202Z", T0),
    ("2016-10-06T00:17:09Z", T0 - 669_794_202),
    ("2016-10-06T02:17:09.5+02:00", T0 - 169_794_202),
], ids=["nanos", "whole-seconds", "offset"])
def test_timestamps_parse_rfc3339_nano(text: str, ns: int) -> None:
    assert parse_timestamp(text) == ns


@pytest.mark.parametrize(("ns", "text"), [
    (T0, "2016-10-06T00:17:09.669794202Z"),
    (T0 - 669_794_202, "2016-10-06T00:17:09Z"),
    (T0 - 669_794_202 + 500_000_000, "2016-10-06T00:17:09.5Z"),
], ids=["nanos", "whole-seconds", "trailing-zeros-trimmed"])
def test_timestamps_print_as_go_rfc3339_nano(ns: int, text: str) -> None:
    assert format_timestamp(ns) == text


@pytest.mark.parametrize("line", [b"garbage", b"2016-10-06T00:17:09Z stdin F x",
                                  b"2016-10-06T00:17:09Z stdout X x", b"yesterday stdout F x"],
                         ids=["no-fields", "bad-stream", "bad-tag", "bad-time"])
def test_lines_that_are_not_records_are_refused(line: bytes) -> None:
    with pytest.raises(LogFormatError):
        parse_record(line)


def test_a_record_keeps_spaces_in_its_text() -> None:
    assert parse_record(b"2016-10-06T00:17:09Z stdout F  a  b ").content == b" a  b "


@pytest.mark.parametrize(("options", "out"), [
    (LogOptions(), b"one\ntwo\nthree\n"),
    (LogOptions(tail_lines=1), b"three\n"),
    (LogOptions(tail_lines=2), b"two\nthree\n"),  # a line in two pieces counts once
    (LogOptions(tail_lines=0), b""),
    (LogOptions(tail_lines=10), b"one\ntwo\nthree\n"),
    (LogOptions(since_ns=T0 + 1), b"two\nthree\n"),
    (LogOptions(limit_bytes=6), b"one\ntw"),
    (LogOptions(timestamps=True, tail_lines=2),
     b"2016-10-06T00:17:10Z tw2016-10-06T00:17:10.5Z o\n"
     b"2016-10-06T00:17:11.000000001Z three\n"),
], ids=["all", "tail-1", "tail-counts-lines", "tail-0", "tail-more-than-there",
        "since", "limit-bytes", "timestamps-per-record"])
def test_options_select_and_shape_the_output(options: LogOptions, out: bytes) -> None:
    assert b"".join(read_logs([LOG], options)) == out


def test_rotated_files_are_read_oldest_first(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    (tmp_path / "0.log.20240101-000000").write_bytes(b"2016-10-06T00:17:01Z stdout F a\n")
    (tmp_path / "0.log.20240102-000000").write_bytes(b"2016-10-06T00:17:02Z stdout F b\n")
    (tmp_path / "0.log.20240101-000000.gz").write_bytes(b"compressed")
    log.write_bytes(b"2016-10-06T00:17:03Z stdout F c\n")
    files = log_files(str(log))
    assert [Path(f).name for f in files] == ["0.log.20240101-000000", "0.log.20240102-000000",
                                             "0.log"]
    contents = [Path(f).read_bytes() for f in files]
    assert b"".join(read_logs(contents, LogOptions())) == b"a\nb\nc\n"
    assert b"".join(read_logs(contents, LogOptions(tail_lines=2))) == b"b\nc\n"


async def test_follow_reads_what_is_written_until_the_container_stops(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    log.write_bytes(b"2016-10-06T00:17:01Z stdout F a\n2016-10-06T00:17:02Z stdout P b")
    running = asyncio.Event()
    running.set()

    async def still_running() -> bool:
        return running.is_set()

    got: list[bytes] = []
    async def consume() -> None:
        async for chunk in follow_logs(str(log), LogOptions(follow=True), still_running,
                                       poll_interval=0.01):
            got.append(chunk)

    task = asyncio.create_task(consume())
    async with asyncio.timeout(5):
        while b"".join(got) != b"a\n":
            await asyncio.sleep(0.01)
        with log.open("ab") as handle:  # the unfinished record ends, more follow
            handle.write(b"\n2016-10-06T00:17:03Z stdout F c\n")
        while b"".join(got) != b"a\nbc\n":
            await asyncio.sleep(0.01)
        # rotation: the runtime renames the file and starts a new one
        log.rename(tmp_path / "0.log.20240101-000000")
        log.write_bytes(b"2016-10-06T00:17:04Z stdout F d\n")
        while b"".join(got) != b"a\nbc\nd\n":
            await asyncio.sleep(0.01)
        running.clear()
        await task
    assert b"".join(got) == b"a\nbc\nd\n"


async def test_without_follow_the_reader_stops_at_the_end(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    log.write_bytes(LOG)

    async def forever() -> bool:
        return True

    chunks = [c async for c in follow_logs(str(log), LogOptions(tail_lines=1), forever)]
    assert b"".join(chunks) == b"three\n"
