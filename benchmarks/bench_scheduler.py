"""SchedulingBasic (upstream's scheduler_perf): pods/s from the first pod created to the
last one bound, through the whole loop, against the 800 pods/s goal.

    python benchmarks/bench_scheduler.py [--nodes 1000] [--pods 1000] [--concurrency 50]

One process, one event loop, as `kubelite server --simulated-nodes N` runs: an API server
on SQLite (temporary dir), N simulated nodes registered through the API, the scheduler
over the in-process transport. Once every node is in the scheduler's table, `--pods`
plain pods (100m cpu, 100Mi) are created through the API, `--concurrency` at a time,
and a watch counts bindings. Everything shares the loop: pod creation, informers,
scheduling cycles, bindings and the simulated kubelets starting the pods, so the figure
is the cluster's, not the scheduling core's (see bench_scheduler_core.py for that).
A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from typing import Any

from kubelite.apiserver.app import APIServer
from kubelite.client.informer import Informer
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.scheduler.scheduler import KubeScheduler
from kubelite.storage.factory import open_backend

GOAL = 800.0


def pod(i: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"pod-{i:05}"},
            "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10",
                                     "resources": {"requests": {"cpu": "100m",
                                                                "memory": "100Mi"}}}]}}


async def bench(nodes: int, pods: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = APIServer(backend=open_backend(f"sqlite://{tmp}/db"), port=0,
                           compaction_interval=0)
        await server.start()
        transport = InProcessTransport(server.handle)  # type: ignore[arg-type]
        client = Client(transport, field_manager="bench")
        sim = SimulatedNodes(Client(transport, field_manager="kubelite-kubelet"),
                             NodeConfig(count=nodes, cluster_cidr="10.64.0.0/10"))
        scheduler = KubeScheduler(Client(transport, field_manager="kube-scheduler"))
        tasks = [asyncio.create_task(sim.run()), asyncio.create_task(scheduler.run())]
        bound: set[str] = set()
        all_bound = asyncio.Event()

        def count(_old: dict[str, Any], new: dict[str, Any]) -> None:
            if new["spec"].get("nodeName"):
                bound.add(new["metadata"]["name"])
                if len(bound) == pods:
                    all_bound.set()

        watcher = Informer(client, "pods")
        watcher.add_event_handler(on_update=count)
        try:
            start = time.perf_counter()
            await sim.registered.wait()
            await scheduler.leading.wait()
            while len(scheduler.table) < nodes:
                await asyncio.sleep(0.05)
            print(f"{nodes} nodes registered and in the scheduler's table in "
                  f"{time.perf_counter() - start:.1f} s")
            watcher.start()
            await watcher.wait_for_sync()
            gate = asyncio.Semaphore(concurrency)

            async def create(i: int) -> None:
                async with gate:
                    await client.create("pods", pod(i), namespace="default")

            start = time.perf_counter()
            await asyncio.gather(*(create(i) for i in range(pods)))
            created = time.perf_counter() - start
            await all_bound.wait()
            elapsed = time.perf_counter() - start
            rate = pods / elapsed
            print(f"{pods} pods created in {created:.2f} s, all bound after {elapsed:.2f} s: "
                  f"{rate:.0f} pods/s ({rate / GOAL:.2f}x the {GOAL:.0f} pods/s goal)")
        finally:
            await watcher.stop()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await client.close()
            await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(bench(args.nodes, args.pods, args.concurrency))


if __name__ == "__main__":
    main()
