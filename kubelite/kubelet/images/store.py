"""The node's images on disk: content-addressed, shared by processes, unpacked once.

    <data-dir>/agent/images/
      blobs/sha256/<hex>        image configs, manifests and indexes, named by digest
      layers/sha256/<hex>/      each layer unpacked once, named by its diff_id: an
                                overlayfs lowerdir (whiteouts as overlayfs reads them)
      index.json                references -> image ids, and per image its layers,
                                manifests and whether it is pinned; per layer its size
      index.lock                held (flock) by whoever changes the store
      tmp/                      where everything is written before it is renamed in

An image's id is the digest of its config ("sha256:..."), as in containerd and the
CRI; a reference (`docker.io/library/busybox:latest`, `...@sha256:<manifest digest>`)
names one image, an image may have many. Compressed layer blobs are not kept: a
layer lives only unpacked, the form a container uses.

Several processes share a store (`kubelite image import` beside a running
`kubelite server`), so every change is a write to tmp/ and a rename: a reader
sees a layer whole or not at all, and index.json old or new, never half written.
Readers take no lock and read index.json again when its inode or mtime changed
(one stat per call). Writers take index.lock around read-modify-write of the
index. Layers are unpacked before that lock is taken (so imports run side by side);
a removal that raced away a layer an import is about to use is seen under the lock
and the layer unpacked again from the same source.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ContextManager, Protocol

from kubelite.kubelet import cri
from kubelite.kubelet.images import manifests, reference
from kubelite.kubelet.images.unpack import LayerError, unpack

log = logging.getLogger(__name__)

_STALE_TMP_SECONDS = 86400.0  # a crashed writer's leftovers in tmp/ (a day: pulls take less)


class LayerSource(Protocol):
    """One layer to add: its diff_id and a way to read its (compressed or plain) tar.
    `open` yields a seekable binary stream and may be called more than once."""

    @property
    def diff_id(self) -> str: ...

    def open(self) -> ContextManager[IO[bytes]]: ...


@dataclass(frozen=True)
class NewImage:
    """An image to add: its config, its layers in order, the references to point at
    it, and the manifest or index blobs (by digest) its repo digests name."""

    config: bytes
    layers: Sequence[LayerSource]
    references: Sequence[reference.Reference] = ()
    blobs: Mapping[str, bytes] = field(default_factory=dict)
    pinned: bool = False


@dataclass(frozen=True)
class StoredImage:
    id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    layers: tuple[str, ...]  # diff_ids, lowest first
    size: int  # bytes of its unpacked layers on disk
    pinned: bool


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root.absolute()  # layer paths go into mount options, far from our cwd
        self._cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    # ------------------------------------------------------------------ reading

    def resolve(self, image: str) -> str:
        """The id of the image `image` names: an id (sha256:<hex> or <hex>), a
        reference in any form docker accepts, or a unique prefix of an id."""
        index = self._index()
        found = _find(index, image)
        if found is None:
            raise cri.NotFound(f"image {image!r} not found")
        return found

    def get(self, image: str) -> StoredImage | None:
        index = self._index()
        image_id = _find(index, image)
        return None if image_id is None else _stored(index, image_id)

    def images(self) -> list[StoredImage]:
        index = self._index()
        return [_stored(index, image_id) for image_id in sorted(index["images"])]

    def layers(self, image: str) -> list[Path]:
        """The image's unpacked layer directories, lowest first (overlayfs lists
        lowerdirs highest first: reverse these)."""
        index = self._index()  # one snapshot: a removal may replace the file meanwhile
        image_id = _find(index, image)
        if image_id is None:
            raise cri.NotFound(f"image {image!r} not found")
        return [self._layer_dir(d) for d in index["images"][image_id]["layers"]]

    def image_config(self, image: str) -> dict[str, Any]:
        """The whole OCI image config (architecture, os, config, rootfs, history)."""
        image_id = self.resolve(image)
        try:
            data = self._blob(image_id).read_bytes()
        except FileNotFoundError:
            raise cri.NotFound(f"image {image!r} not found") from None  # removed meanwhile
        return manifests.parse_json(data, "image config")

    def config(self, image: str) -> dict[str, Any]:
        """The image config's `config` object (Entrypoint, Cmd, Env, WorkingDir, User,
        StopSignal, ExposedPorts), {} if it has none."""
        config = self.image_config(image).get("config")
        return config if isinstance(config, dict) else {}

    def has_layer(self, diff_id: str) -> bool:
        return self._layer_dir(diff_id).is_dir()

    def usage(self) -> tuple[int, int]:
        """(bytes, inodes) the unpacked layers take."""
        layers = self._index()["layers"]
        return (sum(m["size"] for m in layers.values()),
                sum(m["inodes"] for m in layers.values()))

    # ------------------------------------------------------------------ writing

    def add(self, new: NewImage) -> str:
        """Adds an image (its layers first, then the index) and returns its id.
        References already pointing at another image move to this one."""
        config = manifests.parse_json(new.config, "image config")
        diff_ids = manifests.diff_ids(config)
        if len(diff_ids) != len(new.layers):
            raise manifests.ManifestError(
                f"image config lists {len(diff_ids)} layers, the image has {len(new.layers)}")
        for diff_id, source in zip(diff_ids, new.layers):
            if diff_id != source.diff_id:
                raise manifests.ManifestError(f"layer {source.diff_id} is not the config's "
                                              f"{diff_id}")
            self._ensure_layer(source)
        image_id = "sha256:" + _sha256(new.config)
        with self._locked() as index:
            for source in new.layers:
                self._ensure_layer(source)  # again: a removal may have taken it meanwhile
                if source.diff_id not in index["layers"]:
                    index["layers"][source.diff_id] = _measure(self._layer_dir(source.diff_id))
            blobs = {image_id: new.config, **new.blobs}
            for digest, data in blobs.items():
                self._write_blob(digest, data)
            record = index["images"].setdefault(image_id, {
                "layers": diff_ids, "blobs": [], "created": time.time_ns(), "pinned": False})
            record["blobs"] = sorted(set(record["blobs"]) | set(new.blobs))
            record["pinned"] = record["pinned"] or new.pinned
            for ref in new.references:
                index["references"][str(ref)] = image_id
        return image_id

    def remove(self, image: str) -> bool:
        """Removes the image `image` names with every reference to it, and the layers
        and blobs no other image uses (as CRI RemoveImage). False if unknown."""
        if _find(self._index(), image) is None:
            return False
        with self._locked() as index:
            image_id = _find(index, image)
            if image_id is None:
                return False
            record = index["images"].pop(image_id)
            index["references"] = {r: i for r, i in index["references"].items()
                                   if i != image_id}
            kept_layers = {d for r in index["images"].values() for d in r["layers"]}
            kept_blobs = {b for r in index["images"].values() for b in r["blobs"]}
            kept_blobs |= set(index["images"])
            for diff_id in set(record["layers"]) - kept_layers:
                index["layers"].pop(diff_id, None)
                self._discard(self._layer_dir(diff_id))
            for digest in {image_id, *record["blobs"]} - kept_blobs:
                self._blob(digest).unlink(missing_ok=True)
        return True

    def temp_dir(self) -> Path:
        """A fresh directory under tmp/ (same filesystem: renames are atomic)."""
        path = self.root / "tmp" / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    # ------------------------------------------------------------------ internals

    def _index(self) -> dict[str, Any]:
        path = self.root / "index.json"
        try:
            st = path.stat()
        except FileNotFoundError:
            return _empty_index()
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, json.loads(path.read_bytes()))
        return self._cache[1]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The index, read under index.lock and written back (atomically) on exit."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "index.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            path = self.root / "index.json"
            index = json.loads(path.read_bytes()) if path.exists() else _empty_index()
            yield index
            self._write_atomically(path, json.dumps(index, indent=1, sort_keys=True).encode())
            self._sweep_tmp()

    def _ensure_layer(self, source: LayerSource) -> None:
        target = self._layer_dir(source.diff_id)
        if target.is_dir():
            return
        work = self.temp_dir()
        try:
            with source.open() as stream:
                digest = unpack(stream, work / "layer")
            if digest != source.diff_id:
                raise LayerError(f"layer content is {digest}, not its diff_id {source.diff_id}")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(work / "layer", target)
            except OSError:
                if not target.is_dir():
                    raise  # not a concurrent unpack of the same layer winning
        finally:
            self._discard(work)

    def _layer_dir(self, diff_id: str) -> Path:
        return self.root / "layers" / _digest_path(diff_id)

    def _blob(self, digest: str) -> Path:
        return self.root / "blobs" / _digest_path(digest)

    def _write_blob(self, digest: str, data: bytes) -> None:
        path = self._blob(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write_atomically(path, data)

    def _write_atomically(self, path: Path, data: bytes) -> None:
        tmp = self.root / "tmp" / f"{uuid.uuid4().hex}.{path.name}"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)

    def _discard(self, path: Path) -> None:
        """Removes a tree: first renamed into tmp/, so it vanishes at once."""
        if not path.exists() and not path.is_symlink():
            return
        doomed = self.root / "tmp" / f"{uuid.uuid4().hex}.doomed"
        doomed.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, doomed)
        _rmtree(doomed)

    def _sweep_tmp(self) -> None:
        cutoff = time.time() - _STALE_TMP_SECONDS
        for entry in (self.root / "tmp").iterdir():
            with contextlib.suppress(OSError):
                if entry.lstat().st_mtime >= cutoff:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    _rmtree(entry)
                else:
                    entry.unlink()


def _empty_index() -> dict[str, Any]:
    return {"references": {}, "images": {}, "layers": {}}


def _find(index: dict[str, Any], image: str) -> str | None:
    images = index["images"]
    if image in images:
        return image
    if len(image) == 64 and f"sha256:{image}" in images:
        return f"sha256:{image}"
    try:
        ref = reference.parse(image)
    except reference.InvalidReference:
        ref = None
    if ref is not None:
        key = str(ref.with_digest(ref.digest)) if ref.digest else str(ref)
        if (found := index["references"].get(key)) is not None:
            return str(found)
    bare = image.removeprefix("sha256:")
    if len(bare) >= 3 and all(c in "0123456789abcdef" for c in bare):
        matches = [i for i in images if i.removeprefix("sha256:").startswith(bare)]
        if len(matches) == 1:
            return str(matches[0])
    return None


def _stored(index: dict[str, Any], image_id: str) -> StoredImage:
    record = index["images"][image_id]
    refs = sorted(r for r, i in index["references"].items() if i == image_id)
    return StoredImage(
        id=image_id, repo_tags=tuple(r for r in refs if "@" not in r),
        repo_digests=tuple(r for r in refs if "@" in r), layers=tuple(record["layers"]),
        size=sum(index["layers"].get(d, {}).get("size", 0) for d in record["layers"]),
        pinned=bool(record["pinned"]))


def _digest_path(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or len(hexdigest) != 64 or not all(
            c in "0123456789abcdef" for c in hexdigest):
        raise manifests.ManifestError(f"unsupported digest {digest!r}")
    return f"{algorithm}/{hexdigest}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _measure(path: Path) -> dict[str, int]:
    """Bytes on disk (hard links once) and inodes of an unpacked layer."""
    seen: set[int] = set()
    size = inodes = 0
    for directory, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            st = os.lstat(os.path.join(directory, name))
            inodes += 1
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                size += st.st_blocks * 512
    return {"size": size, "inodes": inodes}


def _rmtree(path: Path) -> None:
    def make_writable(func: Any, failed: str, _: Any) -> None:
        # a layer's read-only directories (0555) stop an unprivileged removal
        os.chmod(os.path.dirname(failed), 0o700)
        func(failed)

    shutil.rmtree(path, onerror=make_writable)
