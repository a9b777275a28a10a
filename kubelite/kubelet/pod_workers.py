"""One worker per pod, so a pod's passes never overlap (pkg/kubelet/pod_workers.go).

`update(uid)` asks for a pass of the pod soon: when its worker is busy, the request
waits and many requests make one pass. `update_after(uid, delay)` asks for one later
(a back-off ends, the periodic resync). A pass is `sync(uid)`, which returns the
seconds until the pod wants another pass (None: the periodic resync) or FINISHED when
the pod is gone and cleaned up, which ends the worker. A pass that raises is logged
and retried after `retry` seconds; it never ends the worker.

`stop()` cancels every worker and waits for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

FINISHED = -1.0


class _Worker:
    __slots__ = ("task", "wake", "timer")

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()
        self.timer: asyncio.TimerHandle | None = None


class PodWorkers:
    def __init__(self, sync: Callable[[str], Awaitable[float | None]], *,
                 resync: float, retry: float = 1.0) -> None:
        self.sync = sync
        self.resync = resync
        self.retry = retry
        self._workers: dict[str, _Worker] = {}
        self.passes = 0

    def __contains__(self, uid: str) -> bool:
        return uid in self._workers

    def uids(self) -> list[str]:
        return list(self._workers)

    def update(self, uid: str) -> None:
        worker = self._workers.get(uid)
        if worker is None:
            worker = self._workers[uid] = _Worker()
            worker.task = asyncio.create_task(self._run(uid, worker), name=f"pod-worker {uid}")
        worker.wake.set()

    def update_after(self, uid: str, delay: float) -> None:
        worker = self._workers.get(uid)
        if worker is None:
            return
        if worker.timer is not None:
            worker.timer.cancel()
        worker.timer = asyncio.get_running_loop().call_later(max(0.0, delay), worker.wake.set)

    async def _run(self, uid: str, worker: _Worker) -> None:
        try:
            while True:
                await worker.wake.wait()
                worker.wake.clear()
                if worker.timer is not None:
                    worker.timer.cancel()
                    worker.timer = None
                try:
                    delay = await self.sync(uid)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("syncing pod %s failed; retrying in %.1fs", uid, self.retry)
                    delay = self.retry
                self.passes += 1
                if delay == FINISHED:
                    return
                self.update_after(uid, self.resync if delay is None else min(delay, self.resync))
        finally:
            if self._workers.get(uid) is worker:
                del self._workers[uid]
                if worker.timer is not None:
                    worker.timer.cancel()

    async def stop(self) -> None:
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
