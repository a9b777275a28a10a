"""Container logs in the CRI log format, written as the container prints, and rotated.

Every runtime that speaks CRI writes a container's stdout and stderr into one file,
a line per entry (k8s.io/cri-api's logging format, what containerd and CRI-O write
and what the kubelet's `kubectl logs` reads):

    2016-10-06T00:17:09.669794202Z stdout F log content 1
    2016-10-06T00:17:09.669794203Z stderr P a long line, cut at 16 KiB,
    2016-10-06T00:17:09.669794204Z stderr F and its end

`F` ends a line the container ended with a newline; `P` marks a 16 KiB piece of a
longer one. The unterminated rest of a stream that closes is written as `F`, so that
a reader never waits on an entry nobody will finish.

Rotation is the kubelet's container log manager's (pkg/kubelet/logs): once the file
passes `max_size` bytes it is renamed `<path>.<YYYYMMDD-HHMMSS>` and a new one begun,
and only the newest `max_files` files (the live one counted) are kept. Upstream's
manager renames and asks the runtime to reopen; here the writer owns the file, so it
does both at once, between two entries, never inside one.
"""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import Callable
from pathlib import Path

MAX_LINE = 16 * 1024  # containerd's buffer: longer lines become partial entries
DEFAULT_MAX_SIZE = 10 * 1024 * 1024  # containerLogMaxSize: 10Mi
DEFAULT_MAX_FILES = 5  # containerLogMaxFiles

Clock = Callable[[], datetime.datetime]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def format_timestamp(when: datetime.datetime, nanos: int | None = None) -> str:
    """RFC 3339 with nanoseconds, as Go's time.RFC3339Nano prints UTC (trailing
    zeros of the fraction dropped)."""
    when = when.astimezone(datetime.timezone.utc)
    fraction = nanos if nanos is not None else when.microsecond * 1000
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def entry(when: datetime.datetime, stream: str, text: bytes, *, partial: bool) -> bytes:
    """One line of the log file: timestamp, stream, tag, the text (without its newline)."""
    tag = b" P " if partial else b" F "
    return format_timestamp(when).encode() + b" " + stream.encode() + tag + text + b"\n"


def rotated_name(path: Path, when: datetime.datetime) -> Path:
    return path.with_name(path.name + "." + when.strftime("%Y%m%d-%H%M%S"))


def rotated_files(path: Path) -> list[Path]:
    """The rotated files of `path`, oldest first (their suffix sorts by time)."""
    prefix = path.name + "."
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(prefix))


class LogFile:
    """The log file of one container instance: entries appended, rotation by size.

    Both of the container's streams write here; each `write` is one whole entry, so
    lines of stdout and stderr interleave but never mix.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        max_files: int = DEFAULT_MAX_FILES,
        clock: Clock = _utc_now,
    ) -> None:
        self.path = path
        self.max_size = max_size
        self.max_files = max(1, max_files)
        self._clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - lives as long as the container
        self._size = self._file.tell()

    def write(self, stream: str, text: bytes, *, partial: bool) -> None:
        line = entry(self._clock(), stream, text, partial=partial)
        if self._size and self._size + len(line) > self.max_size:
            self._rotate()
        self._file.write(line)
        self._size += len(line)

    def _rotate(self) -> None:
        self._file.close()
        target = rotated_name(self.path, self._clock())
        # Two rotations in one second would share a name; the second keeps counting.
        n = 1
        while target.exists():
            target = target.with_name(f"{rotated_name(self.path, self._clock()).name}-{n}")
            n += 1
        os.replace(self.path, target)
        for old in rotated_files(self.path)[: -(self.max_files - 1) or None]:
            old.unlink(missing_ok=True)
        if self.max_files == 1:
            target.unlink(missing_ok=True)
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115
        self._size = 0

    def close(self) -> None:
        self._file.close()


async def pump(
    reader: asyncio.StreamReader,
    stream: str,
    log: LogFile,
    *,
    also: Callable[[bytes], None] | None = None,
) -> None:
    """Copies one of a container's streams into its log, entry by entry, until EOF.

    `also` sees every chunk as it was read (an attached `kubectl attach` client).
    """
    pending = b""
    while True:
        chunk = await reader.read(MAX_LINE)
        if not chunk:
            break
        if also is not None:
            also(chunk)
        pending += chunk
        while (end := pending.find(b"\n")) >= 0:
            line, pending = pending[:end], pending[end + 1 :]
            _write_line(log, stream, line)
        while len(pending) >= MAX_LINE:
            log.write(stream, pending[:MAX_LINE], partial=True)
            pending = pending[MAX_LINE:]
    if pending:
        log.write(stream, pending, partial=False)


def _write_line(log: LogFile, stream: str, line: bytes) -> None:
    while len(line) > MAX_LINE:
        log.write(stream, line[:MAX_LINE], partial=True)
        line = line[MAX_LINE:]
    log.write(stream, line, partial=False)
