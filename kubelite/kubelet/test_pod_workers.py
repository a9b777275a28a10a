"""Pod workers: one pass at a time per pod, requests while busy collapse into one."""

from __future__ import annotations

import asyncio

from kubelite.kubelet.pod_workers import FINISHED, PodWorkers


async def test_passes_of_one_pod_never_overlap_and_requests_collapse() -> None:
    running = 0
    overlapped = False
    release = asyncio.Event()
    passes: list[str] = []

    async def sync(uid: str) -> float | None:
        nonlocal running, overlapped
        running += 1
        overlapped |= running > 1
        passes.append(uid)
        if len(passes) == 1:
            await release.wait()  # the first pass is busy while more requests come
        running -= 1
        return FINISHED if len(passes) == 2 else None

    workers = PodWorkers(sync, resync=60)
    workers.update("a")
    await asyncio.sleep(0)
    for _ in range(5):
        workers.update("a")
    release.set()
    async with asyncio.timeout(5):
        while "a" in workers:
            await asyncio.sleep(0.01)
    assert passes == ["a", "a"] and not overlapped


async def test_a_failing_pass_is_retried() -> None:
    calls = 0

    async def sync(uid: str) -> float | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("runtime unavailable")
        return FINISHED

    workers = PodWorkers(sync, resync=60, retry=0.01)
    workers.update("a")
    async with asyncio.timeout(5):
        while "a" in workers:
            await asyncio.sleep(0.01)
    assert calls == 2


async def test_stop_cancels_every_worker() -> None:
    started = asyncio.Event()

    async def sync(uid: str) -> float | None:
        started.set()
        await asyncio.Event().wait()
        return None

    workers = PodWorkers(sync, resync=60)
    workers.update("a")
    await started.wait()
    await workers.stop()
    assert workers.uids() == []
