"""The processes the kubelet's streaming server connects clients to (cri.StreamingProcess).

- ExecProcess: a foreground `runc exec` with pipes. Its exit code is the process's
  (128 + signal when killed). kill() signals the process inside the container (its pid
  from --pid-file), not runc, so runc reaps it and no orphan is left behind.
- TtyExecProcess: `runc exec -t` whose stdio is the slave of a pty we open: runc
  copies between its terminal and the container's, and forwards a resize when it
  gets SIGWINCH, reading the size from its own terminal, which resize() sets.
  A pty master reads EIO once the slave side is gone; that is the end of the output.
- AttachProcess: the container's live output (one stream with a terminal) and, if
  it was made with stdin, a writer to its stdin; wait() is the container's exit,
  kill() detaches, resize() sizes the container's terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import signal
import struct
import subprocess
import termios
import tty
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc.binary import Runc
from kubelite.kubelet.runtime.runc.stdio import ContainerIO
from kubelite.kubelet.runtime.terminal import terminal_writer


def _exec_command(
    runc: Runc, container_id: str, cmd: Sequence[str], pid_file: Path, *, tty: bool
) -> list[str]:
    if not cmd:
        raise cri.CRIError("exec needs a command")
    flags = ["--tty"] if tty else []
    return runc.command("exec", "--pid-file", str(pid_file), *flags, container_id, *cmd)


def _pid_file(directory: Path) -> Path:
    return directory / f"exec-{secrets.token_hex(8)}.pid"


async def exec_sync(
    runc: Runc, container_id: str, directory: Path, cmd: Sequence[str], timeout: float
) -> cri.ExecSyncResult:
    """Runs cmd in the container and collects its output; a timeout (0: none) kills
    it and raises CRIError with reason "Timeout"."""
    pid_file = _pid_file(directory)
    proc = await asyncio.create_subprocess_exec(
        *_exec_command(runc, container_id, cmd, pid_file, tty=False),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process = ExecProcess(proc, pid_file)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout if timeout > 0 else None)
    except TimeoutError:
        await process.kill()
        raise cri.CRIError(f"command {list(cmd)!r} timed out after {timeout}s", "Timeout") from None
    return cri.ExecSyncResult(stdout=out, stderr=err, exit_code=await process.wait())


async def start_exec(
    runc: Runc, container_id: str, directory: Path, cmd: Sequence[str], *, tty: bool, stdin: bool
) -> ExecProcess | TtyExecProcess:
    pid_file = _pid_file(directory)
    command = _exec_command(runc, container_id, cmd, pid_file, tty=tty)
    if tty:

        async def spawn(terminal: int) -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                *command, stdin=terminal, stdout=terminal, stderr=terminal
            )

        return await TtyExecProcess.start(spawn, pid_file, stdin=stdin)
    proc = await asyncio.create_subprocess_exec(
        *command,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return ExecProcess(proc, pid_file)


def _kill_inside(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True


async def _kill(proc: asyncio.subprocess.Process, pid_file: Path) -> None:
    """Kills the process inside and lets runc reap it. runc itself is killed only if
    it has not started the process yet: killed later, it would leave its child to
    the node's init, and the container's pid namespace could not end until that
    init reaps it."""
    if proc.returncode is None and not _kill_inside(pid_file):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


class ExecProcess:
    def __init__(self, proc: asyncio.subprocess.Process, pid_file: Path) -> None:
        self._proc = proc
        self._pid_file = pid_file
        self.stdin: asyncio.StreamWriter | None = proc.stdin
        assert proc.stdout is not None
        self.stdout: asyncio.StreamReader = proc.stdout
        self.stderr: asyncio.StreamReader | None = proc.stderr

    async def wait(self) -> int:
        code = await self._proc.wait()
        self._pid_file.unlink(missing_ok=True)
        return code

    def resize(self, width: int, height: int) -> None:
        pass  # no terminal

    async def kill(self) -> None:
        await _kill(self._proc, self._pid_file)
        await self.wait()


class TtyExecProcess:
    def __init__(self, proc: asyncio.subprocess.Process, pid_file: Path, master: int) -> None:
        self._proc = proc
        self._pid_file = pid_file
        self._master = master
        loop = asyncio.get_running_loop()
        self.stdout = asyncio.StreamReader()
        self.stderr: asyncio.StreamReader | None = None
        self.stdin: asyncio.StreamWriter | None = None
        os.set_blocking(master, False)
        loop.add_reader(master, self._on_readable)
        self._reading = True

    @classmethod
    async def start(
        cls, spawn: Callable[[int], Awaitable[asyncio.subprocess.Process]], pid_file: Path, *, stdin: bool
    ) -> TtyExecProcess:
        master, slave = os.openpty()
        # raw from the start: runc would make it raw itself, but only once running,
        # and output before that would have its newlines doubled into \r\n
        tty.setraw(slave)
        try:
            proc = await spawn(slave)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        process = cls(proc, pid_file, master)
        if stdin:
            process.stdin = terminal_writer(os.dup(master))
        return process

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO: the terminal's other side closed
        if data:
            self.stdout.feed_data(data)
        else:
            self._stop_reading()

    def _stop_reading(self) -> None:
        """The terminal's other side is gone (or we are closing): nothing more can be
        read or written, so the master goes too."""
        if self._reading:
            self._reading = False
            asyncio.get_running_loop().remove_reader(self._master)
            self.stdout.feed_eof()
        if self._master >= 0:
            os.close(self._master)
            self._master = -1

    async def wait(self) -> int:
        code = await self._proc.wait()
        self._pid_file.unlink(missing_ok=True)
        if self.stdin is not None:
            self.stdin.close()
        return code

    def resize(self, width: int, height: int) -> None:
        if self._master < 0:
            return
        fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGWINCH)

    async def kill(self) -> None:
        await _kill(self._proc, self._pid_file)
        await self.wait()
        self.close()

    def close(self) -> None:
        self._stop_reading()


class AttachProcess:
    def __init__(
        self,
        io: ContainerIO,
        exited: Callable[[], Awaitable[int]],
        stdin: asyncio.StreamWriter | None,
        *,
        stdin_once: bool,
    ) -> None:
        self._io = io
        self._exited = exited
        self._subscriber = io.subscribe(stderr=not io.tty)
        self.stdout = self._subscriber["stdout"]
        self.stderr: asyncio.StreamReader | None = self._subscriber.get("stderr")
        self.stdin = stdin
        self._stdin_once = stdin_once

    async def wait(self) -> int:
        return await self._exited()

    def resize(self, width: int, height: int) -> None:
        self._io.resize(width, height)  # a no-op without a terminal

    async def kill(self) -> None:
        """Detaches: the container runs on."""
        self._io.unsubscribe(self._subscriber)
        for reader in self._subscriber.values():
            reader.feed_eof()
        if self.stdin is not None:
            self.stdin.close()
            if self._stdin_once:
                self._io.close_stdin()
