"""Namespaces and traffic for the pod network's tests (and the kubelet's).

`Namespaces` makes a test's network namespaces, named `kltest-<random>-<label>`, and
`cleanup()` removes them by name (first deleting the links recorded in them, so a
socket a failing test left open, which keeps a namespace alive, cannot keep those);
`netns_unsupported()` says why namespaces cannot be made here, for a skip.

`listen` opens a TCP server in a namespace that answers each connection with the
address it sees the client at, so a test learns both that a path works and that no
NAT rewrote the source on the way. `dial` connects from a namespace and returns that
answer. Both use sockets made inside the namespace (netns.call_in_netns), then plain
asyncio: a socket stays in the namespace it was made in.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from functools import partial

from kubelite.kubelet.network import links
from kubelite.kubelet.network.netns import (
    call_in_netns,
    call_in_netns_sync,
    create_netns_sync,
    is_netns,
    remove_netns_sync,
)

TIMEOUT = 10.0


def netns_unsupported() -> str | None:
    """Why this process cannot make network namespaces, or None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    try:
        path = create_netns_sync(f"kltest-{secrets.token_hex(4)}-probe")
    except OSError as err:
        return f"cannot make a network namespace here: {err}"
    remove_netns_sync(path)
    return None


class Namespaces:
    """A test's network namespaces; `record_links(path, *names)` adds links to delete."""

    def __init__(self) -> None:
        self.prefix = f"kltest-{secrets.token_hex(3)}"
        self.paths: list[str] = []
        self.links: dict[str, set[str]] = {}

    def make(self, label: str) -> str:
        path = create_netns_sync(f"{self.prefix}-{label}")
        self.paths.append(path)
        return path

    def record_links(self, path: str, *names: str) -> None:
        self.links.setdefault(path, set()).update(names)

    def cleanup(self) -> None:
        for path in reversed(self.paths):
            names = self.links.get(path, set())
            if names and is_netns(path):
                call_in_netns_sync(path, partial(_delete_links, names))
            remove_netns_sync(path)


def _delete_links(names: set[str]) -> None:
    with links.rtnl() as ipr:
        for name in names:
            links.delete_link(ipr, name)


def _lo_up() -> None:
    with links.rtnl() as ipr:
        index = links.link_index(ipr, "lo")
        if index is not None:
            links.set_up(ipr, index)


async def listen(netns: str | None, host: str = "0.0.0.0", port: int = 0) -> asyncio.Server:
    """A server in `netns` that writes "<client ip>\\n" to each connection and closes
    it. Close it (server.close()) before the namespace goes: a socket keeps its
    namespace alive."""
    def bind() -> socket.socket:
        _lo_up()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
        sock.setblocking(False)
        return sock

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"{writer.get_extra_info('peername')[0]}\n".encode())
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, sock=await call_in_netns(netns, bind))


def port_of(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


async def dial(netns: str | None, host: str, port: int, *, timeout: float = TIMEOUT) -> str:
    """Connects from `netns` to host:port and returns what a `listen` server answered:
    the address it saw this connection come from."""
    sock = await call_in_netns(netns, lambda: socket.socket(socket.AF_INET,
                                                             socket.SOCK_STREAM))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (host, port))
            reader, writer = await asyncio.open_connection(sock=sock)
            try:
                return (await reader.readline()).decode().strip()
            finally:
                writer.close()
    finally:
        sock.close()
