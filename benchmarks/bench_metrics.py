"""The metrics server's cost: 5,000 simulated nodes scraped, against the same server
without it.

    python benchmarks/bench_metrics.py [--nodes 5000] [--window 30] [--resolution 15s]

First, in this process: an API server, N simulated nodes (one pod each, annotated
usage) and a metrics server; once registered, three scrape rounds are timed by the
process's CPU clock (scraping, the simulator's endpoint rendering, decoding, storing:
all of a round's work), which gives the cores a 15 s resolution costs. Then
`kubelite server --simulated-nodes N` twice (SQLite, temporary data dirs), once with
`--disable metrics-server` and once scraping every `--resolution`, each sampled over
`--window` seconds: idle CPU and RSS of each (the CPU difference is within the noise of
the lease writes at 15 s), and the time one `kubectl top node`-shaped list of N
NodeMetrics takes.

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_simulated_nodes import Server, count, get, sample  # noqa: E402

CPU_GOAL_CORES = 1.0


async def round_cost(nodes: int, data_dir: Path, in_process: bool) -> tuple[float, float]:
    """(CPU seconds of one scrape round, its wall seconds), the best of three."""
    from kubelite.apiserver.app import APIServer
    from kubelite.client.inprocess import InProcessTransport
    from kubelite.client.rest import Client
    from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
    from kubelite.metrics import MetricsServer
    from kubelite.storage.factory import open_backend

    server = APIServer(backend=open_backend(f"sqlite://{data_dir}/db"), port=0,
                       compaction_interval=0)
    await server.start()
    client = Client(InProcessTransport(server.handle))  # type: ignore[arg-type]
    sim = SimulatedNodes(client, NodeConfig(count=nodes, cluster_cidr="10.64.0.0/10"))
    local = [sim.endpoint.local_get] if in_process and sim.endpoint else []
    # rounds are run by hand below
    metrics = MetricsServer(client, resolution=3600, local=local)
    tasks = [asyncio.create_task(sim.run()), asyncio.create_task(metrics.nodes.run()),
             asyncio.create_task(metrics.pods.run())]
    try:
        await sim.registered.wait()
        usage = json.dumps({"cpu": "250m", "memory": "64Mi"})
        gate = asyncio.Semaphore(64)

        async def one(i: int) -> None:
            async with gate:
                await client.create("pods", {
                    "metadata": {"name": f"p{i}", "annotations": {"sim.kubelite.io/usage": usage}},
                    "spec": {"nodeName": f"sim-{i}", "containers": [{"name": "app",
                                                                      "image": "nginx"}]}},
                    namespace="default")

        await asyncio.gather(*(one(i) for i in range(nodes)))
        while len(metrics.nodes.indexer.list()) < nodes:
            await asyncio.sleep(0.5)
        await asyncio.sleep(5)  # pods reported Running
        best = (float("inf"), 0.0)
        for _ in range(3):
            cpu0, wall0 = time.process_time(), time.monotonic()
            batch = await metrics.scraper.scrape_round()
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            assert len(batch) == nodes, f"{len(batch)} of {nodes} nodes answered"
            best = min(best, (cpu, wall))
        return best
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await metrics.scraper.close()
        await client.close()
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--resolution", default="15s")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for how, in_process in (("over loopback HTTP", False), ("in process", True)):
            cpu_round, wall_round = asyncio.run(round_cost(args.nodes, Path(tmp) / how,
                                                           in_process))
            print(f"one scrape round of {args.nodes} nodes (1 pod each), {how}: "
                  f"{cpu_round:.2f} s CPU, {wall_round:.2f} s wall; at a 15 s resolution "
                  f"{cpu_round / 15:.2f} cores ({cpu_round / args.nodes * 1e3:.2f} ms per "
                  f"node)", flush=True)
        for label, extra in (("without", ("--disable", "metrics-server")),
                             ("with", ("--metric-resolution", args.resolution))):
            server = Server(Path(tmp) / label, args.nodes, *extra)
            try:
                while count(server.url + "/api/v1/nodes") < args.nodes:
                    time.sleep(0.5)
                listed = 0.0
                if label == "with":
                    url = server.url + "/apis/metrics.k8s.io/v1beta1/nodes"
                    while len(get(url)["items"]) < args.nodes:
                        time.sleep(1.0)
                    start = time.monotonic()
                    get(url)
                    listed = time.monotonic() - start
                time.sleep(10.0)  # a renew interval: the lease wheel is steady
                cpu, rss = sample(server.proc.pid, args.window)
            finally:
                server.stop()
            results[label] = (cpu, rss, listed)
    (cpu0, rss0, _), (cpu1, rss1, listed) = results["without"], results["with"]
    per_second = args.nodes / (float(args.resolution.rstrip("s")) if
                               args.resolution.endswith("s") and args.resolution[:-1]
                               .replace(".", "").isdigit() else 15.0)
    print(f"metrics server: {args.nodes} simulated nodes, resolution {args.resolution}")
    print(f"  idle CPU {cpu1:.2f} cores with it, {cpu0:.2f} without: it adds "
          f"{cpu1 - cpu0:.2f} cores ({(cpu1 - cpu0) / per_second * 1e3:.2f} ms per scrape); "
          f"total ratio {cpu1 / CPU_GOAL_CORES:.2f} to the {CPU_GOAL_CORES:.0f}-core goal")
    print(f"  RSS {rss1:.0f} MB with it, {rss0:.0f} MB without (+{rss1 - rss0:.0f} MB)")
    print(f"  GET {args.nodes} NodeMetrics: {listed * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
