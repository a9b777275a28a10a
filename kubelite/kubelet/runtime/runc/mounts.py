"""The mounts the runtime makes on the node: each container's overlayfs rootfs, the
pod's /dev/shm tmpfs, and the bind mounts that keep a sandbox's namespaces alive.

mount(2) and umount2(2) are called directly (ctypes), not through mount(8): a pod
start makes several of them and a process per call is most of their cost.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Sequence
from pathlib import Path

MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MNT_DETACH = 0x2

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    if (
        _libc.mount(
            source.encode(), target.encode(), fstype.encode(), ctypes.c_ulong(flags), data.encode()
        )
        != 0
    ):
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype} on {target}: {os.strerror(err)}")


def mount_overlay(lower: Sequence[Path], upper: Path, work: Path, target: Path) -> None:
    """An overlayfs of the image layers (lowest first, as the image lists them) with a
    writable upper dir. overlayfs wants its lowerdir highest first."""
    lowerdir = ":".join(str(layer) for layer in reversed(lower))
    _mount("overlay", str(target), "overlay", 0, f"lowerdir={lowerdir},upperdir={upper},workdir={work}")


def mount_tmpfs(target: Path, *, size: int, mode: int = 0o1777) -> None:
    _mount("shm", str(target), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"mode={mode:o},size={size}")


def unmount(target: Path) -> None:
    """Unmounts (lazily, so a process still inside cannot keep it busy); a path that is
    not mounted, or is gone, is no error."""
    if _libc.umount2(str(target).encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):
            raise OSError(err, f"umount {target}: {os.strerror(err)}")


def mounted_under(prefix: Path) -> list[str]:
    """Mount points at or below `prefix`, from /proc/self/mountinfo."""
    base = str(prefix)
    found = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].replace("\\040", " ")
            if point == base or point.startswith(base + "/"):
                found.append(point)
    return found
