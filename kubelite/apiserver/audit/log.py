"""Where audit events go: one JSON document per line, to a file or to stdout
(upstream's plugin/pkg/audit/log backend, with lumberjack's rotation).

`--audit-log-path -` writes to stdout. A file is rotated as lumberjack does it:

- before a write would take it past `--audit-log-maxsize` megabytes (0: lumberjack's
  default of 100), the file is renamed to `<name>-<UTC time>.<ext>`, e.g.
  `audit-2026-12-07T21-40-55.123.log` beside `audit.log`, and a new one started;
- then backups beyond `--audit-log-maxbackup` (0: keep all) and those older than
  `--audit-log-maxage` days (0: keep all, by the time in their name) are removed.

A new file is made 0600: audit lines carry user names and, at the Request levels,
object bodies. Writes are synchronous and flushed, as upstream's default blocking mode:
an event acknowledged by the API is in the file. One larger than the size limit is
still written (a file of its own), never dropped.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

MEGABYTE = 1024 * 1024
DEFAULT_MAX_SIZE_MB = 100
_BACKUP_TIME = "%Y-%m-%dT%H-%M-%S"


class Sink(Protocol):
    def write(self, line: bytes) -> None:
        """Write one whole line (ending in a newline)."""

    def close(self) -> None: ...


class StdoutSink:
    def write(self, line: bytes) -> None:
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()

    def close(self) -> None:
        pass


def backup_name(path: Path, at: float) -> Path:
    stamp = datetime.datetime.fromtimestamp(at, datetime.UTC)
    millis = stamp.microsecond // 1000
    return path.with_name(f"{path.stem}-{stamp.strftime(_BACKUP_TIME)}.{millis:03d}"
                          f"{path.suffix}")


def backup_time(path: Path, candidate: str) -> float | None:
    """The time in a backup's name, or None when `candidate` is not one of path's."""
    head, tail = f"{path.stem}-", path.suffix
    if not candidate.startswith(head) or not candidate.endswith(tail):
        return None
    stamp = candidate[len(head):len(candidate) - len(tail)] if tail else candidate[len(head):]
    try:
        seconds, _, millis = stamp.rpartition(".")
        parsed = datetime.datetime.strptime(seconds, _BACKUP_TIME).replace(
            tzinfo=datetime.UTC)
        return parsed.timestamp() + int(millis) / 1000
    except ValueError:
        return None


class RotatingFile:
    def __init__(self, path: Path, *, max_size_mb: int = 0, max_backups: int = 0,
                 max_age_days: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.max_bytes = (max_size_mb or DEFAULT_MAX_SIZE_MB) * MEGABYTE
        self.max_backups = max_backups
        self.max_age_days = max_age_days
        self.clock = clock
        self._file: BinaryIO | None = None
        self._size = 0

    def open(self) -> None:
        """Open (or create) the file now, so a path that cannot be written stops the
        server at start rather than losing events later. OSError otherwise."""
        if self._file is None:
            self._open_existing()

    def write(self, line: bytes) -> None:
        if self._file is None:
            self._open_existing()
        elif self._size + len(line) > self.max_bytes and self._size:
            self._rotate()
        assert self._file is not None
        self._file.write(line)
        self._file.flush()
        self._size += len(line)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open_existing(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            self._open_new()
            return
        if size >= self.max_bytes:
            self._rotate()
            return
        self._file = open(self.path, "ab")
        self._size = size

    def _open_new(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._size = 0

    def _rotate(self) -> None:
        self.close()
        if self.path.exists():
            self.path.rename(backup_name(self.path, self.clock()))
        self._open_new()
        self._remove_old_backups()

    def backups(self) -> list[tuple[float, Path]]:
        """This log's backups, newest first."""
        found = []
        for entry in self.path.parent.iterdir():
            at = backup_time(self.path, entry.name)
            if at is not None and entry.is_file():
                found.append((at, entry))
        return sorted(found, reverse=True)

    def _remove_old_backups(self) -> None:
        if not self.max_backups and not self.max_age_days:
            return
        backups = self.backups()
        doomed = backups[self.max_backups:] if self.max_backups else []
        if self.max_age_days:
            cutoff = self.clock() - self.max_age_days * 86400
            doomed += [b for b in backups if b[0] < cutoff and b not in doomed]
        for _, path in doomed:
            path.unlink(missing_ok=True)
