import asyncio
import datetime
from pathlib import Path

import pytest

from kubelite.kubelet.logs.writer import MAX_LINE, LogFile, format_timestamp, pump, rotated_files

T0 = datetime.datetime(2026, 12, 8, 1, 2, 3, 450000, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    ("when", "nanos", "text"),
    [
        (T0, None, "2026-12-08T01:02:03.45Z"),
        (T0.replace(microsecond=0), None, "2026-12-08T01:02:03Z"),
        (T0, 669794202, "2026-12-08T01:02:03.669794202Z"),
    ],
    ids=["trailing-zeros-dropped", "whole-second", "nanoseconds"],
)
def test_timestamps_print_as_gos_rfc3339nano(when: datetime.datetime, nanos: int | None, text: str) -> None:
    assert format_timestamp(when, nanos) == text


class SteppingClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime.datetime:
        self.now += datetime.timedelta(seconds=1)
        return self.now


async def _pumped(tmp_path: Path, data: bytes, stream: str = "stdout") -> list[bytes]:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    log = LogFile(tmp_path / "0.log", clock=lambda: T0)
    seen: list[bytes] = []
    await pump(reader, stream, log, also=seen.append)
    log.close()
    assert b"".join(seen) == data  # an attached client sees every byte
    return (tmp_path / "0.log").read_bytes().splitlines()


async def test_lines_become_full_entries(tmp_path: Path) -> None:
    lines = await _pumped(tmp_path, b"one\ntwo\n", "stderr")
    assert lines == [b"2026-12-08T01:02:03.45Z stderr F one", b"2026-12-08T01:02:03.45Z stderr F two"]


async def test_a_long_line_is_cut_into_partial_entries(tmp_path: Path) -> None:
    lines = await _pumped(tmp_path, b"x" * (MAX_LINE + 5) + b"\n")
    assert [line.split(b" ", 3)[2] for line in lines] == [b"P", b"F"]
    assert b"".join(line.split(b" ", 3)[3] for line in lines) == b"x" * (MAX_LINE + 5)


async def test_an_unterminated_rest_is_written_whole_at_eof(tmp_path: Path) -> None:
    assert await _pumped(tmp_path, b"no newline") == [b"2026-12-08T01:02:03.45Z stdout F no newline"]


def test_rotation_keeps_the_newest_files(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    log = LogFile(path, max_size=100, max_files=3, clock=SteppingClock())
    for i in range(20):
        log.write("stdout", b"line %02d" % i, partial=False)
    log.close()
    rotated = rotated_files(path)
    assert len(rotated) == 2  # and the live file: three in all
    # Nothing is lost between the kept files: the newest lines are all there, in order.
    kept = b"".join(p.read_bytes() for p in [*rotated, path]).splitlines()
    numbers = [int(line.rsplit(b" ", 1)[1]) for line in kept]
    assert numbers == list(range(numbers[0], 20))
    assert path.stat().st_size <= 100
