"""A Deployment reaching availability, then rolling to a new image, in one process:
time to availableReplicas=N and to a completed rollout, against issue 7's goal of
10,000 replicas available in 60 s (167 pods/s).

    python benchmarks/bench_deployment.py [--nodes 100] [--replicas 1000]

One process, one event loop, as `kubelite server --simulated-nodes N` runs: an API
server on SQLite (temporary dir), N simulated nodes, the scheduler and the controller
manager (every loop) over the in-process transport. Once the nodes are in the
scheduler's table a Deployment of `--replicas` pods (100m cpu, 100Mi each) is created
and its status polled until availableReplicas reaches N for its generation; then its
image changes (25% surge, 25% unavailable) and the status is polled until the rollout
is complete. Figures, each with its ratio to the goal's rate:

- time from creation to available, and pods/s;
- time for the rolling update, and pods replaced/s;
- the process's peak RSS.

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import tempfile
import time
from typing import Any

from kubelite.apiserver.app import APIServer
from kubelite.cli.standalone import tune_gc
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.scheduler.scheduler import KubeScheduler
from kubelite.storage.factory import open_backend

GOAL_RATE = 10_000 / 60.0  # issue 7: 10,000 replicas available in under 60 s
DEPLOY = "deployments.apps"


def deployment(replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                         "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10",
                                         "resources": {"requests": {"cpu": "100m",
                                                                    "memory": "100Mi"}}}]}}}}


async def wait_complete(client: Client, replicas: int) -> None:
    """Until the status says every replica is updated and available, for the current
    generation (what `kubectl rollout status` waits for)."""
    while True:
        d = await client.get(DEPLOY, "web", namespace="default")
        status = d.get("status") or {}
        if status.get("observedGeneration", 0) >= d["metadata"]["generation"] and (
                status.get("updatedReplicas"), status.get("replicas"),
                status.get("availableReplicas")) == (replicas, replicas, replicas):
            return
        await asyncio.sleep(0.1)


def figure(what: str, pods: int, seconds: float, cpu_seconds: float) -> str:
    """Wall-clock rate, and the CPU the process spent: on a shared machine the first
    moves with the neighbours' load, the second far less."""
    rate = pods / seconds
    return (f"{what} in {seconds:.1f} s: {rate:.0f} pods/s "
            f"({rate / GOAL_RATE:.2f}x the {GOAL_RATE:.0f} pods/s of the 60 s goal); "
            f"{cpu_seconds:.1f} CPU s, {1000 * cpu_seconds / pods:.2f} ms/pod "
            f"({pods / cpu_seconds / GOAL_RATE:.2f}x the goal's rate on one core)")


async def bench(nodes: int, replicas: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = APIServer(backend=open_backend(f"sqlite://{tmp}/db"), port=0,
                           compaction_interval=0)
        await server.start()
        tune_gc()  # as `kubelite server` does once started
        transport = InProcessTransport(server.handle)  # type: ignore[arg-type]
        client = Client(transport, field_manager="bench")
        sim = SimulatedNodes(Client(transport, field_manager="kubelite-kubelet"),
                             NodeConfig(count=nodes, cluster_cidr="10.64.0.0/10"))
        scheduler = KubeScheduler(Client(transport, field_manager="kube-scheduler"))
        manager = ControllerManager(Client(transport, field_manager="kube-controller-manager"))
        tasks = [asyncio.create_task(sim.run()), asyncio.create_task(scheduler.run()),
                 asyncio.create_task(manager.run())]
        try:
            start = time.perf_counter()
            await sim.registered.wait()
            await scheduler.leading.wait()
            await manager.leading.wait()
            while len(scheduler.table) < nodes:
                await asyncio.sleep(0.05)
            print(f"{nodes} nodes registered, scheduler and controller manager leading in "
                  f"{time.perf_counter() - start:.1f} s")
            start, cpu = time.perf_counter(), time.process_time()
            await client.create(DEPLOY, deployment(replicas), namespace="default")
            await wait_complete(client, replicas)
            print(figure(f"Deployment of {replicas} available", replicas,
                         time.perf_counter() - start, time.process_time() - cpu))
            start, cpu = time.perf_counter(), time.process_time()
            await client.patch(DEPLOY, "web", {"spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "registry.k8s.io/pause:3.9"}]}}}}, namespace="default")
            await wait_complete(client, replicas)
            print(figure(f"Rolling update of {replicas} to a new image complete", replicas,
                         time.perf_counter() - start, time.process_time() - cpu))
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS of the whole process (API server, nodes, scheduler, "
                  f"controllers): {peak_mb:.0f} MB")
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await client.close()
            await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--replicas", type=int, default=1000)
    args = parser.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(bench(args.nodes, args.replicas))


if __name__ == "__main__":
    main()
