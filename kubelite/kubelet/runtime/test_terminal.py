"""The terminal writer on both event loops kubelite runs on: what it writes reaches
the terminal, and the terminal's output still reaches whoever reads the master."""

from __future__ import annotations

import asyncio
import os
import pty
import tty
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from kubelite.kubelet.runtime.terminal import HIGH_WATER, terminal_writer

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def run_on(loop_name: str, test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop = LOOPS[loop_name]()
    try:
        loop.run_until_complete(asyncio.wait_for(test(), 10))
    finally:
        loop.close()


async def read_until(fd: int, wanted: bytes) -> bytes:
    seen = b""
    while wanted not in seen:
        try:
            seen += os.read(fd, 4096)
        except BlockingIOError:
            await asyncio.sleep(0.005)
    return seen


@pytest.mark.parametrize("loop_name", LOOPS)
def test_input_reaches_the_terminal_and_output_the_master_reader(loop_name: str) -> None:
    async def test() -> None:
        master, slave = pty.openpty()
        tty.setraw(slave)
        os.set_blocking(slave, False)
        loop = asyncio.get_running_loop()
        output = asyncio.StreamReader()
        os.set_blocking(master, False)
        loop.add_reader(master, lambda: output.feed_data(os.read(master, 4096)))
        writer = terminal_writer(os.dup(master))
        try:
            writer.write(b"typed\n")
            await writer.drain()
            assert (await read_until(slave, b"typed\n")).endswith(b"typed\n")
            os.write(slave, b"printed by the container\n")  # its output: ours to read
            assert await output.readline() == b"printed by the container\n"
        finally:
            loop.remove_reader(master)
            writer.close()
            os.close(master)
            os.close(slave)

    run_on(loop_name, test)


@pytest.mark.parametrize("loop_name", LOOPS)
def test_drain_waits_while_the_terminal_is_full_and_everything_arrives(loop_name: str) -> None:
    async def test() -> None:
        master, slave = pty.openpty()
        tty.setraw(slave)
        os.set_blocking(slave, False)
        writer = terminal_writer(os.dup(master))
        data = bytes(range(256)) * (4 * HIGH_WATER // 256)  # more than a pty buffers
        received = bytearray()

        async def consume() -> None:
            while len(received) < len(data):
                try:
                    received.extend(os.read(slave, 65536))
                except BlockingIOError:
                    await asyncio.sleep(0.001)

        reading = asyncio.ensure_future(consume())
        writer.write(data)
        await writer.drain()
        await reading
        assert bytes(received) == data
        writer.close()
        os.close(master)
        os.close(slave)

    run_on(loop_name, test)


def test_closing_the_writer_closes_its_descriptor_and_ignores_later_writes() -> None:
    async def test() -> None:
        master, slave = pty.openpty()
        tty.setraw(slave)
        os.set_blocking(slave, False)
        fd = os.dup(master)
        writer = terminal_writer(fd)
        writer.write(b"last words\n")
        writer.close()
        assert writer.is_closing()
        writer.write(b"after the close\n")
        assert await read_until(slave, b"\n") == b"last words\n"
        with pytest.raises(OSError):
            os.fstat(fd)
        os.close(master)
        os.close(slave)

    run_on("uvloop", test)
