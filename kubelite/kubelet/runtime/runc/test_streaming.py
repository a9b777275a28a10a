"""exec, attach, port-forward and stats on real busybox containers (root and runc needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import RuncRuntime
from kubelite.kubelet.runtime.runc.conftest import (
    exited,
    log_lines,
    requires_runc,
    run,
    sandbox_config,
    until,
)

pytestmark = requires_runc


async def test_exec_sync_returns_output_and_exit_code(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(runtime, sandbox_id, sandbox, "c", "sleep", "1000", envs=(("GREETING", "hi"),))
    result = await runtime.exec_sync(container_id, ["sh", "-c", "echo $GREETING; echo err >&2; exit 4"], 10)
    assert (result.stdout, result.stderr, result.exit_code) == (b"hi\n", b"err\n", 4)
    with pytest.raises(cri.CRIError) as raised:
        await runtime.exec_sync(container_id, ["sleep", "1000"], 0.3)
    assert raised.value.reason == "Timeout"
    # the timed-out process is gone from the container
    ps = await runtime.exec_sync(container_id, ["ps", "-o", "args"], 10)
    assert b"sleep 1000\n" in ps.stdout and ps.stdout.count(b"sleep 1000") == 1


async def test_exec_with_stdin_and_with_a_terminal(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(runtime, sandbox_id, sandbox, "c", "sleep", "1000")
    process = await runtime.exec(container_id, ["sh", "-c", "tr a-z A-Z; exit 5"], tty=False, stdin=True)
    assert process.stdin is not None
    process.stdin.write(b"hello\n")
    await process.stdin.drain()
    process.stdin.close()
    assert await asyncio.wait_for(process.stdout.read(), 10) == b"HELLO\n"
    assert await asyncio.wait_for(process.wait(), 10) == 5

    # the resize reaches the container's terminal (runc forwards SIGWINCH); the
    # command waits for it, since runc sizes the terminal only once it runs
    terminal = await runtime.exec(
        container_id,
        ["sh", "-c", 'tty; until [ "$(stty size)" = "40 100" ]; do sleep 0.02; done; read line; echo got $line'],
        tty=True,
        stdin=True,
    )
    assert terminal.stdin is not None and terminal.stderr is None
    assert (await asyncio.wait_for(terminal.stdout.readline(), 10)).rstrip() == b"/dev/pts/0"
    terminal.resize(100, 40)
    terminal.stdin.write(b"abc\n")
    await terminal.stdin.drain()
    output = await asyncio.wait_for(terminal.stdout.read(), 10)
    assert await asyncio.wait_for(terminal.wait(), 10) == 0
    assert output.rstrip().endswith(b"got abc")


async def test_attach_sees_live_output_and_feeds_stdin(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "sh", "-c", "while read line; do echo got $line; done; exit 9",
        stdin=True, stdin_once=True,
    )
    process = await runtime.attach(container_id, tty=False, stdin=True)
    assert process.stdin is not None
    process.stdin.write(b"one\n")
    await process.stdin.drain()
    assert await asyncio.wait_for(process.stdout.readline(), 10) == b"got one\n"
    await process.kill()  # detaches; stdin_once closes the container's stdin
    status = await exited(runtime, container_id)
    assert status.exit_code == 9


async def test_a_container_with_a_terminal_is_attached_to_and_resized(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "sh", "-c",
        'tty; until [ "$(stty size)" = "30 90" ]; do sleep 0.02; done; read line; echo got $line',
        tty=True, stdin=True,
    )
    process = await runtime.attach(container_id, tty=True, stdin=True)
    assert process.stderr is None and process.stdin is not None
    log = tmp_path / "pods" / "web" / "c" / "0.log"

    async def first_line_logged() -> bool:
        return log.exists() and b"/dev/pts/0" in log.read_bytes()

    await until(first_line_logged)  # the terminal echoes what we type: type after it
    process.resize(90, 30)
    process.stdin.write(b"xyz\n")
    await process.stdin.drain()
    assert await asyncio.wait_for(process.wait(), 10) == 0
    status = await runtime.container_status(container_id)
    lines = log_lines(status)
    assert {stream for stream, _ in lines} == {"stdout"}
    assert lines[0][1].rstrip() == b"/dev/pts/0" and lines[-1][1].rstrip() == b"got xyz"


async def test_port_forward_reaches_a_server_inside_the_pod(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    await run(
        runtime, sandbox_id, sandbox, "web", "sh", "-c",
        "mkdir /www && echo inside > /www/index.html && exec httpd -f -p 8080 -h /www",
    )
    response = b""

    async def fetched() -> bool:
        nonlocal response
        try:
            reader, writer = await runtime.port_forward(sandbox_id, 8080)
        except ConnectionRefusedError:
            return False
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        response = await reader.read()
        writer.close()
        return True

    await until(fetched)
    assert response.startswith(b"HTTP/1.") and response.endswith(b"inside\n")
    # nothing listens on the node's own 8080 from this test: the connection was the pod's
    with pytest.raises(ConnectionRefusedError):
        await runtime.port_forward(sandbox_id, 8081)


async def test_stats_come_from_the_containers_cgroup(runtime: RuncRuntime, tmp_path: Path) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "sh", "-c",
        "dd if=/dev/zero of=/tmp/file bs=1k count=64 2>/dev/null; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1000",
    )

    async def busy() -> bool:
        stats = await runtime.container_stats(container_id)
        return stats.cpu_usage_core_nanoseconds > 0 and stats.writable_layer_used_bytes >= 64 * 1024

    await until(busy)
    stats = await runtime.container_stats(container_id)
    assert stats.memory_usage_bytes > 0 and stats.memory_working_set_bytes > 0
    assert [s.id for s in await runtime.list_container_stats()] == [container_id]
