"""postStart/preStop hooks against real things: processes of the host runtime for
exec, an aiohttp server on loopback for httpGet; upstream's failure messages."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kubelite.kubelet.lifecycle import LifecycleHooks
from kubelite.kubelet.runtime.host import HostRuntime

Obj = dict[str, Any]
POD = {"metadata": {"name": "web", "namespace": "default", "uid": "u-1"}}
CONTAINER = {"name": "app", "ports": [{"name": "http", "containerPort": 0}]}
WHERE = 'for Container "app" in Pod "web_default(u-1)"'


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        self.seen.append((type_, reason, message))


@pytest.fixture
async def web_port() -> AsyncIterator[tuple[int, list[Obj]]]:
    seen: list[Obj] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append({"path": request.path, **request.headers})
        return web.Response(status=500)  # the status does not matter to a hook
    app = web.Application()
    app.router.add_get("/{tail:.*}", hook)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1], seen
    await runner.cleanup()


@pytest.fixture
def hooks(runtime: HostRuntime) -> LifecycleHooks:
    return LifecycleHooks(runtime, events=Events(), time_scale=0.001)


async def test_exec_hook_runs_in_the_container(hooks: LifecycleHooks, sleeping_container: str,
                                               tmp_path: Path) -> None:
    marker = tmp_path / "started"
    assert await hooks.run(POD, CONTAINER, sleeping_container, "127.0.0.1",
                           {"exec": {"command": ["sh", "-c", f"touch {marker}"]}}) is None
    assert marker.exists()


async def test_failed_exec_hook_says_why(hooks: LifecycleHooks, sleeping_container: str) -> None:
    message = await hooks.run(POD, CONTAINER, sleeping_container, "127.0.0.1", {"exec": {
        "command": ["sh", "-c", "echo out; echo err >&2; exit 3"]}})
    assert message == (f"Exec lifecycle hook ([sh -c echo out; echo err >&2; exit 3]) {WHERE} "
                       "failed - error: command 'sh -c echo out; echo err >&2; exit 3' exited "
                       'with 3: err\n, message: "out\\nerr\\n"')


async def test_exec_hook_in_a_stopped_container(hooks: LifecycleHooks, runtime: HostRuntime,
                                                sleeping_container: str) -> None:
    await runtime.stop_container(sleeping_container, 0)
    message = await hooks.run(POD, CONTAINER, sleeping_container, "", {"exec": {"command": ["true"]}})
    assert message is not None
    assert message.startswith(f"Exec lifecycle hook ([true]) {WHERE} failed - error: ")


async def test_http_hook_reaches_the_pod(hooks: LifecycleHooks,
                                         web_port: tuple[int, list[Obj]]) -> None:
    port, seen = web_port
    assert await hooks.run(POD, CONTAINER, "", "127.0.0.1", {"httpGet": {
        "path": "/stop", "port": port, "httpHeaders": [{"name": "X-Why", "value": "bye"}]}}) \
        is None
    assert (seen[0]["path"], seen[0]["User-Agent"], seen[0]["X-Why"]) == \
        ("/stop", "kube-lifecycle/1.35", "bye")


async def test_https_hook_on_a_plain_server_falls_back(hooks: LifecycleHooks,
                                                       web_port: tuple[int, list[Obj]]) -> None:
    port, seen = web_port
    assert await hooks.run(POD, CONTAINER, "", "127.0.0.1", {"httpGet": {
        "path": "/stop", "port": port, "scheme": "HTTPS"}}) is None
    assert len(seen) == 1
    assert hooks._events.seen == [  # type: ignore[union-attr]
        ("Warning", "LifecycleHTTPFallback",
         f"request to HTTPS lifecycle hook 127.0.0.1:{port} got HTTP response, retry with "
         "HTTP succeeded")]


async def test_failed_http_hook_says_why(hooks: LifecycleHooks) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert await hooks.run(POD, CONTAINER, "", "127.0.0.1", {"httpGet": {
        "path": "/stop", "port": port}}) == (
        f'HTTP lifecycle hook (/stop) {WHERE} failed - error: Get "http://127.0.0.1:{port}/stop": '
        f"dial tcp 127.0.0.1:{port}: connect: connection refused")
    assert await hooks.run(POD, CONTAINER, "", "127.0.0.1", {"httpGet": {
        "path": "/stop", "port": "nope"}}) == \
        f"HTTP lifecycle hook (/stop) {WHERE} failed - error: couldn't find port: nope in app"


async def test_sleep_hook_sleeps_and_can_be_cut_short(hooks: LifecycleHooks) -> None:
    assert await hooks.run(POD, CONTAINER, "", "", {"sleep": {"seconds": 5}}) is None
    slow = LifecycleHooks(hooks.runtime)
    task = asyncio.create_task(slow.run(POD, CONTAINER, "", "", {"sleep": {"seconds": 3600}}))
    await asyncio.sleep(0)
    task.cancel()  # the grace period ran out
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_tcp_socket_is_not_a_lifecycle_handler(hooks: LifecycleHooks) -> None:
    assert await hooks.run(POD, CONTAINER, "", "127.0.0.1", {"tcpSocket": {"port": 80}}) == \
        'Cannot run handler: invalid handler: {"tcpSocket":{"port":80}}'
