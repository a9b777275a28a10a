"""Unschedulable pods must not slow the rest: the rate of schedulable pods with and
without a crowd of pods that fit nowhere waiting in the scheduler's queue.

    python benchmarks/bench_scheduler_unschedulable.py [--nodes 5000] [--pods 1000]
                                                       [--unschedulable 1000]

One process, as `kubelite server` runs it, on a fresh API server with `--nodes`
scheduler_perf nodes (4 cpu each; see bench_scheduler.py):

1. `--pods` schedulable pods (scheduler_perf's pod-default.yaml) are created and their
   rate measured, first create to last bind: the rate without the crowd.
2. `--unschedulable` pods asking 9 cpu are created, and the benchmark waits until the
   scheduler has tried every one (each has PodScheduled=False).
3. `--pods` schedulable pods again, measured the same way while the crowd waits.

Printed: both rates, p50/p99 create-to-bind, and the second rate's ratio to the first
(the goal is 1.0: full speed). A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scheduler import (  # noqa: E402
    create_namespace,
    create_nodes,
    figure,
    gather_limited,
    inprocess_scheduler,
    inprocess_server,
    measured_run,
    unschedulable_pod_template,
)

from kubelite.client.informer import Informer  # noqa: E402
from kubelite.client.rest import Client  # noqa: E402

Obj = dict[str, Any]


def tried_and_failed(pod: Obj) -> bool:
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False"
               for c in (pod.get("status") or {}).get("conditions") or ())


async def create_crowd(client: Client, count: int, concurrency: int) -> float:
    """Create `count` pods that fit nowhere; returns the seconds until the scheduler had
    tried them all."""
    namespace = "unschedulable"
    await create_namespace(client, namespace)
    failed: set[str] = set()
    all_tried = asyncio.Event()

    def seen(*objs: Obj) -> None:
        pod = objs[-1]
        if tried_and_failed(pod):
            failed.add(pod["metadata"]["name"])
            if len(failed) >= count:
                all_tried.set()

    informer = Informer(client, "pods", namespace=namespace)
    informer.add_event_handler(on_add=seen, on_update=seen)
    informer.start()
    await informer.wait_for_sync()
    start = time.perf_counter()
    try:
        await gather_limited(count, concurrency, lambda _: client.create(
            "pods", unschedulable_pod_template(), namespace=namespace))
        await all_tried.wait()
    finally:
        await informer.stop()
    return time.perf_counter() - start


async def bench(nodes: int, pods: int, unschedulable: int, concurrency: int) -> None:
    async with inprocess_server() as (_, transport):
        client = Client(transport, field_manager="bench")
        await create_nodes(client, nodes, concurrency)
        async with inprocess_scheduler(transport, nodes):
            me = {"the process": os.getpid()}
            alone = await measured_run(client, pods, concurrency, "alone", me)
            tried = await create_crowd(client, unschedulable, concurrency)
            crowded = await measured_run(client, pods, concurrency, "crowded", me)
    print(f"== {nodes} nodes, {pods} schedulable pods, {unschedulable} unschedulable "
          f"(tried by the scheduler within {tried:.1f} s of the first create) ==")
    figure("schedulable pods alone", alone.rate, "pods/s")
    figure("  create-to-bind p50 / p99 (ms)", alone.p50, f"/{alone.p99:.0f}")
    figure("schedulable pods, crowd pending", crowded.rate, "pods/s",
           ("the rate alone (goal 1.0)", alone.rate))
    figure("  create-to-bind p50 / p99 (ms)", crowded.p50, f"/{crowded.p99:.0f}")
    figure("CPU per schedulable pod alone", alone.cpu_ms["the process"], "ms")
    figure("CPU per schedulable pod, crowd pending", crowded.cpu_ms["the process"], "ms",
           ("alone", alone.cpu_ms["the process"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--unschedulable", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop
        uvloop.install()
    asyncio.run(bench(args.nodes, args.pods, args.unschedulable, args.concurrency))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
