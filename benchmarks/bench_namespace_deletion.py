"""Deleting a namespace full of objects: seconds from `DELETE namespaces/<name>` to the
namespace being gone, in one process.

    python benchmarks/bench_namespace_deletion.py [--configmaps 1000] [--secrets 0]

An API server on SQLite (temporary dir) and the controller manager running only the
`namespace` loop, over the in-process transport, as `kubelite server` runs them. The
objects are created first (not timed); then the namespace is deleted and read back
until it answers 404. Figures: the time to gone, objects removed per second, and the
ratio to creating the same objects (the rate the store writes at in this run).

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time

from kubelite.apiserver.app import APIServer
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.controllers.manager import LOOPS, ControllerManager
from kubelite.machinery import errors
from kubelite.storage.factory import open_backend

NAMESPACE = "bench"


async def create_objects(client: Client, resource: str, count: int) -> None:
    async def one(i: int) -> None:
        await client.create(resource, {"metadata": {"name": f"o{i}"}, "data": {"k": "v"}},
                            namespace=NAMESPACE)

    for start in range(0, count, 100):  # 100 in flight: the store's group commit fills
        await asyncio.gather(*(one(i) for i in range(start, min(start + 100, count))))


async def main(configmaps: int, secrets: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = APIServer(backend=open_backend(f"sqlite://{tmp}/db"), port=0,
                           compaction_interval=0)
        await server.start()
        client = Client(InProcessTransport(server.handle),  # type: ignore[arg-type]
                        field_manager="bench")
        manager_task: asyncio.Task[None] | None = None
        if "namespace" in LOOPS:
            manager = ControllerManager(client, controllers=["namespace"])
            manager_task = asyncio.create_task(manager.run())
            await asyncio.wait_for(manager.leading.wait(), 15)
        try:
            await client.create("namespaces", {"metadata": {"name": NAMESPACE}})
            began = time.perf_counter()
            await create_objects(client, "configmaps", configmaps)
            await create_objects(client, "secrets", secrets)
            created = time.perf_counter() - began
            total = configmaps + secrets
            began = time.perf_counter()
            await client.delete("namespaces", NAMESPACE)
            while True:
                try:
                    await client.get("namespaces", NAMESPACE)
                except errors.NotFound:
                    break
                await asyncio.sleep(0.01)
            gone = time.perf_counter() - began
            print(f"namespace with {configmaps} configmaps and {secrets} secrets: "
                  f"gone in {gone:.2f} s ({total / gone:.0f} objects/s); "
                  f"creating them took {created:.2f} s ({total / created:.0f} objects/s); "
                  f"deletion/creation time ratio {gone / created:.2f}")
        finally:
            if manager_task is not None:
                manager_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await manager_task
            await client.close()
            await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configmaps", type=int, default=1000)
    parser.add_argument("--secrets", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.configmaps, args.secrets))
