"""CRIImages: kubelite's cri.ImageService over a CRI runtime's ImageService
(upstream's pkg/kubelet/cri/remote/remote_image.go).

The runtime keeps the images (containerd: its k8s.io namespace); the kubelet's image
manager and its pull secrets (images/credentials.py picks the AuthConfig for the
image's registry) work unchanged over it. A pull gets a long deadline of its own, as
upstream's does: a big image takes minutes, and a registry that never answers still
ends in ErrImagePull.
"""

from __future__ import annotations

import time

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.cri import convert
from kubelite.kubelet.runtime.cri.connection import Connection
from kubelite.kubelet.runtime.cri.proto import api_pb2 as pb

PULL_TIMEOUT = 600.0


class CRIImages:
    def __init__(self, connection: Connection, *, pull_timeout: float = PULL_TIMEOUT) -> None:
        self.connection = connection
        self.pull_timeout = pull_timeout
        self._stub = connection.images

    async def list_images(self) -> list[cri.Image]:
        answer = await self.connection.call(self._stub.ListImages, pb.ListImagesRequest(),
                                            "ListImages")
        return [convert.image(i) for i in answer.images]

    async def image_status(self, image: str) -> cri.Image | None:
        answer = await self.connection.call(
            self._stub.ImageStatus, pb.ImageStatusRequest(image=pb.ImageSpec(image=image)),
            f"ImageStatus {image}")
        return convert.image(answer.image) if answer.HasField("image") else None

    async def pull_image(self, image: str, auth: cri.AuthConfig | None = None) -> str:
        request = pb.PullImageRequest(image=pb.ImageSpec(image=image),
                                      auth=convert.auth_config(auth) if auth else None)
        try:
            answer = await self.connection.call(self._stub.PullImage, request,
                                                f"PullImage {image}", timeout=self.pull_timeout)
        except cri.CRIError as exc:
            raise cri.ImagePullError(str(exc), "ErrImagePull") from None
        return str(answer.image_ref)

    async def remove_image(self, image: str) -> None:
        try:
            await self.connection.call(
                self._stub.RemoveImage, pb.RemoveImageRequest(image=pb.ImageSpec(image=image)),
                f"RemoveImage {image}")
        except cri.NotFound:
            pass  # idempotent, as the CRI says

    async def image_fs_info(self) -> cri.FilesystemUsage:
        answer = await self.connection.call(self._stub.ImageFsInfo, pb.ImageFsInfoRequest(),
                                            "ImageFsInfo")
        if not answer.image_filesystems:
            return cri.FilesystemUsage("", 0, 0, time.time_ns())
        usage = answer.image_filesystems[0]
        return cri.FilesystemUsage(usage.fs_id.mountpoint, usage.used_bytes.value,
                                   usage.inodes_used.value, usage.timestamp)
