"""The audit log file rotates as lumberjack does: by size in megabytes, backups named
with their UTC time, old ones removed by count and by age."""

from __future__ import annotations

import datetime
import stat
from pathlib import Path

import pytest

from kubelite.apiserver.audit.log import MEGABYTE, RotatingFile, backup_name, backup_time

START = datetime.datetime(2026, 12, 7, 21, 40, 55, 123000, tzinfo=datetime.UTC).timestamp()
LINE = b"x" * (400 * 1024 - 1) + b"\n"  # three of them pass one megabyte


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def test_backup_names_carry_the_utc_time_as_lumberjack_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    name = backup_name(path, START)
    assert name == tmp_path / "audit-2026-12-07T21-40-55.123.log"
    assert backup_time(path, name.name) == pytest.approx(START)
    assert backup_time(path, "audit.log") is None
    assert backup_time(path, "other-2026-12-07T21-40-55.123.log") is None


def test_a_write_that_would_pass_the_size_rotates_first(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    clock = Clock()
    log = RotatingFile(path, max_size_mb=1, clock=clock)
    log.write(LINE)
    log.write(LINE)
    assert not log.backups()
    log.write(LINE)
    backups = log.backups()
    assert [p.name for _, p in backups] == ["audit-2026-12-07T21-40-55.123.log"]
    assert backups[0][1].stat().st_size == 2 * len(LINE)
    assert path.stat().st_size == len(LINE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    log.close()


def test_an_existing_file_is_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(b"old\n")
    log = RotatingFile(path, max_size_mb=1)
    log.write(b"new\n")
    log.close()
    assert path.read_bytes() == b"old\nnew\n"


def test_backups_beyond_the_count_are_removed_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    clock = Clock()
    log = RotatingFile(path, max_size_mb=1, max_backups=2, clock=clock)
    for _ in range(10):
        clock.now += 1
        log.write(LINE)
    # two lines a file: writes 3, 5, 7 and 9 rotated; the two newest backups stay
    assert [p.name for _, p in log.backups()] == [backup_name(path, START + 9).name,
                                                  backup_name(path, START + 7).name]
    log.close()


def test_backups_older_than_the_age_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    clock = Clock()
    log = RotatingFile(path, max_size_mb=1, max_age_days=1, clock=clock)
    for _ in range(3):
        log.write(LINE)  # the third rotates: one backup at START
    clock.now += 2 * 86400
    for _ in range(3):
        log.write(LINE)  # rotates again; the first backup is now two days old
    assert [p.name for _, p in log.backups()] == [backup_name(path, clock.now).name]
    log.close()


def test_a_line_larger_than_the_limit_is_still_written(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = RotatingFile(path, max_size_mb=1)
    big = b"y" * (MEGABYTE + 10) + b"\n"
    log.write(b"small\n")
    log.write(big)
    log.close()
    assert path.read_bytes() == big
