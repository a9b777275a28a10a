from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import IO

import pytest

from kubelite.kubelet.images.gc import ImageGC, ImageGCError, ImageGCPolicy
from kubelite.kubelet.images.reference import parse
from kubelite.kubelet.images.service import ImageService
from kubelite.kubelet.images.store import ImageStore, NewImage
from kubelite.kubelet.images.testing import build_image, tar_layer

MiB = 1 << 20


@dataclass(frozen=True)
class BytesLayer:
    diff_id: str
    data: bytes

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        yield io.BytesIO(self.data)


def add(store: ImageStore, name: str, *, pinned: bool = False) -> str:
    image = build_image([tar_layer({name: name.encode() * 3000})], compression="none")
    return store.add(NewImage(config=image.config,
                              layers=[BytesLayer(image.diff_ids[0], image.tars[0])],
                              references=[parse(name)], pinned=pinned))


class Node:
    """The clock, the containers' images and the disk the collector sees."""

    def __init__(self, store: ImageStore, capacity: int, others: int) -> None:
        self.store, self.capacity, self.others = store, capacity, others
        self.now = 1000.0
        self.used: set[str] = set()

    def fs_stats(self) -> tuple[int, int]:
        # available shrinks and grows with the store, as on a real disk
        return self.capacity, self.capacity - self.others - self.store.usage()[0]

    async def in_use(self) -> Collection[str]:
        return set(self.used)


@pytest.fixture
def node(store: ImageStore) -> Node:
    for name in ("a", "b", "c", "d"):
        add(store, name)
    size = store.usage()[0] // 4
    # 100 units of one image each: the images are 4% of the disk, others 82%: 86% used
    return Node(store, capacity=size * 100, others=size * 82)


def collector(store: ImageStore, node: Node, **policy: float) -> ImageGC:
    return ImageGC(ImageService(store), in_use=node.in_use, fs_stats=node.fs_stats,
                   policy=ImageGCPolicy(**policy), clock=lambda: node.now)  # type: ignore[arg-type]


def names(store: ImageStore) -> list[str]:
    return sorted(t.split("/")[-1].split(":")[0] for i in store.images() for t in i.repo_tags)


async def test_nothing_is_collected_below_the_high_threshold(store: ImageStore,
                                                             node: Node) -> None:
    node.others -= store.usage()[0] // 4 * 2  # 84% used
    gc = collector(store, node, min_age=0)
    assert await gc.garbage_collect() == 0
    assert names(store) == ["a", "b", "c", "d"]


async def test_least_recently_used_unused_images_go_first_down_to_the_low_threshold(
        store: ImageStore, node: Node) -> None:
    gc = collector(store, node, min_age=60, low_threshold_percent=84)
    node.used = {store.resolve("a")}
    await gc.detect()  # a used at 1000; b, c, d detected at 1000
    node.now, node.used = 1100.0, {store.resolve("c")}
    await gc.detect()  # c last used at 1100
    node.now, node.used = 1200.0, {"docker.io/library/d:latest"}  # by reference, too
    # 86% used: two images' worth to free for 84%; b (never used) goes first, then a
    # (used at 1000); c was used later, d is in use
    one_image = store.usage()[0] // 4
    # it stops there: c is as eligible, but enough is free
    assert await gc.garbage_collect() == 2 * one_image
    assert names(store) == ["c", "d"]


async def test_too_little_to_free_is_an_error(store: ImageStore, node: Node) -> None:
    gc = collector(store, node, min_age=0)
    node.used = {store.resolve("d")}
    # 86% used: six images' worth to free for 80%, three can go
    with pytest.raises(ImageGCError, match="only found"):
        await gc.garbage_collect()
    assert names(store) == ["d"]


async def test_pinned_and_new_images_are_kept(store: ImageStore, node: Node) -> None:
    add(store, "pause", pinned=True)
    gc = collector(store, node, min_age=120)
    await gc.detect()
    node.now = 1100.0  # nothing is two minutes old yet
    assert await gc.delete_unused() == 0
    node.now = 1200.0
    assert await gc.delete_unused() > 0
    assert names(store) == ["pause"]


async def test_high_threshold_100_turns_collection_off(store: ImageStore, node: Node) -> None:
    node.others = node.capacity - store.usage()[0]  # full
    gc = collector(store, node, high_threshold_percent=100, low_threshold_percent=80, min_age=0)
    assert await gc.garbage_collect() == 0
    assert len(names(store)) == 4


@pytest.mark.parametrize("high,low", [(80, 85), (101, 80), (85, -1)],
                         ids=["low-above-high", "high-over-100", "negative-low"])
def test_policy_refuses_thresholds_upstream_refuses(high: int, low: int) -> None:
    with pytest.raises(ValueError):
        ImageGCPolicy(high_threshold_percent=high, low_threshold_percent=low)


async def test_run_collects_every_period(store: ImageStore, node: Node) -> None:
    gc = collector(store, node, min_age=0)
    node.used = {store.resolve("a")}
    task = asyncio.create_task(gc.run(period=0.01))
    try:
        async with asyncio.timeout(10):
            while len(names(store)) > 1:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert names(store) == ["a"]
