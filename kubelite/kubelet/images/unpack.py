"""Unpacking one image layer into a directory that overlayfs can use as a lowerdir.

A layer is a tar stream (plain, gzip or zstd: told apart by their magic bytes, as
containerd does, so a mislabelled media type does no harm). Each layer is unpacked
on its own, never on top of the layers below it, so its deletions are kept the way
overlayfs reads them (the OCI image spec, layer.md, "Whiteouts"):

- `dir/.wh.NAME` (NAME deleted) becomes a character device 0/0 named `dir/NAME`;
- `dir/.wh..wh..opq` (dir's lower contents hidden) becomes the extended attribute
  trusted.overlay.opaque=y on `dir`.

Both need root (mknod, the trusted.* namespace); without it, where overlayfs cannot
be mounted anyway, the whiteout files are kept as they are in the tar, so the
directory is still a faithful OCI layer.

The uncompressed stream is hashed as it is read, and the caller compares the digest
with the image config's diff_id. Entries never escape the directory: `..`
components are refused, and no entry is written through a symbolic link the layer
made (an absolute link such as /bin/sh -> /bin/busybox is kept as it is, for inside
the container). Ownership, modes, times and xattrs (file capabilities) are kept as
root; directory modes and times are set last, once their contents are written.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import tarfile
from pathlib import Path
from typing import IO, Protocol

import zstandard

WHITEOUT_PREFIX = ".wh."
OPAQUE_WHITEOUT = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 20


class LayerError(Exception):
    """A layer that cannot be unpacked: corrupt, or it does not match its digest."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _HashingReader:
    """Reads a stream and hashes what went through."""

    def __init__(self, stream: Readable) -> None:
        self._stream = stream
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.hash.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        # tarfile stops at the end-of-archive blocks; the diff_id covers the padding too
        while self.read(_CHUNK):
            pass


def decompressed(stream: IO[bytes]) -> Readable:
    """The tar stream inside `stream`, which must be seekable (a file)."""
    magic = stream.read(4)
    stream.seek(-len(magic), os.SEEK_CUR)
    if magic.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if magic == _ZSTD_MAGIC:
        return zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
    return stream


def unpack(stream: IO[bytes], target: Path) -> str:
    """Unpacks the layer in `stream` into `target` (which must not exist) and returns
    the digest of its uncompressed tar ("sha256:..."), to compare with the diff_id."""
    target.mkdir(parents=True)
    reader = _HashingReader(decompressed(stream))
    as_root = os.geteuid() == 0
    directories: list[tuple[Path, tarfile.TarInfo]] = []
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                _apply(tar, member, target, as_root, directories)
        reader.drain()
    except (tarfile.TarError, OSError, EOFError, zstandard.ZstdError) as err:
        raise LayerError(f"layer is not a valid tar stream: {err}") from err
    for path, member in reversed(directories):
        if path.is_dir() and not path.is_symlink():  # a later entry may have replaced it
            _set_attributes(path, member, as_root)
    return f"sha256:{reader.hash.hexdigest()}"


def _apply(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path, as_root: bool,
           directories: list[tuple[Path, tarfile.TarInfo]]) -> None:
    parts = [p for p in member.name.split("/") if p not in ("", ".")]
    if not parts:
        return  # "./", the layer's root itself
    if ".." in parts:
        raise LayerError(f"layer entry {member.name!r} leaves the layer")
    parent = _safe_parent(root, parts[:-1])
    name = parts[-1]
    if name == OPAQUE_WHITEOUT and as_root:
        os.setxattr(parent, OPAQUE_XATTR, b"y")
        return
    if name.startswith(WHITEOUT_PREFIX) and name != OPAQUE_WHITEOUT and as_root:
        path = parent / name[len(WHITEOUT_PREFIX):]
        _remove(path)
        os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
        return
    path = parent / name
    if member.isdir():
        if not path.is_dir() or path.is_symlink():
            _remove(path)
            path.mkdir(mode=0o700)
        directories.append((path, member))
        return
    _remove(path)
    if member.isreg():
        source = tar.extractfile(member)
        assert source is not None  # a regular file always has contents
        with open(path, "wb") as out:
            while chunk := source.read(_CHUNK):
                out.write(chunk)
    elif member.issym():
        os.symlink(member.linkname, path)
    elif member.islnk():
        link_parts = [p for p in member.linkname.split("/") if p not in ("", ".")]
        if ".." in link_parts or not link_parts:
            raise LayerError(f"hard link {member.name!r} leaves the layer")
        # never through a symbolic link: `a -> /etc/shadow` then a hard link to `a` must
        # link the symlink itself, not the host's file
        os.link(_safe_parent(root, link_parts[:-1]) / link_parts[-1], path,
                follow_symlinks=False)
        return  # a hard link shares its target's attributes
    elif member.ischr() or member.isblk():
        if not as_root:
            return  # only root makes device nodes
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        os.mknod(path, kind | member.mode, os.makedev(member.devmajor, member.devminor))
    elif member.isfifo():
        os.mkfifo(path)
    else:
        return  # GNU sparse and other extensions images do not use
    _set_attributes(path, member, as_root)


def _safe_parent(root: Path, parts: list[str]) -> Path:
    """root/parts, refusing to go through a symbolic link; missing directories are
    made (a tar need not list a file's parents)."""
    path = root
    for part in parts:
        path = path / part
        if path.is_symlink():
            raise LayerError(f"layer writes through the symbolic link {path.relative_to(root)}")
        if not path.exists():
            path.mkdir(mode=0o755)
    return path


def _remove(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        for child in path.iterdir():
            _remove(child)
        path.rmdir()


def _set_attributes(path: Path, member: tarfile.TarInfo, as_root: bool) -> None:
    if as_root:
        os.lchown(path, member.uid, member.gid)
        for key, value in member.pax_headers.items():
            if key.startswith("SCHILY.xattr."):
                try:
                    os.setxattr(path, key[len("SCHILY.xattr."):], value.encode("utf-8", "surrogateescape"),
                                follow_symlinks=False)
                except OSError:
                    pass  # a filesystem without that namespace; the file is still usable
    if not member.issym():
        # after lchown, which clears set-user-id bits
        os.chmod(path, member.mode)
    os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
