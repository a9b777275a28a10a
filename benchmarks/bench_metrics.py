"""The metrics server's cost: 5,000 simulated nodes scraped, against the same server
without it.

    python benchmarks/bench_metrics.py [--nodes 5000] [--window 30] [--resolution 15s]

Starts `kubelite server --simulated-nodes N` twice (SQLite, temporary data dirs): once
with `--disable metrics-server`, once scraping every node's /metrics/resource each
`--resolution`. Each is sampled over `--window` seconds once every node is registered
and NodeMetrics exist for all of them (the metrics one). Figures: idle CPU of each in
cores and the difference per scraped node per second, RSS of each, and the time one
`kubectl top node`-shaped list of N NodeMetrics takes.

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_simulated_nodes import Server, count, get, sample  # noqa: E402

CPU_GOAL_CORES = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--resolution", default="15s")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
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
