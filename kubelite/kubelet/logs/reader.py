"""Reading containers' CRI-format log files, as `kubectl logs` asks for them.

A CRI log file holds one record per line,

    2016-10-06T00:17:09.669794202Z stdout F log content

a RFC 3339 timestamp with nanoseconds, the stream, a tag (`F` a full line, `P` a
piece of a line the runtime split, whose end comes in later records) and the text.
Upstream's kubelet reads them in pkg/kubelet/kuberuntime/logs/logs.go; here, as
there:

- `tail_lines` keeps the last N lines, counted in whole (F-terminated) lines, so a
  line split into pieces counts once;
- `since_ns` drops records stamped before that moment;
- `timestamps` prefixes every record with its time in RFC3339Nano (trailing zeros
  trimmed, as Go's time.RFC3339Nano prints it);
- `limit_bytes` stops after that many bytes of output, mid-record if need be;
- the files are read oldest first: rotated files (`<log>.<suffix>`, uncompressed)
  in the order their suffix sorts, then the live file.

`read_logs` is pure over the files' bytes; `follow_logs` reads what is there, then
polls the live file for more until the container is no longer running and the file
has nothing left, or the caller stops iterating (the client went away). A file
replaced under the same name (rotation) is reopened from its start.
"""

from __future__ import annotations

import asyncio
import datetime
import glob
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

FULL = b"F"
PARTIAL = b"P"


class LogFormatError(ValueError):
    """A line that is not a CRI log record."""


@dataclass(frozen=True)
class LogOptions:
    """What `kubectl logs` asks (PodLogOptions, resolved by the kubelet)."""

    tail_lines: int | None = None  # None: every line
    since_ns: int | None = None  # ns since the epoch; None: from the start
    limit_bytes: int | None = None
    timestamps: bool = False
    follow: bool = False


@dataclass(frozen=True)
class LogRecord:
    timestamp_ns: int
    stream: str  # "stdout" or "stderr"
    partial: bool
    content: bytes  # without the trailing newline of the file's line


def parse_timestamp(text: str) -> int:
    """RFC 3339 with up to nine fractional digits -> ns since the epoch."""
    main, frac, zone = text, "", ""
    for marker in ("Z", "+", "-"):
        at = text.rfind(marker)
        if at > 18:  # past the date's own dashes
            main, zone = text[:at], text[at:]
            break
    if "." in main:
        main, frac = main.split(".", 1)
    if not zone or len(frac) > 9 or (frac and not frac.isdigit()):
        raise LogFormatError(f"bad timestamp {text!r}")
    try:
        moment = datetime.datetime.fromisoformat(main + ("+00:00" if zone == "Z" else zone))
    except ValueError as exc:
        raise LogFormatError(f"bad timestamp {text!r}") from exc
    seconds = int(moment.timestamp())
    return seconds * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def format_timestamp(ns: int) -> str:
    """Go's time.RFC3339Nano in UTC: fractional zeros trimmed, none for whole seconds."""
    seconds, rest = divmod(ns, 1_000_000_000)
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    frac = f"{rest:09d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def parse_record(line: bytes) -> LogRecord:
    """One line of a CRI log file, without its newline."""
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        raise LogFormatError(f"not a CRI log line: {line[:80]!r}")
    stamp, stream, tag = parts[0], parts[1], parts[2]
    if stream not in (b"stdout", b"stderr") or tag not in (FULL, PARTIAL):
        raise LogFormatError(f"not a CRI log line: {line[:80]!r}")
    return LogRecord(parse_timestamp(stamp.decode("ascii", "replace")), stream.decode(),
                     tag == PARTIAL, parts[3] if len(parts) == 4 else b"")


def parse_records(data: bytes) -> tuple[list[LogRecord], bytes]:
    """The complete lines of `data` as records, and the unterminated rest. Lines that
    are not records are skipped, as upstream logs and skips them."""
    records: list[LogRecord] = []
    *lines, rest = data.split(b"\n")
    for line in lines:
        try:
            records.append(parse_record(line))
        except LogFormatError:
            continue
    return records, rest


