"""A container's stdio: FIFOs in its directory, pumped into the CRI log file and to
whoever is attached.

The container's stdout and stderr are named pipes that it holds open read-write, so
it never gets SIGPIPE while nobody reads (a kubelet restarting): its writes wait in
the pipe (64 KiB) until the next runtime reopens the FIFOs and pumps on. stdin, when
the container asked for it, is a FIFO it reads, and each attach with stdin writes
through a writer of its own. A container with stdin but not stdin_once holds its
stdin read-write too: it never sees end of file, as its stdin is meant to stay open
for its whole life, across attaches and across restarts of the runtime. With
stdin_once, the runtime holds the only lasting writer and closes it after the first
attach, which the container sees as end of file (as it does when the runtime's
process ends: nobody else can keep it open).

A container with a terminal (tty) has none of these: runc hands the pty's master
over a console socket at create, and the master is its stdout (logged as stdout, as
containerd does) and its stdin. The master lives in the runtime's process only, so
a tty container's terminal does not survive a restart of the runtime's process.

The FIFOs are read from the event loop (no thread); each stream's bytes go to the
attached clients as they come and to the CRI log through kubelite/kubelet/logs'
`pump` (entries per line, 16 KiB pieces, rotation by size), the writer every
runtime shares.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
import struct
import termios
from pathlib import Path

from kubelite.kubelet.cri import CRIError
from kubelite.kubelet.logs.writer import LogFile, pump
from kubelite.kubelet.runtime.terminal import terminal_writer

STREAMS = ("stdout", "stderr")
CONSOLE_SOCKET = "console.sock"


class ContainerIO:
    def __init__(
        self, directory: Path, *, stdin: bool, stdin_once: bool = False, tty: bool = False
    ) -> None:
        self.directory = directory
        self.has_stdin = stdin
        self.stdin_once = stdin_once
        self.tty = tty
        self._master: int | None = None
        self._read_fds: dict[str, int] = {}
        self._container_fds: list[int] = []
        self._stdin_fd: int | None = None
        self._subscribers: list[dict[str, asyncio.StreamReader]] = []
        self._eof = {name: asyncio.Event() for name in STREAMS}
        self._log: LogFile | None = None
        self._log_streams: dict[str, asyncio.StreamReader] = {}
        self._log_pumps: list[asyncio.Task[None]] = []

    def fifo(self, name: str) -> Path:
        return self.directory / name

    def open_for_create(self) -> tuple[int, int, int]:
        """Makes the FIFOs and returns the fds runc create passes to the container:
        stdin (or /dev/null), stdout, stderr. With a tty, runc's own stdio is
        /dev/null: the container's is the terminal (adopt_terminal)."""
        if self.tty:
            self._container_fds = [os.open(os.devnull, os.O_RDWR) for _ in range(3)]
            return self._container_fds[0], self._container_fds[1], self._container_fds[2]
        for name in STREAMS + (("stdin",) if self.has_stdin else ()):
            if not self.fifo(name).exists():
                os.mkfifo(self.fifo(name), 0o600)
        for name in STREAMS:
            # ours first (non-blocking, so the open needs no writer), then the
            # container's read-write end, which keeps a reader for its own writes
            self._read_fds[name] = os.open(self.fifo(name), os.O_RDONLY | os.O_NONBLOCK)
            self._container_fds.append(os.open(self.fifo(name), os.O_RDWR))
        if self.has_stdin:
            # read-write unless stdin_once: then it sees end of file when we close ours
            flags = os.O_RDONLY | os.O_NONBLOCK if self.stdin_once else os.O_RDWR
            stdin = os.open(self.fifo("stdin"), flags)
            self._stdin_fd = os.open(self.fifo("stdin"), os.O_WRONLY | os.O_NONBLOCK)
            os.set_blocking(stdin, True)
        else:
            stdin = os.open(os.devnull, os.O_RDONLY)
        self._container_fds.insert(0, stdin)
        return self._container_fds[0], self._container_fds[1], self._container_fds[2]

    def adopt_terminal(self, master: int) -> None:
        """Takes the pty master runc sent: its output is stdout; stderr is empty."""
        self._master = master
        self._read_fds["stdout"] = os.dup(master)
        os.set_blocking(self._read_fds["stdout"], False)
        if self.has_stdin:
            self._stdin_fd = os.dup(master)

    def resize(self, width: int, height: int) -> None:
        if self._master is not None:
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def close_container_fds(self) -> None:
        for fd in self._container_fds:
            os.close(fd)
        self._container_fds = []

    def reopen(self) -> None:
        """After a restart: reads the FIFOs of a container that may still run."""
        for name in STREAMS:
            if self.fifo(name).exists():
                self._read_fds[name] = os.open(self.fifo(name), os.O_RDONLY | os.O_NONBLOCK)
        if self.has_stdin and not self.stdin_once and self.fifo("stdin").exists():
            try:
                self._stdin_fd = os.open(self.fifo("stdin"), os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                self._stdin_fd = None  # the container is gone: no reader

    def start_pump(self, log_path: str) -> None:
        loop = asyncio.get_running_loop()
        if log_path:
            self._log = LogFile(Path(log_path))
            for name in STREAMS:
                self._log_streams[name] = asyncio.StreamReader()
                self._log_pumps.append(
                    asyncio.create_task(pump(self._log_streams[name], name, self._log))
                )
        for name in STREAMS:
            fd = self._read_fds.get(name)
            if fd is None:
                self._end(name)
                continue
            loop.add_reader(fd, self._on_readable, name, fd)

    def _on_readable(self, name: str, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO: a terminal's other side is gone
        if data:
            if name in self._log_streams:
                self._log_streams[name].feed_data(data)
            for subscriber in self._subscribers:
                if name in subscriber:
                    subscriber[name].feed_data(data)
            return
        asyncio.get_running_loop().remove_reader(fd)
        os.close(fd)
        self._read_fds.pop(name, None)
        self._end(name)

    def _end(self, name: str) -> None:
        if name in self._log_streams:
            self._log_streams[name].feed_eof()
        for subscriber in self._subscribers:
            if name in subscriber:
                subscriber[name].feed_eof()
        self._eof[name].set()

    async def drained(self) -> None:
        """Both streams reached end of file (the container and all its processes
        are gone) and everything is in the log, which is then closed."""
        for event in self._eof.values():
            await event.wait()
        await asyncio.gather(*self._log_pumps)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None and all(task.done() for task in self._log_pumps):
            self._log.close()
            self._log = None

    def subscribe(self, *, stderr: bool) -> dict[str, asyncio.StreamReader]:
        """Live output from now on; streams already at EOF are at EOF at once."""
        subscriber = {name: asyncio.StreamReader() for name in (STREAMS if stderr else ("stdout",))}
        for name, reader in subscriber.items():
            if self._eof[name].is_set():
                reader.feed_eof()
        self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: dict[str, asyncio.StreamReader]) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    async def open_stdin(self) -> asyncio.StreamWriter | None:
        """A writer of its own to the container's stdin; None when it has none (or it
        was closed after a stdin_once attach)."""
        if self._stdin_fd is None:
            return None
        if self._master is not None:
            return terminal_writer(os.dup(self._master))
        loop = asyncio.get_running_loop()
        fd = os.open(self.fifo("stdin"), os.O_WRONLY | os.O_NONBLOCK)
        pipe = os.fdopen(fd, "wb", buffering=0)
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), pipe
        )
        return asyncio.StreamWriter(transport, protocol, None, loop)

    def close_stdin(self) -> None:
        if self._stdin_fd is not None:
            os.close(self._stdin_fd)
            self._stdin_fd = None

    async def aclose(self) -> None:
        """close(), then waits until the log has what was read."""
        self.close()
        await asyncio.gather(*self._log_pumps, return_exceptions=True)

    def close(self) -> None:
        """Stops pumping and closes everything this side holds."""
        loop = asyncio.get_running_loop()
        for name, fd in list(self._read_fds.items()):
            loop.remove_reader(fd)
            os.close(fd)
            self._end(name)
        self._read_fds.clear()
        self.close_container_fds()
        self.close_stdin()
        if self._master is not None:
            os.close(self._master)
            self._master = None
        # the pumps write what they hold and end; the log closes after them
        for task in self._log_pumps:
            task.add_done_callback(lambda _: self._close_log())
        self._close_log()
        for subscriber in self._subscribers:
            for reader in subscriber.values():
                reader.feed_eof()
        self._subscribers.clear()


def console_socket(directory: Path) -> socket.socket:
    """Where runc create sends a tty container's pty master (--console-socket).

    A socket's path may have 107 bytes at most, less than a container's directory
    can take: it is bound in the bundle through /proc/self/fd, and runc, which
    runs in the bundle, is given the bare name."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dirfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        server.bind(f"/proc/self/fd/{dirfd}/{CONSOLE_SOCKET}")
    finally:
        os.close(dirfd)
    server.listen(1)
    return server


def receive_terminal(server: socket.socket) -> int:
    """The master runc sent. runc has connected and sent it before `runc create`
    returns, so both the connection and the message are waiting: nothing blocks."""
    server.settimeout(5)
    connection, _ = server.accept()
    with connection:
        connection.settimeout(5)
        _, fds, _, _ = socket.recv_fds(connection, 1024, 1)
    if not fds:
        raise CRIError("runc sent no terminal", "CreateContainerError")
    return fds[0]
