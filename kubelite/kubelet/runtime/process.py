"""Processes the runtimes start: a container's main process, an exec, with or without
a terminal, as a cri.StreamingProcess.

A terminal (tty) is a pseudo-terminal pair: the child gets the replica end as stdin,
stdout and stderr and as its controlling terminal (setsid, TIOCSCTTY, as a login
does), and the runtime keeps the controlling end, which carries the child's output
and takes its input. When the child is gone, reading that end fails with EIO: that is
the terminal's end of file, not an error. Without a terminal, stdin (if asked for),
stdout and stderr are three pipes.

Signals go to the child's process group, so what a shell in the container started
stops with it (as runc's init kills its container).
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import pty
import signal
import struct
import termios
from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.kubelet.runtime.terminal import terminal_writer


class _TerminalReaderProtocol(asyncio.StreamReaderProtocol):
    def connection_lost(self, exc: Exception | None) -> None:
        if isinstance(exc, OSError) and exc.errno == errno.EIO:
            exc = None  # the replica end closed: the child has gone
        super().connection_lost(exc)


def _become_terminal_session_leader() -> None:  # pragma: no cover - runs in the child
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Spawned:
    """A started process as a cri.StreamingProcess."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        stdin: asyncio.StreamWriter | None,
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader | None,
        terminal: int | None,
    ) -> None:
        self.process = process
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self._terminal = terminal

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait(self) -> int:
        return exit_code(await self.process.wait())

    def resize(self, width: int, height: int) -> None:
        if self._terminal is not None:
            fcntl.ioctl(self._terminal, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def signal(self, signum: int) -> None:
        """Sends `signum` to the process's group (it leads one)."""
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    async def kill(self) -> None:
        self.signal(signal.SIGKILL)
        await self.process.wait()


def exit_code(returncode: int) -> int:
    """A shell's view of how a process ended: its code, or 128 + the signal that ended
    it (137 for SIGKILL), which is what containers report."""
    return 128 - returncode if returncode < 0 else returncode


def _identity(user: int | None, group: int | None,
              extra_groups: Sequence[int] | None) -> dict[str, Any]:
    """Only the identity arguments that are set: uvloop's event loop (the server's)
    refuses these keywords even when they are None."""
    given = {"user": user, "group": group, "extra_groups": extra_groups}
    return {key: value for key, value in given.items() if value is not None}


async def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str | None = None,
    tty: bool = False,
    stdin: bool = False,
    user: int | None = None,
    group: int | None = None,
    extra_groups: Sequence[int] | None = None,
) -> Spawned:
    """Starts argv in a session of its own; raises OSError if it cannot be executed."""
    if tty:
        return await _spawn_on_terminal(argv, env=env, cwd=cwd, user=user, group=group, extra_groups=extra_groups)
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        **_identity(user, group, extra_groups),
    )
    assert process.stdout is not None and process.stderr is not None
    return Spawned(process, process.stdin, process.stdout, process.stderr, None)


async def _spawn_on_terminal(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str | None,
    user: int | None,
    group: int | None,
    extra_groups: Sequence[int] | None,
) -> Spawned:
    controller, replica = pty.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=replica,
            stdout=replica,
            stderr=replica,
            env={"TERM": "xterm", **env},
            cwd=cwd,
            preexec_fn=_become_terminal_session_leader,
            **_identity(user, group, extra_groups),
        )
    except BaseException:
        os.close(controller)
        raise
    finally:
        os.close(replica)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: _TerminalReaderProtocol(reader), os.fdopen(controller, "rb", 0))
    return Spawned(process, terminal_writer(os.dup(controller)), reader, None, controller)
