from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
import zstandard

from kubelite.kubelet.images.unpack import OPAQUE_XATTR, LayerError, unpack

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="whiteouts as overlayfs reads them "
                                "need root (mknod, trusted.* xattrs)")


def layer_tar(*entries: tuple[str, str, bytes | str]) -> bytes:
    """A tar of (kind, name, data-or-link) entries: kind is file, dir, sym or link."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, str(data)
                tar.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, str(data)
                tar.addfile(info)
            else:
                assert isinstance(data, bytes)
                info.size, info.mode = len(data), 0o4755 if name.endswith("su") else 0o644
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


SAMPLE = layer_tar(("dir", "etc", ""), ("file", "etc/hostname", b"node\n"),
                   ("file", "bin/su", b"#!su"), ("sym", "bin/sh", "/bin/busybox"),
                   ("link", "bin/su2", "bin/su"))


@pytest.mark.parametrize("compress", [
    lambda b: b, gzip.compress, lambda b: zstandard.ZstdCompressor().compress(b),
], ids=["plain", "gzip", "zstd"])
def test_unpack_returns_the_diff_id_of_any_compression(tmp_path: Path, compress) -> None:
    digest = unpack(io.BytesIO(compress(SAMPLE)), tmp_path / "layer")
    assert digest == "sha256:" + hashlib.sha256(SAMPLE).hexdigest()
    root = tmp_path / "layer"
    assert (root / "etc/hostname").read_bytes() == b"node\n"
    assert os.readlink(root / "bin/sh") == "/bin/busybox"  # kept for inside the container
    assert os.stat(root / "bin/su2").st_ino == os.stat(root / "bin/su").st_ino
    assert stat.S_IMODE(os.stat(root / "bin/su").st_mode) == 0o4755  # set-user-id kept
    assert os.stat(root / "etc/hostname").st_mtime == 1_700_000_000


@needs_root
def test_whiteouts_become_what_overlayfs_reads(tmp_path: Path) -> None:
    tar = layer_tar(("dir", "etc", ""), ("file", "etc/.wh.motd", b""),
                    ("dir", "var/cache", ""), ("file", "var/cache/.wh..wh..opq", b""),
                    ("file", "var/cache/new", b"x"))
    unpack(io.BytesIO(tar), tmp_path / "layer")
    motd = os.lstat(tmp_path / "layer/etc/motd")
    assert stat.S_ISCHR(motd.st_mode) and motd.st_rdev == os.makedev(0, 0)
    assert not (tmp_path / "layer/etc/.wh.motd").exists()
    assert os.getxattr(tmp_path / "layer/var/cache", OPAQUE_XATTR) == b"y"
    assert sorted(os.listdir(tmp_path / "layer/var/cache")) == ["new"]


@pytest.mark.parametrize("entries", [
    (("file", "../escape", b"x"),),
    (("sym", "evil", "/tmp"), ("file", "evil/escape", b"x")),
    (("sym", "evil", "../.."), ("file", "evil/escape", b"x")),
    (("link", "hard", "../outside"),),
], ids=["dotdot", "through-absolute-symlink", "through-relative-symlink", "hardlink-out"])
def test_layer_entries_never_escape_the_directory(tmp_path: Path, entries) -> None:
    with pytest.raises(LayerError):
        unpack(io.BytesIO(layer_tar(*entries)), tmp_path / "a" / "layer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    assert not Path("/tmp/escape").exists()


def test_hard_link_to_a_symlink_links_the_symlink_not_its_target(tmp_path: Path) -> None:
    outside = tmp_path / "host-secret"
    outside.write_text("secret")
    unpack(io.BytesIO(layer_tar(("sym", "a", str(outside)), ("link", "b", "a"))),
           tmp_path / "layer")
    b = tmp_path / "layer" / "b"
    assert b.is_symlink() and os.lstat(b).st_ino != os.stat(outside).st_ino
    assert os.stat(outside).st_nlink == 1


def test_a_directory_replaced_by_a_symlink_keeps_its_attributes_off_the_target(
        tmp_path: Path) -> None:
    victim = tmp_path / "host-dir"
    victim.mkdir(mode=0o700)
    unpack(io.BytesIO(layer_tar(("dir", "d", ""), ("sym", "d", str(victim)))),
           tmp_path / "layer")
    assert (tmp_path / "layer/d").is_symlink()
    assert stat.S_IMODE(os.stat(victim).st_mode) == 0o700


def test_garbage_is_a_layer_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="not a valid tar"):
        unpack(io.BytesIO(gzip.compress(b"not a tar" * 100)), tmp_path / "layer")


def _overlay_supported() -> bool:
    try:
        with open("/proc/filesystems") as filesystems:
            return os.geteuid() == 0 and "overlay" in filesystems.read()
    except OSError:
        return False


@pytest.mark.skipif(not _overlay_supported(), reason="needs root and overlayfs")
def test_overlayfs_reads_the_unpacked_whiteouts(tmp_path: Path) -> None:
    lower = layer_tar(("file", "etc/motd", b"hello"), ("file", "etc/keep", b"k"),
                      ("file", "cache/old", b"o"))
    upper = layer_tar(("file", "etc/.wh.motd", b""), ("dir", "cache", ""),
                      ("file", "cache/.wh..wh..opq", b""), ("file", "cache/new", b"n"))
    unpack(io.BytesIO(lower), tmp_path / "l0")
    unpack(io.BytesIO(upper), tmp_path / "l1")
    merged = tmp_path / "merged"
    merged.mkdir()
    options = f"lowerdir={tmp_path / 'l1'}:{tmp_path / 'l0'}"  # highest first
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)],
                   check=True, capture_output=True)
    try:
        assert sorted(os.listdir(merged / "etc")) == ["keep"]
        assert sorted(os.listdir(merged / "cache")) == ["new"]
    finally:
        subprocess.run(["umount", str(merged)], check=True)
