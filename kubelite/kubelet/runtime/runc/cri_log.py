"""The CRI log format a container's output is written in, as containerd writes it
(pkg/cri/io/logger.go) and the kubelet reads it (pkg/kubelet/kuberuntime/logs):

    2016-10-06T00:17:09.669794202Z stdout F hello

one entry per line: the time (RFC 3339, nanoseconds, UTC), the stream, F for a full
line or P for a part of a longer one (16 KiB at most per entry), and the text. A
last line without a newline is written as F when its stream ends.
"""

from __future__ import annotations

import time
from typing import BinaryIO

MAX_LINE = 16 * 1024


def timestamp(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def entry(ns: int, stream: str, full: bool, text: bytes) -> bytes:
    return f"{timestamp(ns)} {stream} {'F' if full else 'P'} ".encode() + text + b"\n"


class LogWriter:
    """Appends a container's output to its log file, line by line."""

    def __init__(self, path: str) -> None:
        self._file: BinaryIO | None = open(path, "ab", buffering=0)  # noqa: SIM115
        self._partial = {"stdout": b"", "stderr": b""}

    def write(self, stream: str, data: bytes) -> None:
        if self._file is None:
            return
        now = time.time_ns()
        buffer = self._partial[stream] + data
        out = []
        while True:
            newline = buffer.find(b"\n")
            if 0 <= newline <= MAX_LINE:
                out.append(entry(now, stream, True, buffer[:newline]))
                buffer = buffer[newline + 1 :]
            elif len(buffer) > MAX_LINE:
                out.append(entry(now, stream, False, buffer[:MAX_LINE]))
                buffer = buffer[MAX_LINE:]
            else:
                break
        self._partial[stream] = buffer
        if out:
            self._file.write(b"".join(out))

    def flush(self, stream: str) -> None:
        if self._file is not None and self._partial[stream]:
            self._file.write(entry(time.time_ns(), stream, True, self._partial[stream]))
        self._partial[stream] = b""

    def close(self) -> None:
        if self._file is not None:
            for stream in self._partial:
                self.flush(stream)
            self._file.close()
            self._file = None
