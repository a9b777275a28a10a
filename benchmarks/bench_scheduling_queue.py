"""The scheduler's queue (kubelite/scheduler/queue.py) in memory, against a limit
measured in the same run.

    python benchmarks/bench_scheduling_queue.py [--pods 100000]

Figures:
- add + pop of N pods with random priorities (each pop waits on nothing: the queue
  is full), in pods/s, vs the same N pushes and pops of (priority, seq) tuples on a bare
  heapq: the floor of any Python priority queue. The ratio says what the keyed entries,
  the `less` callback, attempt bookkeeping and the nominator cost on top.
- N pods failed by NodeResourcesFit and moved back by one NodeAdd event, in pods/s.

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import random
import time

from kubelite.scheduler.events import NODE_ADD
from kubelite.scheduler.queue import SchedulingQueue


def make_pods(n: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    return [{"metadata": {"name": f"p{i}", "namespace": "default"},
             "spec": {"priority": rng.choice((0, 0, 0, 100, 1000))}} for i in range(n)]


def bare_heapq(n: int) -> float:
    rng = random.Random(7)
    start = time.perf_counter()
    heap: list[tuple[int, int]] = []
    for i in range(n):
        heapq.heappush(heap, (-rng.choice((0, 0, 0, 100, 1000)), i))
    while heap:
        heapq.heappop(heap)
    return n / (time.perf_counter() - start)


async def add_and_pop(n: int) -> tuple[float, float]:
    pods = make_pods(n)
    queue = SchedulingQueue()
    start = time.perf_counter()
    for pod in pods:
        queue.add(pod)
    for _ in range(n):
        info = await queue.pop()
        assert info is not None
        queue.done(info.key)
    add_pop = n / (time.perf_counter() - start)

    for pod in pods:
        queue.add(pod)
    for _ in range(n):
        info = await queue.pop()
        assert info is not None
        info.unschedulable_plugins.add("NodeResourcesFit")
        queue.add_unschedulable_if_not_present(info, queue.scheduling_cycle)
    start = time.perf_counter()
    queue.move_all_to_active_or_backoff(NODE_ADD)
    move = n / (time.perf_counter() - start)
    return add_pop, move


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=100_000)
    n = parser.parse_args().pods
    floor = bare_heapq(n)
    add_pop, move = asyncio.run(add_and_pop(n))
    print(f"bare heapq push+pop of {n:,} tuples: {floor:,.0f}/s")
    print(f"queue add+pop of {n:,} pods:          {add_pop:,.0f} pods/s "
          f"(ratio to bare heapq {add_pop / floor:.2f})")
    print(f"move of {n:,} unschedulable pods on NodeAdd: {move:,.0f} pods/s")


if __name__ == "__main__":
    main()
