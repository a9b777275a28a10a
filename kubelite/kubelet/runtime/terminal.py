"""A StreamWriter to a terminal's controlling side (a pty master), for a container's
stdin when it has a terminal.

asyncio's `connect_write_pipe` is not fit for it under uvloop, which kubelite
servers run on: uvloop's pipe transport also reads its file descriptor, to notice a
closed peer, and on a terminal whose output the kubelet reads from the same master
that read takes the container's output away (`kubectl exec -it` showed nothing).
This transport only ever writes: each write goes straight to the descriptor, and what
the terminal cannot take yet waits in a buffer that `loop.add_writer` drains, with
`drain()` held back above HIGH_WATER as asyncio's transports do.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

HIGH_WATER = 64 * 1024


class _TerminalTransport(asyncio.WriteTransport):
    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int,
                 protocol: asyncio.streams.FlowControlMixin) -> None:
        super().__init__()
        self._loop = loop
        self._fd = fd
        self._protocol = protocol
        self._buffer = bytearray()
        self._closing = False
        self._paused = False
        os.set_blocking(fd, False)
        protocol.connection_made(self)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._fd < 0 or not data:
            return
        if not self._buffer:
            try:
                written = os.write(self._fd, data)
            except BlockingIOError:
                written = 0
            except OSError as err:  # EIO: the terminal's other side is gone
                self._lose(err)
                return
            data = bytes(data[written:])
            if not data:
                return
            self._loop.add_writer(self._fd, self._write_ready)
        self._buffer += data
        if not self._paused and len(self._buffer) > HIGH_WATER:
            self._paused = True
            self._protocol.pause_writing()

    def _write_ready(self) -> None:
        try:
            written = os.write(self._fd, self._buffer)
        except BlockingIOError:
            return
        except OSError as err:
            self._lose(err)
            return
        del self._buffer[:written]
        if self._buffer:
            return
        self._loop.remove_writer(self._fd)
        if self._paused:
            self._paused = False
            self._protocol.resume_writing()
        if self._closing:
            self._lose(None)

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Closes once what is buffered is written (a terminal has no end of file to
        send: the container sees its stdin end when the last writer closes)."""
        if self._closing:
            return
        self._closing = True
        if not self._buffer:
            self._lose(None)

    def abort(self) -> None:
        self._closing = True
        self._lose(None)

    def _lose(self, err: Exception | None) -> None:
        if self._fd < 0:
            return
        self._closing = True
        self._loop.remove_writer(self._fd)
        os.close(self._fd)
        self._fd = -1
        self._buffer.clear()
        self._protocol.connection_lost(err)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def terminal_writer(fd: int) -> asyncio.StreamWriter:
    """A writer that owns `fd` (a descriptor of a pty master, e.g. a dup of the one the
    output is read from) and closes it when closed."""
    loop = asyncio.get_running_loop()
    protocol = asyncio.streams.FlowControlMixin(loop)
    transport = _TerminalTransport(loop, fd, protocol)
    return asyncio.StreamWriter(transport, protocol, None, loop)
