"""Named network namespaces, and running code inside one.

A sandbox's network namespace is a file: `/run/kubelite/netns/<name>`, a bind mount
of the namespace (nsfs), as `ip netns add` makes under /run/netns. It lives as long
as the mount does, with or without a process in it, so the runtime can make it
before any container exists (runc joins it by path: config.json's
`linux.namespaces[{type: network, path}]`) and the PodNetwork can configure it. The
directory is kubelite's own, so `ip netns list` does not show pods' namespaces; enter
one with `nsenter --net=/run/kubelite/netns/<name>`.

As iproute2 does, the directory is made a shared mount point, so that an unmount here
reaches copies of the mount in mount namespaces made since (a copy would otherwise
keep the namespace alive and make the unlink fail with EBUSY).

Entering a network namespace is per thread on Linux (setns(2) with CLONE_NEWNET
moves only the calling thread), and a socket belongs to the namespace its creator
was in when it made it, for its whole life. So `call_in_netns` runs a function in a
fresh thread that enters the namespace first, and the thread ends with the call: no
pooled thread is ever left in a pod's namespace. A netlink socket (pyroute2's
IPRoute) opened there configures that namespace; a TCP socket made there connects
inside it from any thread, which is how `open_connection` serves port-forward.
Forking (what pyroute2's own `netns=` option does) is avoided: the kubelet is a
threaded asyncio process.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import errno
import os
import socket
import threading
from collections.abc import Callable
from functools import partial
from typing import TypeVar

T = TypeVar("T")

RUN_DIR = "/run/kubelite/netns"

CLONE_NEWNET = 0x40000000
_MS_BIND = 4096
_MS_REC = 16384
_MS_SHARED = 1 << 20
_MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class NetnsError(OSError):
    """A namespace could not be made, entered or removed."""


def _check(result: int, what: str, path: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise NetnsError(code, f"{what}: {os.strerror(code)}", path)


def netns_path(name: str, run_dir: str = RUN_DIR) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"invalid network namespace name {name!r}")
    return os.path.join(run_dir, name)


def is_netns(path: str) -> bool:
    """Whether `path` is a network namespace (a bind mount of one, or /proc/<pid>/ns/net)."""
    try:
        return os.stat(path).st_dev == os.stat("/proc/self/ns/net").st_dev
    except FileNotFoundError:
        return False


# Creations take turns (a millisecond each), so that two of one name, or two first ones
# binding the directory, cannot stack a second mount on the first.
_create_lock = threading.Lock()


def _share_run_dir(run_dir: str) -> None:
    """iproute2's netns_add: make run_dir a shared mount, binding it onto itself first
    when it is not a mount point yet (that first mount fails with EINVAL)."""
    os.makedirs(run_dir, exist_ok=True)
    rd = run_dir.encode()
    if _libc.mount(b"none", rd, None, _MS_SHARED | _MS_REC, None) == 0:
        return
    if ctypes.get_errno() != errno.EINVAL:
        _check(-1, "making the netns directory shared", run_dir)
    _check(_libc.mount(rd, rd, b"none", _MS_BIND | _MS_REC, None),
           "binding the netns directory", run_dir)
    _check(_libc.mount(b"none", rd, None, _MS_SHARED | _MS_REC, None),
           "making the netns directory shared", run_dir)


Done = Callable[[list[T], list[BaseException]], None]


def _start_thread(func: Callable[[], T], done: Done[T]) -> threading.Thread:
    """Starts func in a new thread, which calls done(results, failures) as it ends; the
    thread ends with it, whatever namespace it entered."""
    def run() -> None:
        outcome: list[T] = []
        failure: list[BaseException] = []
        try:
            outcome.append(func())
        except BaseException as err:  # handed to the caller, which re-raises it
            failure.append(err)
        done(outcome, failure)

    thread = threading.Thread(target=run, name="netns", daemon=True)
    thread.start()
    return thread


def _run_in_thread(func: Callable[[], T]) -> T:
    result: list[T] = []
    error: list[BaseException] = []

    def done(outcome: list[T], failure: list[BaseException]) -> None:
        result.extend(outcome)
        error.extend(failure)

    _start_thread(func, done).join()
    if error:
        raise error[0]
    return result[0]


async def _await_in_thread(func: Callable[[], T]) -> T:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: list[T], failure: list[BaseException]) -> None:
        if future.done():  # the caller was cancelled meanwhile
            return
        if failure:
            future.set_exception(failure[0])
        else:
            future.set_result(outcome[0])

    def done(outcome: list[T], failure: list[BaseException]) -> None:
        try:
            loop.call_soon_threadsafe(settle, outcome, failure)
        except RuntimeError:
            pass  # the loop has closed: nobody waits any more

    _start_thread(func, done)
    return await future


def _enter(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(_libc.setns(fd, CLONE_NEWNET), "entering the network namespace", path)
    finally:
        os.close(fd)


def create_netns_sync(name: str, run_dir: str = RUN_DIR) -> str:
    """Makes the network namespace `name` (lo down, nothing else in it) and returns its
    path. An existing one of that name is kept and its path returned."""
    path = netns_path(name, run_dir)
    with _create_lock:
        if is_netns(path):
            return path
        _share_run_dir(run_dir)
        _make_netns(path)
    return path


def _make_netns(path: str) -> None:
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444))
    except FileExistsError:
        pass  # a file left by a crash between create and mount: mount over it

    def unshare_and_bind() -> None:
        _check(_libc.unshare(CLONE_NEWNET), "unsharing the network namespace", path)
        own = f"/proc/self/task/{threading.get_native_id()}/ns/net".encode()
        _check(_libc.mount(own, path.encode(), b"none", _MS_BIND, None),
               "binding the network namespace", path)

    try:
        _run_in_thread(unshare_and_bind)
    except BaseException:
        _unlink(path)
        raise


def remove_netns_sync(path: str) -> None:
    """Unmounts and deletes the namespace file at `path`; the namespace itself goes when
    nothing else holds it (its links go with it). Missing: no error."""
    if not os.path.lexists(path):
        return
    if _libc.umount2(path.encode(), _MNT_DETACH) != 0 and ctypes.get_errno() != errno.EINVAL:
        _check(-1, "unmounting the network namespace", path)  # EINVAL: not mounted
    _unlink(path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _entering(path: str | None, func: Callable[[], T]) -> Callable[[], T]:
    def entered() -> T:
        if path is not None:
            _enter(path)
        return func()

    return entered


def call_in_netns_sync(path: str | None, func: Callable[[], T]) -> T:
    """Runs func in a new thread inside the namespace at `path` (None: this process's
    own) and returns its result."""
    return _run_in_thread(_entering(path, func))


async def create_netns(name: str, run_dir: str = RUN_DIR) -> str:
    return await asyncio.to_thread(create_netns_sync, name, run_dir)


async def remove_netns(path: str) -> None:
    await asyncio.to_thread(remove_netns_sync, path)


async def call_in_netns(path: str | None, func: Callable[[], T]) -> T:
    """`call_in_netns_sync` without blocking the event loop (and without a pool thread:
    the new thread is the one that enters the namespace)."""
    return await _await_in_thread(_entering(path, func))


async def open_connection(
    path: str, port: int, *, limit: int = 2**16
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection to localhost:`port` inside the namespace at `path`, for
    port-forward: 127.0.0.1 first, then ::1 (what dialing "localhost" does in
    containerd's port forwarder). Raises ConnectionRefusedError when neither listens."""
    if not 0 < port < 65536:
        raise ValueError(f"invalid port {port}")
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        sock = await call_in_netns(path, partial(socket.socket, family, socket.SOCK_STREAM))
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, (host, port))
        except OSError as err:
            sock.close()
            last = err
            continue
        except BaseException:
            sock.close()
            raise
        return await asyncio.open_connection(sock=sock, limit=limit)
    raise last if last is not None else ConnectionRefusedError(port)
