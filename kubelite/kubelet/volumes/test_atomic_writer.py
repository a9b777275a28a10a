"""The atomic writer as upstream's: the ..data swap, stale names removed, nothing
rewritten for an equal payload, and upstream's path validation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kubelite.kubelet.volumes.atomic_writer import (
    DATA_DIR,
    FileProjection,
    validate_path,
    write_atomically,
)


def files(directory: Path) -> dict[str, str]:
    """The user-visible tree: every regular file reached through the links."""
    out = {}
    for root, dirs, names in os.walk(directory, followlinks=True):
        rel_root = os.path.relpath(root, directory)
        if rel_root.startswith(".."):
            continue
        dirs[:] = [d for d in dirs if not d.startswith("..")]
        for name in names:
            if not name.startswith(".."):
                out[os.path.normpath(os.path.join(rel_root, name))] = \
                    Path(root, name).read_text()
    return out


def test_payload_swaps_in_whole(tmp_path: Path) -> None:
    assert write_atomically(tmp_path, {"a": FileProjection(b"1", 0o644),
                                       "dir/b": FileProjection(b"2", 0o600)})
    first = os.readlink(tmp_path / DATA_DIR)
    assert first.startswith("..") and (tmp_path / first).is_dir()
    assert files(tmp_path) == {"a": "1", "dir/b": "2"}
    assert os.readlink(tmp_path / "dir") == "..data/dir"
    assert stat.S_IMODE(os.stat(tmp_path / "dir/b").st_mode) == 0o600

    assert write_atomically(tmp_path, {"a": FileProjection(b"one", 0o644)})
    second = os.readlink(tmp_path / DATA_DIR)
    assert second != first and not (tmp_path / first).exists()
    assert files(tmp_path) == {"a": "one"}
    assert not os.path.lexists(tmp_path / "dir")


def test_equal_payload_writes_nothing(tmp_path: Path) -> None:
    payload = {"a": FileProjection(b"1", 0o644)}
    assert write_atomically(tmp_path, payload)
    target = os.readlink(tmp_path / DATA_DIR)
    assert not write_atomically(tmp_path, payload)
    assert os.readlink(tmp_path / DATA_DIR) == target
    assert write_atomically(tmp_path, {"a": FileProjection(b"1", 0o600)})  # a mode change counts


def test_empty_payload_makes_an_empty_volume(tmp_path: Path) -> None:
    assert write_atomically(tmp_path, {})
    assert files(tmp_path) == {} and (tmp_path / DATA_DIR).is_dir()


@pytest.mark.parametrize("path,message", [
    ("", "invalid path: must not be empty"),
    ("/etc/passwd", "invalid path: must be relative path: /etc/passwd"),
    ("a/../../b", "invalid path: must not contain '..': a/../../b"),
    ("..data", "invalid path: must not start with '..': ..data"),
    ("x" * 256, "invalid path: filenames must be less than or equal to 255 characters"),
], ids=["empty", "absolute", "backstep", "dotdot-prefix", "long-name"])
def test_bad_paths_are_refused(path: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_path(path)
    assert str(caught.value) == message


@pytest.mark.parametrize("path", ["a", "a/b/c", ".hidden", "a..b"], ids=str)
def test_good_paths_pass(path: str) -> None:
    validate_path(path)
