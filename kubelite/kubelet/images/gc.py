"""Image garbage collection, as upstream's kubelet does it (pkg/kubelet/images/
image_gc_manager.go).

The collector keeps, per image, when it was first detected and when it was last
seen in use by a container (in memory, as upstream: a restart forgets and starts
counting again). When the images' filesystem is at least `high_threshold_percent`
used, it removes images until usage is down to `low_threshold_percent`: least
recently used first (then the earliest detected), never an image a container uses,
never a pinned one, and never one detected less than `min_age` ago (it may be about
to be used). A threshold of 100 turns collection off.

`in_use` gives the ids (or references) of the images the node's containers use; the
kubelet passes the runtime's containers' image refs, and starts `run()`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from kubelite.kubelet import cri

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageGCPolicy:
    """KubeletConfiguration's imageGCHighThresholdPercent, imageGCLowThresholdPercent
    and imageMinimumGCAge (seconds)."""

    high_threshold_percent: int = 85
    low_threshold_percent: int = 80
    min_age: float = 120.0

    def __post_init__(self) -> None:
        if not 0 <= self.low_threshold_percent <= self.high_threshold_percent <= 100:
            raise ValueError("imageGCLowThresholdPercent must be at most "
                             "imageGCHighThresholdPercent, both in 0..100")


@dataclass
class _Record:
    first_detected: float
    last_used: float
    size: int


class ImageGCError(Exception):
    """Collection could not free as much as was needed."""


class ImageGC:
    def __init__(self, images: cri.ImageService, *,
                 in_use: Callable[[], Awaitable[Collection[str]]],
                 fs_stats: Callable[[], tuple[int, int]],
                 policy: ImageGCPolicy = ImageGCPolicy(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`fs_stats` gives (capacity, available) bytes of the images' filesystem."""
        self._images = images
        self._in_use = in_use
        self._fs_stats = fs_stats
        self.policy = policy
        self._clock = clock
        self._records: dict[str, _Record] = {}

    async def run(self, *, period: float = 300.0) -> None:
        """Every `period` (upstream's ImageGCPeriod, 5 min): note the images in use and
        collect if the disk is full enough. Runs until cancelled."""
        while True:
            try:
                await self.detect()
                await self.garbage_collect()
            except ImageGCError as err:
                log.warning("image garbage collection: %s", err)
            except Exception:  # a loop boundary: the next period tries again
                log.exception("image garbage collection failed")
            await asyncio.sleep(period)

    async def detect(self) -> tuple[list[cri.Image], set[str]]:
        """Notes new images and those in use now; returns the images and the ids used."""
        now = self._clock()
        images = await self._images.list_images()
        wanted = set(await self._in_use())
        used = {i.id for i in images
                if i.id in wanted or wanted.intersection(i.repo_tags + i.repo_digests)}
        for image in images:
            record = self._records.setdefault(image.id, _Record(now, 0.0, image.size))
            record.size = image.size
            if image.id in used:
                record.last_used = now
        for gone in set(self._records) - {i.id for i in images}:
            del self._records[gone]
        return images, used

    async def garbage_collect(self) -> int:
        """One collection: frees space if usage is at the high threshold or above.
        Returns the bytes freed; ImageGCError if it could not free enough."""
        if self.policy.high_threshold_percent >= 100:
            return 0
        capacity, available = self._fs_stats()
        if capacity <= 0:
            return 0
        usage_percent = 100 - available * 100 // capacity
        if usage_percent < self.policy.high_threshold_percent:
            return 0
        to_free = capacity * (100 - self.policy.low_threshold_percent) // 100 - available
        log.info("image filesystem %d%% used (high threshold %d%%): freeing %d bytes",
                 usage_percent, self.policy.high_threshold_percent, to_free)
        freed = await self._free(to_free)
        if freed < to_free:
            raise ImageGCError(f"Failed to garbage collect required amount of images. "
                               f"Attempted to free {to_free} bytes, but only found "
                               f"{freed} bytes eligible to free.")
        return freed

    async def delete_unused(self) -> int:
        """Removes every image no container uses (the eviction manager's last resort
        under disk pressure); returns the bytes freed."""
        return await self._free(None)

    async def _free(self, to_free: int | None) -> int:
        images, used = await self.detect()
        now = self._clock()
        pinned = {i.id for i in images if i.pinned}
        candidates = sorted(
            ((image_id, r) for image_id, r in self._records.items()
             if image_id not in used and image_id not in pinned),
            key=lambda item: (item[1].last_used, item[1].first_detected))
        freed = 0
        for image_id, record in candidates:
            if to_free is not None and freed >= to_free:
                break
            if now - record.first_detected < self.policy.min_age:
                continue  # too new: the pod that pulled it may not have started yet
            log.info("removing image %s (%d bytes) to free space", image_id, record.size)
            await self._images.remove_image(image_id)
            del self._records[image_id]
            freed += record.size
        return freed
