"""The host runtime runs real host processes: these tests start them and watch them."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.host import HostRuntime

POD = cri.PodSandboxConfig(cri.PodSandboxMetadata("web", "default", "uid-1"), hostname="web")


def _sandbox_config(tmp_path: Path) -> cri.PodSandboxConfig:
    return cri.PodSandboxConfig(POD.metadata, hostname="web", log_directory=str(tmp_path / "logs"))


async def _run(runtime: cri.RuntimeService, tmp_path: Path, *command: str, name: str = "app", **config: object) -> str:
    sandbox_config = _sandbox_config(tmp_path)
    sandbox = await runtime.run_pod_sandbox(sandbox_config)
    container = await runtime.create_container(
        sandbox,
        cri.ContainerConfig(cri.ContainerMetadata(name), image="host", command=command, log_path=f"{name}/0.log", **config),  # type: ignore[arg-type]
        sandbox_config,
    )
    await runtime.start_container(container)
    return container


async def _exited(runtime: cri.RuntimeService, container: str) -> cri.ContainerStatus:
    async def wait() -> cri.ContainerStatus:
        while (status := await runtime.container_status(container)).state is not cri.ContainerState.EXITED:
            await asyncio.sleep(0.02)
        return status

    return await asyncio.wait_for(wait(), 10)


async def test_a_container_logs_both_streams_in_the_cri_format(runtime: HostRuntime, tmp_path: Path) -> None:
    container = await _run(runtime, tmp_path, "/bin/sh", "-c", "echo out; echo err >&2; echo $GREETING $HOSTNAME", envs=(("GREETING", "hi"),))
    status = await _exited(runtime, container)
    assert (status.exit_code, status.reason) == (0, "Completed")
    assert status.started_at <= status.finished_at
    lines = Path(status.log_path).read_text().splitlines()
    assert status.log_path == str(tmp_path / "logs" / "app" / "0.log")
    assert sorted(line.split(" ", 1)[1] for line in lines) == ["stderr F err", "stdout F hi web", "stdout F out"]


@pytest.mark.parametrize(
    ("script", "stop_after", "code"),
    [
        ("exit 3", None, 3),
        ("exec sleep 60", 5.0, 143),  # SIGTERM ends it
        ("trap '' TERM; sleep 60 & wait", 0.2, 137),  # ignores SIGTERM: SIGKILL after the grace
    ],
    ids=["exit-code", "sigterm", "sigkill-after-grace"],
)
async def test_exit_codes(runtime: HostRuntime, tmp_path: Path, script: str, stop_after: float | None, code: int) -> None:
    container = await _run(runtime, tmp_path, "/bin/sh", "-c", script)
    if stop_after is not None:
        await asyncio.sleep(0.1)  # let the shell set its trap
        await runtime.stop_container(container, stop_after)
    status = await _exited(runtime, container)
    assert (status.exit_code, status.reason) == (code, "Error")


async def test_exec_runs_in_the_containers_environment(runtime: HostRuntime, tmp_path: Path) -> None:
    container = await _run(runtime, tmp_path, "sleep", "60", envs=(("WHO", "pod"),))
    result = await runtime.exec_sync(container, ["/bin/sh", "-c", "echo $WHO; echo oops >&2; exit 4"], 10)
    assert result == cri.ExecSyncResult(b"pod\n", b"oops\n", 4)
    with pytest.raises(cri.CRIError) as timeout:
        await runtime.exec_sync(container, ["sleep", "30"], 0.2)
    assert timeout.value.reason == "Timeout"

    process = await runtime.exec(container, ["cat"], tty=False, stdin=True)
    assert process.stdin is not None
    process.stdin.write(b"through stdin")
    process.stdin.close()
    assert await process.stdout.read() == b"through stdin"
    assert await process.wait() == 0


async def test_exec_on_a_terminal(runtime: HostRuntime, tmp_path: Path) -> None:
    container = await _run(runtime, tmp_path, "sleep", "60")
    # The size is read only after a line arrives, so the resize is sure to come first.
    process = await runtime.exec(container, ["/bin/sh", "-c", "test -t 0 && read go && stty size"], tty=True, stdin=True)
    process.resize(100, 40)
    assert process.stderr is None and process.stdin is not None
    process.stdin.write(b"go\n")
    assert b"40 100" in await asyncio.wait_for(process.stdout.read(), 10)
    assert await process.wait() == 0


async def test_attach_sees_what_the_container_prints_next(runtime: HostRuntime, tmp_path: Path) -> None:
    container = await _run(runtime, tmp_path, "/bin/sh", "-c", "read line; echo got $line", stdin=True)
    attached = await runtime.attach(container, tty=False, stdin=True)
    assert attached.stdin is not None
    attached.stdin.write(b"hello\n")
    await attached.stdin.drain()
    assert await asyncio.wait_for(attached.stdout.read(), 10) == b"got hello\n"
    assert await attached.wait() == 0


async def test_port_forward_reaches_a_port_in_the_pod(runtime: HostRuntime, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = f"import http.server as h; h.HTTPServer(('127.0.0.1', {port}), h.SimpleHTTPRequestHandler).serve_forever()"
    container = await _run(runtime, tmp_path, sys.executable, "-c", server, working_dir=str(tmp_path))
    (tmp_path / "hello.txt").write_text("forwarded")
    sandbox = (await runtime.container_status(container)).pod_sandbox_id

    async def fetch() -> bytes:
        while True:
            try:
                reader, writer = await runtime.port_forward(sandbox, port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.write(b"GET /hello.txt HTTP/1.0\r\n\r\n")
            body = await reader.read()
            writer.close()
            return body

    assert (await asyncio.wait_for(fetch(), 10)).endswith(b"forwarded")
    stats = await runtime.container_stats(container)
    assert stats.memory_working_set_bytes > 0 and stats.cpu_usage_core_nanoseconds > 0


async def test_a_container_without_a_command_is_refused(runtime: HostRuntime, tmp_path: Path) -> None:
    sandbox = await runtime.run_pod_sandbox(POD)
    with pytest.raises(cri.CRIError) as refused:
        await runtime.create_container(sandbox, cri.ContainerConfig(cri.ContainerMetadata("app"), image="nginx"), POD)
    assert refused.value.reason == "CreateContainerConfigError"
    with pytest.raises(cri.NotFound):
        await runtime.container_status("nope")


async def test_a_new_kubelet_kills_what_a_crashed_one_left(runtime: HostRuntime, tmp_path: Path) -> None:
    container = await _run(runtime, tmp_path, "sleep", "60")
    pid = int((runtime.root / f"{container}.pid").read_text().split()[0])
    successor = HostRuntime(runtime.root, "127.0.0.1")
    assert successor.recover() == [pid]
    status = await _exited(runtime, container)
    assert status.exit_code == 137
    assert not list(runtime.root.glob("*.pid"))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_removing_a_sandbox_stops_and_forgets_its_containers(runtime: HostRuntime, tmp_path: Path) -> None:
    container = await _run(runtime, tmp_path, "sleep", "60")
    sandbox = (await runtime.container_status(container)).pod_sandbox_id
    await runtime.remove_pod_sandbox(sandbox)
    assert await runtime.list_containers() == [] and await runtime.list_pod_sandboxes() == []
    await runtime.remove_pod_sandbox(sandbox)  # idempotent
