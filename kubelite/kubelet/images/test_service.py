from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.images import manifests
from kubelite.kubelet.images.archive import import_archive
from kubelite.kubelet.images.service import ImageService, image_user
from kubelite.kubelet.images.store import ImageStore
from kubelite.kubelet.images.testing import (
    Registry, build_image, push, tar_layer, write_docker_archive)


async def test_images_in_the_cri_shape(store: ImageStore, tmp_path: Path) -> None:
    image = build_image([tar_layer({"f": b"x" * 10000})], config={"User": "nginx:nginx"})
    write_docker_archive(tmp_path / "a.tar", [(image, ["web:1", "web:latest"])])
    service = ImageService(store)
    assert await service.list_images() == []
    import_archive(store, tmp_path / "a.tar")  # as another process would: on disk
    [listed] = await service.list_images()
    assert listed == cri.Image(id=image.id, repo_tags=("docker.io/library/web:1",
                                                       "docker.io/library/web:latest"),
                               size=listed.size, username="nginx")
    assert listed.size >= 10000
    assert await service.image_status("web") == listed
    assert await service.image_status(image.id) == listed
    assert await service.image_status("web:2") is None
    usage = await service.image_fs_info()
    assert usage.used_bytes == listed.size and usage.inodes_used == 1
    assert usage.mountpoint == str(store.root)
    await service.remove_image("docker.io/library/web:1")
    await service.remove_image("web:1")  # idempotent
    assert await service.list_images() == []
    assert (await service.image_fs_info()).used_bytes == 0


async def test_concurrent_pulls_of_one_image_share_one(store: ImageStore,
                                                       registry: Registry) -> None:
    image = build_image([tar_layer({"f": b"1"})])
    await push(registry.host, "app", "1", image)
    service = ImageService(store, platform=manifests.Platform("linux", "amd64"))
    ref = f"{registry.host}/app:1"
    first, second = await asyncio.gather(service.pull_image(ref), service.pull_image(ref))
    assert first == second == image.id
    status = await service.image_status(ref)
    assert status is not None and status.repo_tags == (ref,)


@pytest.mark.parametrize("user,expected", [
    ("", (None, "")), ("0", (0, "")), ("1000:1000", (1000, "")), ("nginx", (None, "nginx")),
    ("nginx:www", (None, "nginx")), (":1000", (None, "")),
], ids=["unset", "root", "uid-gid", "name", "name-group", "group-only"])
def test_image_user(user: str, expected: tuple[int | None, str]) -> None:
    assert image_user(user) == expected
