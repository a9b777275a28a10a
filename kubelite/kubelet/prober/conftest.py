"""Real things to probe: an HTTP server on loopback and the host runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from kubelite.kubelet.runtime.host import HostRuntime


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[HostRuntime]:
    host = HostRuntime(tmp_path / "host", "127.0.0.1")
    try:
        yield host
    finally:
        for sandbox in await host.list_pod_sandboxes():
            await host.remove_pod_sandbox(sandbox.id)


async def serve(app: web.Application, **site: object) -> tuple[web.AppRunner, int]:
    """Start `app` on a free loopback port; the runner stops it."""
    runner = web.AppRunner(app, shutdown_timeout=0.1)  # never wait on a hung handler
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0, **site)  # type: ignore[arg-type]
    await tcp.start()
    port: int = runner.addresses[0][1]
    return runner, port
