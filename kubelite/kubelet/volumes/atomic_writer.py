"""Writing a volume's files all at once, as upstream's AtomicWriter
(pkg/volume/util/atomic_writer.go).

A configMap, secret, downwardAPI or projected volume is a directory whose files a
container reads while the kubelet rewrites them. A reader must never see half of an
update, so the files live in a timestamped directory and one symlink points at it:

    <volume>/..2026_12_08_00_15_02.1234567890/   the payload, written in full first
    <volume>/..data -> ..2026_12_08_00_15_02.1234567890
    <volume>/key    -> ..data/key                  one link per top-level name

An update writes a new timestamped directory, makes `..data_tmp` point at it and
renames that over `..data` (rename(2) is atomic), then fixes the top-level links and
removes the old directory. A payload equal to what is on disk writes nothing.
Paths are validated as upstream's validatePath: relative, no `..` element, not
starting with `..`.
"""

from __future__ import annotations

import datetime
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = "..data"
DATA_TMP = "..data_tmp"
MAX_PATH = 4096
MAX_FILENAME = 255


@dataclass(frozen=True)
class FileProjection:
    data: bytes
    mode: int  # the file's permission bits (0o644 for upstream's default 420)
    uid: int | None = None  # owner, when the volume says whose it is (fsUser)
    gid: int | None = None  # group (fsGroup)


def validate_path(target: str) -> None:
    """ValueError unless `target` is a path the payload may hold, as upstream."""
    if not target:
        raise ValueError("invalid path: must not be empty")
    if len(target) > MAX_PATH:
        raise ValueError(f"invalid path: must be less than or equal to {MAX_PATH} characters")
    if os.path.isabs(target):
        raise ValueError(f"invalid path: must be relative path: {target}")
    parts = target.split("/")
    for part in parts:
        if len(part) > MAX_FILENAME:
            raise ValueError(
                f"invalid path: filenames must be less than or equal to {MAX_FILENAME} characters")
        if part == "..":
            raise ValueError(f"invalid path: must not contain '..': {target}")
    if target.startswith(".."):
        raise ValueError(f"invalid path: must not start with '..': {target}")


def _clean(target: str) -> str:
    return os.path.normpath(target)


def _current(directory: Path) -> Path | None:
    try:
        return directory / os.readlink(directory / DATA_DIR)
    except OSError:
        return None


def _same_payload(ts_dir: Path, payload: Mapping[str, FileProjection]) -> bool:
    """Whether the timestamped dir already holds exactly `payload` (contents and modes)."""
    found: set[str] = set()
    for root, _dirs, files in os.walk(ts_dir):
        for name in files:
            found.add(os.path.relpath(os.path.join(root, name), ts_dir))
    if found != set(payload):
        return False
    for name, projection in payload.items():
        path = ts_dir / name
        st = path.lstat()
        if st.st_mode & 0o7777 != projection.mode:
            return False
        if path.read_bytes() != projection.data:
            return False
    return True


def _timestamped_dir(directory: Path) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("..%Y_%m_%d_%H_%M_%S.")
    while True:
        candidate = directory / (stamp + str(secrets.randbelow(10**10)))
        try:
            candidate.mkdir(mode=0o755)
        except FileExistsError:
            continue
        os.chmod(candidate, 0o755)  # mkdir's mode passes through the umask
        return candidate


def _write_payload(ts_dir: Path, payload: Mapping[str, FileProjection]) -> None:
    for name, projection in payload.items():
        path = ts_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(projection.data)
        os.chmod(path, projection.mode)
        if projection.uid is not None or projection.gid is not None:
            os.chown(path, -1 if projection.uid is None else projection.uid,
                     -1 if projection.gid is None else projection.gid)


def write_atomically(directory: Path, payload: Mapping[str, FileProjection]) -> bool:
    """Make `directory` hold exactly `payload` (relative path -> file), swapping all of
    it in at once. Returns whether anything changed. ValueError for a bad path."""
    cleaned: dict[str, FileProjection] = {}
    for target, projection in payload.items():
        validate_path(target)
        cleaned[_clean(target)] = projection
    directory.mkdir(parents=True, exist_ok=True)
    old_dir = _current(directory)
    if old_dir is not None and old_dir.is_dir() and _same_payload(old_dir, cleaned):
        return False
    new_dir = _timestamped_dir(directory)
    try:
        _write_payload(new_dir, cleaned)
        tmp_link = directory / DATA_TMP
        if tmp_link.is_symlink() or tmp_link.exists():
            tmp_link.unlink()
        os.symlink(new_dir.name, tmp_link)
        os.rename(tmp_link, directory / DATA_DIR)
    except BaseException:
        shutil.rmtree(new_dir, ignore_errors=True)
        raise
    top_level = {name.split("/", 1)[0] for name in cleaned}
    for name in top_level:
        link = directory / name
        if not link.is_symlink():
            if link.exists():  # a stray file in the way of the projection: ours to replace
                shutil.rmtree(link) if link.is_dir() else link.unlink()
            os.symlink(os.path.join(DATA_DIR, name), link)
    if old_dir is not None:
        _remove_stale_links(directory, old_dir, top_level)
        if old_dir != new_dir and old_dir.name.startswith(".."):
            shutil.rmtree(old_dir, ignore_errors=True)
    return True


def _remove_stale_links(directory: Path, old_dir: Path, keep: set[str]) -> None:
    try:
        previous = {entry.name for entry in os.scandir(old_dir)}
    except OSError:
        return
    for name in previous - keep:
        link = directory / name
        if link.is_symlink():
            link.unlink()
