"""Making sure a container's image is on the node (pkg/kubelet/images/image_manager.go).

imagePullPolicy, defaulted as the API does when unset (Always for `:latest` or no
tag, else IfNotPresent):
- Never: the image must be there, else ErrImageNeverPull;
- IfNotPresent: pulled only when missing;
- Always: pulled every time a container starts.
A failed pull is ErrImagePull and starts a back-off per pod and image (10 s doubling to
5 min); while it lasts the container waits with ImagePullBackOff and nothing is
pulled. Events as upstream: Pulling, Pulled (`Successfully pulled image "x" in 1.2s`, or
`Container image "x" already present on machine`), Failed, BackOff.

Credentials come from the pod's imagePullSecrets, matched to the image and tried in
turn as images/credentials.py does it.
"""

from __future__ import annotations

import time
from typing import Any

from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.client.rest import Client
from kubelite.kubelet import cri
from kubelite.kubelet.backoff import Backoff
from kubelite.kubelet.images.credentials import keyring_from_secrets, pull_with_keyring
from kubelite.machinery import errors

Obj = dict[str, Any]


class ImageError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def pull_policy(container: Obj) -> str:
    policy = container.get("imagePullPolicy")
    if policy:
        return str(policy)
    image = str(container.get("image") or "")
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    return "Always" if ":" not in last or last.endswith(":latest") else "IfNotPresent"


async def pull_secrets(client: Client, pod: Obj) -> list[Obj]:
    """The pod's imagePullSecrets that exist (a missing one is skipped, as upstream)."""
    namespace = pod["metadata"].get("namespace") or "default"
    found = []
    for ref in (pod.get("spec") or {}).get("imagePullSecrets") or ():
        try:
            found.append(await client.get("secrets", str(ref.get("name", "")),
                                           namespace=namespace))
        except errors.NotFound:
            continue
    return found


class ImagePuller:
    def __init__(self, client: Client, images: cri.ImageService, recorder: EventRecorder,
                 backoff: Backoff) -> None:
        self.client = client
        self.images = images
        self.recorder = recorder
        self.backoff = backoff

    async def ensure(self, pod: Obj, container: Obj) -> str:
        """The image reference to create the container with. Raises ImageError."""
        image = str(container.get("image") or "")
        if not image:
            raise ImageError("InvalidImageName", "container has no image")
        policy = pull_policy(container)
        present = await self.images.image_status(image)
        if policy == "Never":
            if present is None:
                message = f'Container image "{image}" is not present with pull policy of Never'
                self.recorder.event(pod, WARNING, "ErrImageNeverPull", message)
                raise ImageError("ErrImageNeverPull", message)
            return present.id
        if present is not None and policy == "IfNotPresent":
            self.recorder.event(pod, NORMAL, "Pulled",
                                f'Container image "{image}" already present on machine')
            return present.id
        key = f"{pod['metadata']['uid']}/{image}"
        if self.backoff.in_backoff_since_update(key):
            message = f'Back-off pulling image "{image}"'
            self.recorder.event(pod, NORMAL, "BackOff", message)
            raise ImageError("ImagePullBackOff", message)
        self.recorder.event(pod, NORMAL, "Pulling", f'Pulling image "{image}"')
        started = time.monotonic()
        try:
            keyring = keyring_from_secrets(await pull_secrets(self.client, pod))
            image_id = await pull_with_keyring(self.images, image, keyring)
        except cri.CRIError as err:
            self.backoff.next(key, self.backoff.clock())
            message = f'Failed to pull image "{image}": {err}'
            self.recorder.event(pod, WARNING, "Failed", message)
            self.recorder.event(pod, WARNING, "Failed", "Error: ErrImagePull")
            reason = err.reason if err.reason in ("InvalidImageName",) else "ErrImagePull"
            raise ImageError(reason, message) from None
        self.backoff.reset(key)
        self.recorder.event(pod, NORMAL, "Pulled", f'Successfully pulled image "{image}" in '
                                                   f"{time.monotonic() - started:.3f}s")
        return image_id

    def remaining_backoff(self, pod: Obj, container: Obj) -> float:
        return self.backoff.remaining_since_update(
            f"{pod['metadata']['uid']}/{container.get('image', '')}")
