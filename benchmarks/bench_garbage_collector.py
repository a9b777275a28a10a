"""The garbage collector in one process: how long one owner's dependents take to go.

    python benchmarks/bench_garbage_collector.py [--dependents 1000]

An in-process API server on SQLite (told a collector runs), one ConfigMap owning N
ConfigMaps (blockOwnerDeletion set), and a controller manager running only the
`garbagecollector` loop. For each propagation policy, on a fresh server: the time from
the owner's DELETE until the owner is gone and its dependents are gone (Background,
Foreground) or kept without the reference (Orphan); and how many resources the
collector watched.

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from typing import Any

from kubelite.apiserver.app import APIServer
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.controllers.garbagecollector import GarbageCollectorLoop
from kubelite.controllers.manager import ControllerManager
from kubelite.storage.factory import open_backend

NS = "default"


async def finished(client: Client, policy: str, count: int) -> bool:
    items: list[dict[str, Any]] = (await client.list("configmaps", namespace=NS))["items"]
    if any(i["metadata"]["name"] == "owner" for i in items):
        return False
    deps = [i for i in items if i["metadata"]["name"].startswith("dep-")]
    if policy == "Orphan":
        return len(deps) == count and not any(i["metadata"].get("ownerReferences")
                                              for i in deps)
    return not deps


async def one(policy: str, count: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        server = APIServer(backend=open_backend(f"sqlite://{data}/db"), port=0,
                           compaction_interval=0, garbage_collector=True)
        await server.start()
        client = Client(InProcessTransport(server.handle))  # type: ignore[arg-type]
        owner = await client.create("configmaps", {"metadata": {"name": "owner"}}, namespace=NS)
        ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
               "uid": owner["metadata"]["uid"], "blockOwnerDeletion": True}
        for i in range(count):
            await client.create("configmaps", {"metadata": {"name": f"dep-{i}",
                                                            "ownerReferences": [ref]}},
                                namespace=NS)
        manager = ControllerManager(client, controllers=["garbagecollector"])
        task = asyncio.create_task(manager.run())
        await manager.leading.wait()
        collector = manager.loops["garbagecollector"]
        assert isinstance(collector, GarbageCollectorLoop)
        while owner["metadata"]["uid"] not in collector.graph.nodes or \
                len(collector.graph.nodes[owner["metadata"]["uid"]].dependents) < count:
            await asyncio.sleep(0.01)
        start = time.monotonic()
        await client.delete("configmaps", "owner", namespace=NS, propagation_policy=policy)
        while not await finished(client, policy, count):
            await asyncio.sleep(0.02)
        took = time.monotonic() - start
        print(f"{policy:10} {count} dependents: {took:.2f} s "
              f"({len(collector.monitors.informers)} resources watched)")
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await client.close()
        await server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dependents", type=int, default=1000)
    args = parser.parse_args()
    for policy in ("Background", "Foreground", "Orphan"):
        await one(policy, args.dependents)


if __name__ == "__main__":
    asyncio.run(main())
