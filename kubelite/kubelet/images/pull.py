"""Pulling an image from a registry into the store, as containerd's CRI plugin does.

    GET manifests/<tag or digest>  (Accept: OCI and Docker indexes and manifests)
      └─ an index or manifest list: the node's platform picked, its manifest fetched
    GET blobs/<config digest>      the image config, whose diff_ids name the layers
    GET blobs/<layer digest>       only layers the store has not unpacked yet, a few
                                   at a time, streamed to tmp/ and checked on the way
    store.add                      unpacked (in a thread), then the references

Every document is checked against the digest it was asked by (or the one the
registry announced in Docker-Content-Digest). The image is known afterwards by its
tag (unless it was pulled by digest, as docker does) and by name@<digest of what the
tag named>, the repo digest containerStatuses[].imageID shows.

Every failure is a cri.ImagePullError: reason InvalidImageName for a malformed
reference, ErrImagePull otherwise, with what went wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import aiohttp

from kubelite.kubelet import cri
from kubelite.kubelet.images import manifests, reference
from kubelite.kubelet.images.registry import RegistryError, RepositoryClient
from kubelite.kubelet.images.store import ImageStore, NewImage
from kubelite.kubelet.images.unpack import LayerError

PARALLEL_DOWNLOADS = 3
MAX_MANIFEST_BYTES = 4 << 20  # as containerd: a manifest is a small document
_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=30, sock_read=120)


@dataclass(frozen=True)
class _DownloadedLayer:
    diff_id: str
    path: Path | None  # None: the store had it unpacked before the pull

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.path is None:
            raise LayerError(f"layer {self.diff_id} was removed while the image was pulled; "
                             "pull again")
        with open(self.path, "rb") as stream:
            yield stream


async def pull(store: ImageStore, image: str, auth: cri.AuthConfig | None = None, *,
               platform: manifests.Platform | None = None) -> str:
    """Pulls `image` into `store` and returns its id."""
    try:
        ref = reference.parse(image)
    except reference.InvalidReference as err:
        raise cri.ImagePullError(f"Failed to apply default image tag {image!r}: {err}",
                                 "InvalidImageName") from err
    try:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session:
            client = RepositoryClient(session, ref, auth)
            return await _pull(store, client, ref, platform or manifests.host_platform())
    except (RegistryError, manifests.ManifestError, LayerError) as err:
        raise cri.ImagePullError(f"failed to pull image {str(ref)!r}: {err}",
                                 "ErrImagePull") from err
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
        raise cri.ImagePullError(f"failed to pull image {str(ref)!r}: failed to do request: "
                                 f"{type(err).__name__}: {err}", "ErrImagePull") from err


async def _pull(store: ImageStore, client: RepositoryClient, ref: reference.Reference,
                platform: manifests.Platform) -> str:
    top, body, declared = await _manifest(client, ref.digest or ref.tag)
    blobs = {top: body}
    document = manifests.parse_json(body, f"manifest {top}")
    if manifests.media_type(document, declared) in manifests.INDEX_TYPES:
        digest = str(manifests.pick_platform(document, platform)["digest"])
        digest, body, declared = await _manifest(client, digest)
        blobs[digest] = body
        document = manifests.parse_json(body, f"manifest {digest}")
        if manifests.media_type(document, declared) not in manifests.MANIFEST_TYPES:
            raise manifests.ManifestError(f"index entry {digest} is not an image manifest")
    config_digest = manifests.config_digest(document)
    _, _, config = await client.fetch("GET", f"blobs/{config_digest}")
    if "sha256:" + hashlib.sha256(config).hexdigest() != config_digest:
        raise RegistryError(f"config {config_digest} does not match its digest")
    diff_ids = manifests.diff_ids(manifests.parse_json(config, "image config"))
    manifests.layer_digests(document)  # checks the list's shape
    layers = document["layers"]
    if len(layers) != len(diff_ids):
        raise manifests.ManifestError(f"manifest has {len(layers)} layers, its config "
                                      f"{len(diff_ids)} diff_ids")
    work = await asyncio.to_thread(store.temp_dir)
    try:
        limit = asyncio.Semaphore(PARALLEL_DOWNLOADS)

        async def fetch_layer(descriptor: dict[str, object], diff_id: str) -> _DownloadedLayer:
            if store.has_layer(diff_id):
                return _DownloadedLayer(diff_id, None)
            digest = str(descriptor["digest"])
            path = work / digest.replace(":", "-")
            async with limit:
                with open(path, "wb") as out:
                    size = descriptor.get("size")
                    await client.download(digest, size if isinstance(size, int) else 0, out)
            return _DownloadedLayer(diff_id, path)

        sources = await asyncio.gather(*(fetch_layer(d, i) for d, i in zip(layers, diff_ids)))
        references = [ref.with_digest(top)]
        if not ref.digest:
            references.insert(0, ref)
        return await asyncio.to_thread(store.add, NewImage(
            config=config, layers=sources, references=references, blobs=blobs))
    finally:
        await asyncio.to_thread(_remove_tree, work)


async def _manifest(client: RepositoryClient, tag_or_digest: str) -> tuple[str, bytes, str]:
    """(digest, body, media type served) of a manifest, its digest checked."""
    _, headers, body = await client.fetch(
        "GET", f"manifests/{tag_or_digest}", headers={"Accept": ", ".join(manifests.ACCEPTED)})
    if len(body) > MAX_MANIFEST_BYTES:
        raise RegistryError(f"manifest {tag_or_digest} is {len(body)} bytes, more than "
                            f"the {MAX_MANIFEST_BYTES} a manifest may have")
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    announced = tag_or_digest if reference.is_digest(tag_or_digest) else headers.get(
        "Docker-Content-Digest", digest)
    if announced != digest:
        raise RegistryError(f"manifest {tag_or_digest}: content has digest {digest}, not "
                            f"{announced}")
    return digest, body, headers.get("Content-Type", "")


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
