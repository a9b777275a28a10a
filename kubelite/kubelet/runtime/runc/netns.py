"""Doing something inside a pod's network namespace from the runtime's process.

A socket belongs to the network namespace its creating thread was in, and setns(2)
moves only the calling thread. So a short thread of its own enters the namespace,
does the work (makes a socket, flips a link up) and ends, taking the namespace with
it: no thread of a pool, and never the event loop's, is left in a pod's network.
This costs a thread start (well under a millisecond) where a netlink library's
namespace support forks a process (tens of milliseconds).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

_libc = ctypes.CDLL(None, use_errno=True)


def run_in(netns: str, work: Callable[[], T]) -> T:
    """Runs `work` in a new thread inside the network namespace at `netns`."""
    result: list[T] = []
    error: list[BaseException] = []

    def thread_main() -> None:
        try:
            fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns {netns}: {os.strerror(err)}")
            finally:
                os.close(fd)
            result.append(work())
        except BaseException as err:  # handed to the caller
            error.append(err)

    thread = threading.Thread(target=thread_main, name="netns")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def tcp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    return sock


def bring_up(interface: str) -> None:
    """Sets IFF_UP on an interface of the calling thread's namespace (SIOCSIFFLAGS,
    as `ip link set lo up`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", interface.encode(), 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", interface.encode(), flags | IFF_UP))
