"""hostPath volumes: a path on the node, checked against its declared type as
upstream's hostPath plugin (pkg/volume/hostpath/host_path.go, checkType).

`""` (the default) checks nothing; DirectoryOrCreate makes a missing directory (0755,
parents too) and FileOrCreate a missing empty file (0644, its parent must exist);
the others only check. Failures are ValueError with upstream's message.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable


def _is(kind: Callable[[int], bool], path: str) -> bool:
    try:
        return kind(os.stat(path).st_mode)
    except OSError:
        return False


_CHECKS: dict[str, tuple[Callable[[int], bool], str]] = {
    "Directory": (stat.S_ISDIR, "is not a directory"),
    "File": (stat.S_ISREG, "is not a file"),
    "Socket": (stat.S_ISSOCK, "is not a socket file"),
    "CharDevice": (stat.S_ISCHR, "is not a character device"),
    "BlockDevice": (stat.S_ISBLK, "is not a block device"),
}


def check_host_path(path: str, kind: str) -> None:
    """Make or check `path` for hostPath type `kind`; ValueError when it does not fit."""
    if kind in ("", None):
        return
    if kind == "DirectoryOrCreate":
        if not os.path.exists(path):
            try:
                os.makedirs(path, mode=0o755)
            except OSError as e:
                raise ValueError(f"hostPath type check failed: {path}: {e.strerror}") from e
            return
        kind = "Directory"
    elif kind == "FileOrCreate":
        if not os.path.exists(path):
            try:
                os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o644))
            except OSError as e:
                raise ValueError(f"hostPath type check failed: {path}: {e.strerror}") from e
            return
        kind = "File"
    check = _CHECKS.get(kind)
    if check is None:
        raise ValueError(f"hostPath type check failed: {path}: unknown type {kind}")
    is_kind, message = check
    if not _is(is_kind, path):
        raise ValueError(f"hostPath type check failed: {path} {message}")
