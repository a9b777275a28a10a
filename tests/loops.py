"""Run chosen control loops, built with test settings (a short back-off, an injected
clock), against the in-process API server, as the manager would run them while
leading: shared informers started and synced first."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from kubelite.client.rest import Client
from kubelite.controllers.context import LoopContext
from kubelite.controllers.informers import SharedInformers
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.settings import LoopSettings
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.scheduler.scheduler import KubeScheduler
from tests.test_scheduler import running


@contextlib.asynccontextmanager
async def run_loops(client: Client, *factories: Callable[[LoopContext], Any]
                    ) -> AsyncIterator[list[Any]]:
    informers = SharedInformers(client)
    ctx = LoopContext(client, informers)
    loops = [factory(ctx) for factory in factories]
    informers.start()
    try:
        await informers.wait_for_sync()
        async with running(asyncio.gather(*(loop.run() for loop in loops))):
            yield loops
    finally:
        await informers.stop()
        for recorder in ctx.recorders:
            await recorder.wait_idle()
            await recorder.close()


@contextlib.asynccontextmanager
async def nodes_scheduler_and_manager(client: Client, *, nodes: int = 3, cpu: str = "4",
                                      memory: str = "8Gi", controllers: list[str] | None = None,
                                      storage_dir: Path | None = None,
                                      ) -> AsyncIterator[ControllerManager]:
    """Simulated nodes, the scheduler and the controller manager (every loop unless
    `controllers` names some), all running and leading. Local-path volumes go to
    `storage_dir`, else to a directory of the block's own, as a server's go to its data dir."""
    sim = SimulatedNodes(client, NodeConfig(count=nodes, cpu=cpu, memory=memory))
    sched = KubeScheduler(client, seed=1)
    with tempfile.TemporaryDirectory(prefix="kubelite-storage-") as scratch:
        manager = ControllerManager(client, settings=LoopSettings(
                                        storage_dir=storage_dir or Path(scratch)),
                                    **({"controllers": controllers} if controllers else {}))
        async with running(sim.run()), running(sched.run()), running(manager.run()):
            async with asyncio.timeout(15):
                await sim.registered.wait()
                await sched.leading.wait()
                await manager.leading.wait()
            yield manager


@contextlib.asynccontextmanager
async def nodes_and_scheduler(client: Client) -> AsyncIterator[None]:
    """Three simulated nodes and the scheduler, running."""
    sim = SimulatedNodes(client, NodeConfig(count=3, cpu="4", memory="8Gi"))
    sched = KubeScheduler(client, seed=1)
    async with running(sim.run()), running(sched.run()):
        async with asyncio.timeout(15):
            await sim.registered.wait()
            await sched.leading.wait()
        yield
