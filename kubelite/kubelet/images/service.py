"""The node's cri.ImageService over an ImageStore: what the kubelet asks of images.

Every call reads the store as it is on disk now (the store re-reads index.json only
when it changed), so an image that `kubelite image import` added from another
process is there on the kubelet's next call. Disk work runs in a thread; pulls go
through aiohttp (pull.py). Two pulls of one reference at once share one download.

RemoveImage removes the image even if a container uses it, as upstream's runtimes
do: the kubelet's image garbage collector (gc.py) is what leaves used images alone.
"""

from __future__ import annotations

import asyncio
import os
import time

from kubelite.kubelet import cri
from kubelite.kubelet.images import manifests
from kubelite.kubelet.images.pull import pull
from kubelite.kubelet.images.store import ImageStore, StoredImage


class ImageService:
    def __init__(self, store: ImageStore, *, platform: manifests.Platform | None = None) -> None:
        self.store = store
        self._platform = platform or manifests.host_platform()
        self._users: dict[str, tuple[int | None, str]] = {}  # by id: configs never change
        self._pulls: dict[tuple[str, cri.AuthConfig | None], asyncio.Task[str]] = {}

    async def list_images(self) -> list[cri.Image]:
        return await asyncio.to_thread(lambda: [self._image(s) for s in self.store.images()])

    async def image_status(self, image: str) -> cri.Image | None:
        def status() -> cri.Image | None:
            stored = self.store.get(image)
            return None if stored is None else self._image(stored)

        return await asyncio.to_thread(status)

    async def pull_image(self, image: str, auth: cri.AuthConfig | None = None) -> str:
        key = (image, auth)
        task = self._pulls.get(key)
        if task is None:
            task = asyncio.ensure_future(pull(self.store, image, auth, platform=self._platform))
            self._pulls[key] = task
            task.add_done_callback(lambda _: self._pulls.pop(key, None))
        # shielded: one caller giving up does not cancel the others' pull
        return await asyncio.shield(task)

    async def remove_image(self, image: str) -> None:
        """Idempotent, as CRI RemoveImage: an unknown image is no error."""
        await asyncio.to_thread(self.store.remove, image)

    async def image_fs_info(self) -> cri.FilesystemUsage:
        used, inodes = await asyncio.to_thread(self.store.usage)
        return cri.FilesystemUsage(mountpoint=str(self.store.root), used_bytes=used,
                                   inodes_used=inodes, timestamp=time.time_ns())

    def _image(self, stored: StoredImage) -> cri.Image:
        if stored.id not in self._users:
            try:
                user = str(self.store.config(stored.id).get("User") or "")
            except (cri.NotFound, OSError):
                user = ""  # removed meanwhile
            self._users[stored.id] = image_user(user)
        uid, username = self._users[stored.id]
        return cri.Image(id=stored.id, repo_tags=stored.repo_tags,
                         repo_digests=stored.repo_digests, size=stored.size, uid=uid,
                         username=username, pinned=stored.pinned)


def image_user(user: str) -> tuple[int | None, str]:
    """(uid, username) from an image config's User ("1000", "1000:1000", "nginx",
    "nginx:nginx"), as the CRI's Image reports them: a number is a uid."""
    name = user.split(":", 1)[0]
    if not name:
        return None, ""
    if name.isdigit():
        return int(name), ""
    return None, name


def fs_capacity(path: str) -> tuple[int, int]:
    """(capacity, available) bytes of the filesystem holding `path`."""
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
