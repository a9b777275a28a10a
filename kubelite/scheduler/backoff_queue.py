"""backoffQ: pods waiting out their back-off before another scheduling attempt
(upstream's backoffQueue, pkg/scheduler/backend/queue/backoff_queue.go).

Two heaps, as upstream keeps them since SchedulerPopFromBackoffQ (on by default from
1.33):
- pods that plugins rejected, by back-off expiry, then as activeQ orders them;
- pods whose attempt failed with an error (no rejecting plugin), by expiry.

`pop_for_retry()` hands the scheduler the first of the rejected pods when activeQ is
empty: an idle scheduler retries a pod at once instead of keeping it out for the rest
of its back-off (a pod created before its node was Ready waited up to 2 s after the
node's not-ready taint went). Pods that failed with an error are never popped early:
they wait out their back-off, so a failing API does not turn into a hot retry loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kubelite.scheduler.heap import KeyedHeap
from kubelite.scheduler.queued_pod import QueuedPodInfo

Less = Callable[[QueuedPodInfo, QueuedPodInfo], bool]


def _key_of(info: QueuedPodInfo) -> str:
    return info.key


def failed_with_error(info: QueuedPodInfo) -> bool:
    return not (info.unschedulable_plugins or info.pending_plugins)


class BackoffQueue:
    def __init__(self, expiry: Callable[[QueuedPodInfo], float], active_less: Less) -> None:
        self._expiry = expiry
        self._rejected: KeyedHeap[QueuedPodInfo] = KeyedHeap(
            less=lambda a, b: (expiry(a) < expiry(b)
                               or (expiry(a) == expiry(b) and active_less(a, b))))
        self._errored: KeyedHeap[QueuedPodInfo] = KeyedHeap(
            less=lambda a, b: expiry(a) < expiry(b))

    def __len__(self) -> int:
        return len(self._rejected) + len(self._errored)

    def __contains__(self, key: str) -> bool:
        return key in self._rejected or key in self._errored

    def get(self, key: str) -> QueuedPodInfo | None:
        return self._rejected.get(key) or self._errored.get(key)

    def items(self) -> Iterator[QueuedPodInfo]:
        yield from self._rejected.items()
        yield from self._errored.items()

    def push(self, key: str, info: QueuedPodInfo) -> None:
        """Add the pod, or re-sort it, in the heap its last failure calls for."""
        into, other = ((self._errored, self._rejected) if failed_with_error(info)
                       else (self._rejected, self._errored))
        other.remove(key)
        into.push(key, info)

    def remove(self, key: str) -> QueuedPodInfo | None:
        return self._rejected.remove(key) or self._errored.remove(key)

    def pop_completed(self, now: float) -> list[QueuedPodInfo]:
        """Every pod whose back-off is over, out of both heaps."""
        done = []
        for heap in (self._rejected, self._errored):
            while (info := heap.peek()) is not None and self._expiry(info) <= now:
                heap.remove(info.key)
                done.append(info)
        return done

    def pop_for_retry(self) -> QueuedPodInfo | None:
        """The rejected pod whose back-off ends first, back-off or not (for an empty
        activeQ); never one that failed with an error."""
        return self._rejected.pop(_key_of)
