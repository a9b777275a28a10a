"""Traffic between network namespaces, for the pod network's tests (and the kubelet's).

`listen` opens a TCP server in a namespace that answers each connection with the
address it sees the client at, so a test learns both that a path works and that no
NAT rewrote the source on the way. `dial` connects from a namespace and returns that
answer. Both use sockets made inside the namespace (netns.call_in_netns), then plain
asyncio: a socket stays in the namespace it was made in.
"""

from __future__ import annotations

import asyncio
import socket

from kubelite.kubelet.network import links
from kubelite.kubelet.network.netns import call_in_netns

TIMEOUT = 10.0


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
