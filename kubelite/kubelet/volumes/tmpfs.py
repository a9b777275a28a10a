"""tmpfs mounts for memory-backed volumes (emptyDir medium Memory), through libc's
mount(2) and umount2(2), and the mounts under a pod's directory from
/proc/self/mountinfo so tearing a pod down unmounts everything it holds.

Mounting needs root (CAP_SYS_ADMIN); without it mount() raises PermissionError and
the volume fails as upstream's would.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

MNT_DETACH = 2
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount_tmpfs(target: Path, size_bytes: int | None) -> None:
    """Mount a tmpfs at `target` (made if missing), of at most `size_bytes`."""
    target.mkdir(parents=True, exist_ok=True)
    options = "mode=0777" + (f",size={size_bytes}" if size_bytes else "")
    _check(_libc.mount(b"tmpfs", os.fsencode(target), b"tmpfs", 0, options.encode()),
           f"mount tmpfs at {target}")


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (\\040)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and len(field[i + 1:i + 4]) == 3 and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_points_under(root: Path) -> list[Path]:
    """Mount points at or below `root`, deepest first (the order to unmount them)."""
    prefix = str(root.resolve() if root.exists() else root)
    found: list[Path] = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if len(fields) < 5:
            continue
        point = _unescape(fields[4])
        if point == prefix or point.startswith(prefix + "/"):
            found.append(Path(point))
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def is_mount_point(path: Path) -> bool:
    return path in mount_points_under(path)


def unmount(target: Path) -> None:
    """Detach the mount at `target` (lazily, so an open file does not block teardown)."""
    _check(_libc.umount2(os.fsencode(target), MNT_DETACH), f"unmount {target}")
