"""hostPath types as upstream checks them."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from kubelite.kubelet.volumes.hostpath import check_host_path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    sock.close()
    return tmp_path


@pytest.mark.parametrize("name,kind,error", [
    ("dir", "", None), ("nowhere", "", None),
    ("dir", "Directory", None), ("file", "Directory", "is not a directory"),
    ("nowhere", "Directory", "is not a directory"),
    ("file", "File", None), ("dir", "File", "is not a file"),
    ("sock", "Socket", None), ("file", "Socket", "is not a socket file"),
    ("file", "CharDevice", "is not a character device"),
    ("file", "BlockDevice", "is not a block device"),
    ("file", "DirectoryOrCreate", "is not a directory"),
    ("dir", "FileOrCreate", "is not a file"),
], ids=lambda v: str(v))
def test_types_are_checked(tree: Path, name: str, kind: str, error: str | None) -> None:
    path = str(tree / name)
    if error is None:
        check_host_path(path, kind)
    else:
        with pytest.raises(ValueError) as caught:
            check_host_path(path, kind)
        assert str(caught.value) == f"hostPath type check failed: {path} {error}"


def test_char_device_passes() -> None:
    check_host_path("/dev/null", "CharDevice")


def test_or_create_makes_what_is_missing(tmp_path: Path) -> None:
    check_host_path(str(tmp_path / "a/b"), "DirectoryOrCreate")
    assert stat.S_IMODE(os.stat(tmp_path / "a/b").st_mode) & 0o755 == 0o755
    check_host_path(str(tmp_path / "f"), "FileOrCreate")
    assert (tmp_path / "f").is_file() and (tmp_path / "f").stat().st_size == 0
    with pytest.raises(ValueError, match="No such file or directory"):
        check_host_path(str(tmp_path / "missing/f"), "FileOrCreate")
