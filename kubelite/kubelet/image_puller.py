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

Credentials come from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson or
dockercfg), the entry whose registry matches the image's.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.client.rest import Client
from kubelite.kubelet import cri
from kubelite.kubelet.backoff import Backoff
from kubelite.machinery import errors

Obj = dict[str, Any]

DOCKER_HUB = "docker.io"


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


def registry_of(image: str) -> str:
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def _auth_for(registry: str, config: Obj) -> cri.AuthConfig | None:
    entries = config.get("auths", config) if isinstance(config, dict) else {}
    for key, entry in (entries or {}).items():
        host = str(key).removeprefix("https://").removeprefix("http://").split("/", 1)[0]
        if host in (registry, "index.docker.io" if registry == DOCKER_HUB else registry):
            if isinstance(entry, dict):
                return cri.AuthConfig(username=str(entry.get("username") or ""),
                                      password=str(entry.get("password") or ""),
                                      auth=str(entry.get("auth") or ""),
                                      identity_token=str(entry.get("identitytoken") or ""),
                                      registry_token=str(entry.get("registrytoken") or ""))
    return None


async def pull_auth(client: Client, pod: Obj, image: str) -> cri.AuthConfig | None:
    namespace = pod["metadata"].get("namespace") or "default"
    registry = registry_of(image)
    for ref in (pod.get("spec") or {}).get("imagePullSecrets") or ():
        try:
            secret = await client.get("secrets", str(ref.get("name", "")), namespace=namespace)
        except errors.NotFound:
            continue
        data = secret.get("data") or {}
        raw = data.get(".dockerconfigjson") or data.get(".dockercfg")
        if not raw:
            continue
        try:
            config = json.loads(base64.b64decode(raw))
        except ValueError:
            continue
        found = _auth_for(registry, config)
        if found is not None:
            return found
    return None


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
            auth = await pull_auth(self.client, pod, image)
            image_id = await self.images.pull_image(image, auth)
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
