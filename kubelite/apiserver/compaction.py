"""Store compaction: history older than one interval is dropped, as kube-apiserver's
compactor does (`--etcd-compaction-interval`, 5 minutes by default).

Each tick compacts to the revision seen at the previous tick, so every revision stays
readable for at least one interval: long enough for a paginated list or a watch to
resume. Older continue tokens and watches get 410 Gone, which clients handle by
relisting. With several servers sharing an etcd, each compacts; compacting to an
already compacted revision is harmless.
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.storage.backend import Backend, StorageError

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300.0


async def compact_loop(backend: Backend, interval: float = DEFAULT_INTERVAL) -> None:
    previous = await backend.current_revision()
    while True:
        await asyncio.sleep(interval)
        current = await backend.current_revision()
        if previous > await backend.compact_revision():
            try:
                await backend.compact(previous)
                log.info("compacted the store to revision %d", previous)
            except StorageError as exc:
                log.warning("compaction to %d failed: %s", previous, exc)
        previous = current
