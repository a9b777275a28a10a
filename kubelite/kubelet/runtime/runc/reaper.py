"""Learning a container's exit code.

`runc create` forks the container's init and exits; the init is then reparented to
the nearest subreaper among its ancestors. The runtime makes its own process a child
subreaper (prctl PR_SET_CHILD_SUBREAPER) for as long as a `runc create` runs, so the
init becomes its child and waitpid gives the exact status: 0, 3, 137 after SIGKILL.
The flag is dropped again when no create is in flight, so other orphans of the
process (a host runtime's double forks) still go to init and never pile up here as
zombies. The wait itself is a pidfd (pidfd_open) read by the event loop: no thread
per container.

A container whose init is not our child (the kubelet restarted while it ran) is still
watched through its pidfd, which reports the exit but not the code: `wait` returns
None then.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
from collections.abc import Iterator

from kubelite.kubelet.runtime.runc.binary import exit_code_of

PR_SET_CHILD_SUBREAPER = 36

_libc = ctypes.CDLL(None, use_errno=True)
_creates_in_flight = 0


def _set_subreaper(on: bool) -> None:
    if _libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def subreaper() -> Iterator[None]:
    """Orphans of our children come to us while this is entered (nested and
    concurrent uses count)."""
    global _creates_in_flight
    if _creates_in_flight == 0:
        _set_subreaper(True)
    _creates_in_flight += 1
    try:
        yield
    finally:
        _creates_in_flight -= 1
        if _creates_in_flight == 0:
            _set_subreaper(False)


async def wait_for_exit(pid: int) -> int | None:
    """Waits until `pid` exits; its exit code if it was our child, else None."""
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return _reap(pid)
    exited: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not exited.done():
            exited.set_result(None)

    loop.add_reader(pidfd, readable)
    try:
        await exited
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
    return _reap(pid)


def _reap(pid: int) -> int | None:
    try:
        reaped, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    if reaped == 0:
        return None  # not exited after all (cannot happen once the pidfd is readable)
    return exit_code_of(status)
