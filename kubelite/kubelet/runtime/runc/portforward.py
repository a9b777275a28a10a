"""A TCP connection inside a pod's network namespace, for port-forward.

A socket belongs to the network namespace its creating thread was in. So a short
thread of its own enters the pod's namespace (setns(2), which moves only the
calling thread) and makes the socket; the event loop then connects it to
127.0.0.1:port. The thread ends right after, and takes its namespace with it: no
thread of a pool is ever left in a pod's network.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _socket_in(netns: str) -> socket.socket:
    result: list[socket.socket | BaseException] = []

    def run() -> None:
        try:
            fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns {netns}: {os.strerror(err)}")
            finally:
                os.close(fd)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            result.append(sock)
        except BaseException as err:  # handed to the caller
            result.append(err)

    thread = threading.Thread(target=run, name="netns-socket")
    thread.start()
    thread.join()
    outcome = result[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


async def connect(netns: str | None, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connects to 127.0.0.1:port in `netns` (None: the node's own network)."""
    if netns is None:
        return await asyncio.open_connection("127.0.0.1", port)
    sock = await asyncio.to_thread(_socket_in, netns)
    try:
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock)
