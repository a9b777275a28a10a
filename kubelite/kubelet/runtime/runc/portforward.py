"""A TCP connection inside a pod's network namespace, for port-forward: the socket is
made in the namespace (netns.run_in) and connected by the event loop to
127.0.0.1:port, as upstream's kubelet (and containerd) dial inside the sandbox's
namespace.
"""

from __future__ import annotations

import asyncio

from kubelite.kubelet.runtime.runc import netns


async def connect(namespace: str | None, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connects to 127.0.0.1:port in the namespace (None: the node's own network)."""
    if namespace is None:
        return await asyncio.open_connection("127.0.0.1", port)
    sock = await asyncio.to_thread(netns.run_in, namespace, netns.tcp_socket)
    try:
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock)
