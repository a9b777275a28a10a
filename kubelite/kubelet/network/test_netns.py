"""Named network namespaces: made, entered, connected into, removed (root only)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading

import pytest

from kubelite.kubelet.network import links
from kubelite.kubelet.network.testing import Namespaces
from kubelite.kubelet.network.netns import (
    call_in_netns,
    create_netns,
    create_netns_sync,
    is_netns,
    netns_path,
    open_connection,
    remove_netns,
)


def _links() -> list[str]:
    with links.rtnl() as ipr:
        return sorted(link.get("IFLA_IFNAME") for link in ipr.get_links())


def _own_namespace_inode() -> int:
    return os.stat(f"/proc/self/task/{threading.get_native_id()}/ns/net").st_ino


async def test_a_new_namespace_is_empty_but_for_lo_and_is_not_the_callers(
        namespaces: Namespaces) -> None:
    path = namespaces.make("empty")
    assert is_netns(path)
    assert await call_in_netns(path, _links) == ["lo"]
    assert await call_in_netns(path, _own_namespace_inode) == os.stat(path).st_ino
    assert _own_namespace_inode() != os.stat(path).st_ino  # the caller never moved


async def test_creating_an_existing_namespace_returns_the_same_one(
        namespaces: Namespaces) -> None:
    path = namespaces.make("twice")
    inode = os.stat(path).st_ino
    assert create_netns_sync(os.path.basename(path)) == path
    assert os.stat(path).st_ino == inode


async def test_creating_one_name_at_once_makes_one_namespace(namespaces: Namespaces) -> None:
    name = f"{namespaces.prefix}-racing"
    paths = await asyncio.gather(*(create_netns(name) for _ in range(5)))
    namespaces.paths.append(paths[0])
    assert len(set(paths)) == 1
    await remove_netns(paths[0])  # one mount to undo: gone after one removal
    assert not os.path.lexists(paths[0])


async def test_removing_a_namespace_twice_is_no_error(namespaces: Namespaces) -> None:
    path = namespaces.make("gone")
    await remove_netns(path)
    await remove_netns(path)
    assert not os.path.lexists(path)
    assert not is_netns(path)


@pytest.mark.parametrize("name", ["", "a/b", "..", "."], ids=["empty", "slash", "dotdot", "dot"])
def test_a_namespace_name_must_be_one_path_component(name: str) -> None:
    with pytest.raises(ValueError):
        netns_path(name)


async def test_an_exception_inside_the_namespace_reaches_the_caller(
        namespaces: Namespaces) -> None:
    path = namespaces.make("raises")

    def fail() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        await call_in_netns(path, fail)


async def test_open_connection_reaches_localhost_inside_the_namespace(
        namespaces: Namespaces) -> None:
    path = namespaces.make("portfwd")

    def listen() -> socket.socket:
        with links.rtnl() as ipr:
            links.set_up(ipr, links.link_index(ipr, "lo") or 0)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        return sock

    listener = await call_in_netns(path, listen)
    port = listener.getsockname()[1]

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write((await reader.readline()).upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, sock=listener)
    try:
        reader, writer = await open_connection(path, port)
        writer.write(b"hello\n")
        assert await asyncio.wait_for(reader.readline(), 5) == b"HELLO\n"
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


async def test_open_connection_to_a_closed_port_is_refused(namespaces: Namespaces) -> None:
    path = namespaces.make("refused")

    def lo_up() -> None:
        with links.rtnl() as ipr:
            links.set_up(ipr, links.link_index(ipr, "lo") or 0)

    await call_in_netns(path, lo_up)
    with pytest.raises(ConnectionRefusedError):
        await open_connection(path, 1)
