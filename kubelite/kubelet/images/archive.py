"""Importing images from files: an OCI image layout (a directory or a tar of one) or
a docker-archive (what `docker save` writes), for nodes that cannot reach a registry.

- OCI layout (image-layout.md): index.json lists manifests, or indexes (a platform
  is picked as for a pull); an entry's name is its `io.containerd.image.name`
  annotation, else its `org.opencontainers.image.ref.name` if that parses as a
  reference (as containerd's importer does); an entry without a name is imported by
  id only. The image is also known by name@<digest of the entry>.
- docker-archive: manifest.json lists each image's config file, layer files and
  RepoTags. Docker 25 and later write both formats in one tar; manifest.json is
  read then, as its RepoTags are full names where the OCI annotation may hold only
  a tag.

Manifests, indexes and configs are checked against their digests; layers against
their config's diff_ids as they are unpacked (store.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kubelite.kubelet.images import manifests, reference
from kubelite.kubelet.images.store import ImageStore, NewImage

CONTAINERD_NAME = "io.containerd.image.name"
OCI_REF_NAME = "org.opencontainers.image.ref.name"


class ArchiveError(ValueError):
    """A file that is not an image archive kubelite can read, or a broken one."""


@dataclass(frozen=True)
class Imported:
    id: str
    references: tuple[str, ...]


def import_archive(store: ImageStore, path: Path,
                   platform: manifests.Platform | None = None) -> list[Imported]:
    """Adds every image in the archive at `path` to `store` (blocking)."""
    wanted = platform or manifests.host_platform()
    with _open_bundle(path) as bundle:
        try:
            if bundle.has("manifest.json"):
                images = _docker_archive(bundle)
            elif bundle.has("index.json"):
                images = _oci_layout(bundle, wanted)
            else:
                raise ArchiveError(f"{path}: neither an OCI image layout (index.json) nor a "
                                   "docker-archive (manifest.json)")
            imported = []
            for image in images:
                image_id = store.add(image)
                imported.append(Imported(image_id, tuple(str(r) for r in image.references)))
        except manifests.ManifestError as err:
            raise ArchiveError(f"{path}: {err}") from err
    return imported


class _Bundle:
    """The files of an archive: a directory's, or a tar's members (by name)."""

    def __init__(self, root: Path | None, tar: tarfile.TarFile | None) -> None:
        self._root, self._tar = root, tar
        self._members = ({_clean(m.name): m for m in tar.getmembers() if m.isfile()}
                         if tar is not None else {})

    def has(self, name: str) -> bool:
        if self._root is not None:
            return self._path(name).is_file()
        return _clean(name) in self._members

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if self._root is not None:
            with open(self._path(name), "rb") as stream:
                yield stream
            return
        assert self._tar is not None  # one of the two is always set
        member = self._members.get(_clean(name))
        contents = self._tar.extractfile(member) if member is not None else None
        if contents is None:
            raise ArchiveError(f"the archive has no file {name!r}")
        yield contents

    def read(self, name: str) -> bytes:
        try:
            with self.open(name) as stream:
                return stream.read()
        except FileNotFoundError as err:
            raise ArchiveError(f"the archive has no file {name!r}") from err

    def _path(self, name: str) -> Path:
        assert self._root is not None
        path = (self._root / _clean(name)).resolve()
        if not path.is_relative_to(self._root.resolve()):
            raise ArchiveError(f"archive file name {name!r} leaves the archive")
        return path


@contextlib.contextmanager
def _open_bundle(path: Path) -> Iterator[_Bundle]:
    if path.is_dir():
        yield _Bundle(path, None)
        return
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as err:
        raise ArchiveError(f"{path}: not a tar archive or directory: {err}") from err
    with tar:
        yield _Bundle(None, tar)


@dataclass(frozen=True)
class _BundleLayer:
    bundle: _Bundle
    name: str
    diff_id: str

    def open(self) -> contextlib.AbstractContextManager[IO[bytes]]:
        return self.bundle.open(self.name)


def _docker_archive(bundle: _Bundle) -> list[NewImage]:
    entries = _json(bundle.read("manifest.json"), "manifest.json")
    if not isinstance(entries, list):
        raise ArchiveError("manifest.json is not a list of images")
    images = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise ArchiveError("manifest.json entry without a Config")
        try:
            refs = [reference.parse(tag) for tag in entry.get("RepoTags") or []]
        except reference.InvalidReference as err:
            raise ArchiveError(f"manifest.json: RepoTags: {err}") from err
        config_bytes = bundle.read(entry["Config"])
        diff_ids = manifests.diff_ids(manifests.parse_json(config_bytes, "image config"))
        layer_files = entry.get("Layers") or []
        if len(layer_files) != len(diff_ids):
            raise ArchiveError(f"{entry['Config']}: {len(layer_files)} layer files for "
                               f"{len(diff_ids)} diff_ids")
        images.append(NewImage(
            config=config_bytes,
            layers=[_BundleLayer(bundle, f, d) for f, d in zip(layer_files, diff_ids)],
            references=refs))
    return images


def _oci_layout(bundle: _Bundle, wanted: manifests.Platform) -> list[NewImage]:
    index = manifests.parse_json(bundle.read("index.json"), "index.json")
    images = []
    for descriptor in index.get("manifests") or []:
        if not isinstance(descriptor, dict):
            raise ArchiveError("index.json entry is not an object")
        top = str(descriptor.get("digest", ""))
        blobs = {top: _blob(bundle, top)}
        document = manifests.parse_json(blobs[top], f"manifest {top}")
        digest = top
        if manifests.media_type(document, descriptor.get("mediaType", "")) in \
                manifests.INDEX_TYPES:
            digest = str(manifests.pick_platform(document, wanted)["digest"])
            blobs[digest] = _blob(bundle, digest)
            document = manifests.parse_json(blobs[digest], f"manifest {digest}")
        config_bytes = _blob(bundle, manifests.config_digest(document))
        diff_ids = manifests.diff_ids(manifests.parse_json(config_bytes, "image config"))
        layer_digests = manifests.layer_digests(document)
        if len(layer_digests) != len(diff_ids):
            raise ArchiveError(f"manifest {digest}: {len(layer_digests)} layers for "
                               f"{len(diff_ids)} diff_ids")
        annotations = descriptor.get("annotations") or {}
        name = _reference(annotations.get(CONTAINERD_NAME, "")) or _reference(
            annotations.get(OCI_REF_NAME, ""))
        refs = [name, name.with_digest(top)] if name is not None else []
        images.append(NewImage(
            config=config_bytes,
            layers=[_BundleLayer(bundle, _blob_name(d), i)
                    for d, i in zip(layer_digests, diff_ids)],
            references=refs, blobs=blobs))
    return images


def _blob_name(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or len(hexdigest) != 64:
        raise ArchiveError(f"unsupported digest {digest!r}")
    return f"blobs/{algorithm}/{hexdigest}"


def _blob(bundle: _Bundle, digest: str) -> bytes:
    data = bundle.read(_blob_name(digest))
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise ArchiveError(f"blob {digest} does not match its digest")
    return data


def _reference(text: str) -> reference.Reference | None:
    if not text:
        return None
    try:
        return reference.parse(text)
    except reference.InvalidReference:
        return None


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as err:
        raise ArchiveError(f"{what} is not JSON: {err}") from err


def _clean(name: str) -> str:
    return name.removeprefix("./").lstrip("/")