def render(records: Iterable[LogRecord], timestamps: bool) -> Iterator[bytes]:
    """What the client reads for each record: a partial record's text as is, a full
    one's with its newline."""
    for record in records:
        prefix = f"{format_timestamp(record.timestamp_ns)} ".encode() if timestamps else b""
        yield prefix + record.content + (b"" if record.partial else b"\n")


def select(records: Sequence[LogRecord], options: LogOptions) -> list[LogRecord]:
    """`since`, then `tail`: the records of the last N whole lines."""
    kept = [r for r in records
            if options.since_ns is None or r.timestamp_ns >= options.since_ns]
    if options.tail_lines is None or options.tail_lines < 0:
        return kept
    lines: list[list[LogRecord]] = [[]]
    for record in kept:
        lines[-1].append(record)
        if not record.partial:  # a full record ends a line
            lines.append([])
    if not lines[-1]:
        lines.pop()
    return [r for line in lines[len(lines) - options.tail_lines:] if options.tail_lines
            for r in line] if options.tail_lines < len(lines) else kept


class _Limit:
    """limitBytes: cuts the output after that many bytes."""

    def __init__(self, limit: int | None) -> None:
        self.left = limit

    def cut(self, chunk: bytes) -> bytes:
        if self.left is None:
            return chunk
        chunk = chunk[:self.left]
        self.left -= len(chunk)
        return chunk

    @property
    def spent(self) -> bool:
        return self.left is not None and self.left <= 0


def log_files(path: str) -> list[str]:
    """The rotated files of a log (uncompressed ones, oldest first) and the log itself."""
    rotated = sorted(p for p in glob.glob(glob.escape(path) + ".*")
                     if not p.endswith((".gz", ".tmp")))
    return [*rotated, path] if os.path.exists(path) else rotated


def read_logs(contents: Sequence[bytes], options: LogOptions) -> Iterator[bytes]:
    """The output for files' bytes, oldest first (pure; no follow)."""
    records: list[LogRecord] = []
    for data in contents:
        parsed, _ = parse_records(data if data.endswith(b"\n") else data + b"\n")
        records.extend(parsed)
    limit = _Limit(options.limit_bytes)
    for chunk in render(select(records, options), options.timestamps):
        out = limit.cut(chunk)
        if out:
            yield out
        if limit.spent:
            return


async def follow_logs(path: str, options: LogOptions, running: Callable[[], Awaitable[bool]],
                      *, poll_interval: float = 0.2) -> AsyncIterator[bytes]:
    """Reads the log at `path` (and its rotated files) with `options`; with
    options.follow, goes on yielding what the container writes until `running()` says
    it has stopped and the file holds nothing more."""
    contents = []
    for name in log_files(path):
        contents.append(await asyncio.to_thread(_read_file, name))
    limit = _Limit(options.limit_bytes)
    records: list[LogRecord] = []
    rest = b""
    for index, data in enumerate(contents):
        parsed, tail = parse_records(data)
        records.extend(parsed)
        if index == len(contents) - 1:
            rest = tail  # a line the runtime is writing now
    for chunk in render(select(records, options), options.timestamps):
        if out := limit.cut(chunk):
            yield out
        if limit.spent:
            return
    if not options.follow:
        return
    offset = len(contents[-1]) if contents else 0  # `rest` holds its unfinished line
    identity = _identity(path)
    while True:
        alive = await running()  # asked before reading, so nothing written is missed
        current = _identity(path)
        if current != identity:  # rotated: the runtime writes a new file under the name
            identity, offset, rest = current, 0, b""
        data = await asyncio.to_thread(_read_from, path, offset)
        if data:
            offset += len(data)
            parsed, rest = parse_records(rest + data)
            parsed = [r for r in parsed
                      if options.since_ns is None or r.timestamp_ns >= options.since_ns]
            for chunk in render(parsed, options.timestamps):
                if out := limit.cut(chunk):
                    yield out
                if limit.spent:
                    return
            continue
        if not alive:
            return
        await asyncio.sleep(poll_interval)


def _read_file(name: str) -> bytes:
    try:
        with open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return b""


def _read_from(name: str, offset: int) -> bytes:
    try:
        with open(name, "rb") as handle:
            handle.seek(offset)
            return handle.read(1 << 20)
    except FileNotFoundError:
        return b""


def _identity(name: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(name)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino
