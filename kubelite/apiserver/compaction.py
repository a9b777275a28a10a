"""Store compaction: history older than one interval is dropped, as kube-apiserver's
compactor does (`--etcd-compaction-interval`, 5 minutes by default).

A `Controller` with one key, COMPACT_KEY, enqueued once at start and then every
interval. Each sync compacts to the revision the previous sync saw, so every revision
stays readable for at least one interval: long enough for a paginated list or a
watch to resume. Older continue tokens and watches get 410 Gone, which clients handle
by relisting. With several servers sharing an etcd, each compacts; compacting to an
already compacted revision is skipped, so a sync is idempotent.

A compaction the store refuses is logged and skipped: the next tick compacts to a
newer revision anyway (upstream's compactor does the same). Any other error (the
store unreachable) is a failure the controller retries with backoff; the revision
seen last is kept until a sync succeeds.
"""

from __future__ import annotations

import logging

from kubelite.client.controller import Controller
from kubelite.storage.backend import Backend, StorageError

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300.0
COMPACT_KEY = "compact"


class Compactor:
    def __init__(self, backend: Backend, interval: float = DEFAULT_INTERVAL) -> None:
        self.backend = backend
        self.controller: Controller[str] = Controller("compaction", self.sync)
        self.controller.enqueue_every(interval, lambda: [COMPACT_KEY])
        self.controller.enqueue(COMPACT_KEY)  # the first sync only notes the revision
        self._previous: int | None = None  # the revision the previous sync saw

    async def run(self) -> None:
        await self.controller.run()

    async def sync(self, key: str) -> None:
        current = await self.backend.current_revision()
        target = self._previous
        if target is not None and target > await self.backend.compact_revision():
            try:
                await self.backend.compact(target)
                log.info("compacted the store to revision %d", target)
            except StorageError as exc:
                log.warning("compaction to %d failed: %s", target, exc)
        self._previous = current
