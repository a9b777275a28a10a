"""Real things to probe: an HTTP server on loopback (the host runtime is the
kubelet tests' `runtime`, kubelite/kubelet/conftest.py)."""

from __future__ import annotations

from aiohttp import web


async def serve(app: web.Application, **site: object) -> tuple[web.AppRunner, int]:
    """Start `app` on a free loopback port; the runner stops it."""
    runner = web.AppRunner(app, shutdown_timeout=0.1)  # never wait on a hung handler
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0, **site)  # type: ignore[arg-type]
    await tcp.start()
    port: int = runner.addresses[0][1]
    return runner, port
