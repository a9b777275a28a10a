"""A container's OCI bundle: its overlayfs rootfs over the image layers and its
config.json.

    containers/<id>/bundle/config.json
    containers/<id>/bundle/rootfs      overlay: lowerdir = the image's layers,
    containers/<id>/upper, work        upperdir/workdir: the container's own writes

The layers are the image store's unpacked directories, shared read-only by every
container of the image; nothing is copied per container.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import mounts
from kubelite.kubelet.runtime.runc.spec import ALL_CAPABILITIES, Device, SandboxView, build_spec
from kubelite.kubelet.runtime.runc.users import lookup_user


class ImageLayers(Protocol):
    """What the runtime needs of the node's image store."""

    def layers(self, image: str) -> list[Path]:
        """The image's unpacked layer directories, lowest first."""
        ...

    def config(self, image: str) -> dict[str, Any]:
        """The `config` of the image's OCI config: Entrypoint, Cmd, Env, WorkingDir,
        User, StopSignal."""
        ...


def rootfs_of(directory: Path) -> Path:
    return directory / "bundle" / "rootfs"


def image_of(images: ImageLayers, image: str) -> tuple[list[Path], dict[str, Any]]:
    try:
        return images.layers(image), images.config(image)
    except cri.CRIError:
        raise
    except (LookupError, OSError, ValueError) as err:
        raise cri.CRIError(f"image {image!r} is not on the node: {err}", "CreateContainerError") from err


def make_bundle(
    directory: Path,
    *,
    config: cri.ContainerConfig,
    layers: list[Path],
    image_config: Mapping[str, Any],
    view: SandboxView,
    cgroups_path: str,
) -> Path:
    """Mounts the rootfs and writes config.json; returns the bundle directory. On an
    error nothing stays mounted (remove_bundle clears the rest)."""
    bundle = directory / "bundle"
    rootfs = rootfs_of(directory)
    for path in (rootfs, directory / "upper", directory / "work"):
        path.mkdir(parents=True, exist_ok=True)
    if not layers:
        raise cri.CRIError(f"image {config.image!r} has no layers", "CreateContainerError")
    mounts.mount_overlay(layers, directory / "upper", directory / "work", rootfs)
    try:
        security = config.security_context
        if security.run_as_user is not None:
            user_spec = str(security.run_as_user)
        elif security.run_as_username:
            user_spec = security.run_as_username
        else:
            user_spec = str(image_config.get("User") or "")
        user = lookup_user(
            rootfs,
            user_spec,
            supplemental=security.supplemental_groups,
            run_as_group=security.run_as_group,
        )
        for mount in config.mounts:
            # containerd makes a missing hostPath source a directory
            if not os.path.exists(mount.host_path):
                os.makedirs(mount.host_path, exist_ok=True)
        spec = build_spec(
            config=config,
            image_config=image_config,
            view=view,
            rootfs=str(rootfs),
            user=user,
            cgroups_path=cgroups_path,
            host_devices=host_devices() if security.privileged else (),
            available_capabilities=current_capabilities(),
        )
        (bundle / "config.json").write_text(json.dumps(spec))
    except BaseException:
        mounts.unmount(rootfs)
        raise
    return bundle


def remove_bundle(directory: Path) -> None:
    """Unmounts the rootfs and removes the container's directory."""
    mounts.unmount(rootfs_of(directory))
    shutil.rmtree(directory, ignore_errors=True)


def current_capabilities() -> list[str]:
    """The effective capabilities of the runtime's own process (/proc/self/status)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("CapEff:"):
                mask = int(line.split()[1], 16)
                return [name for bit, name in enumerate(ALL_CAPABILITIES) if mask >> bit & 1]
    return list(ALL_CAPABILITIES)


def host_devices() -> list[Device]:
    """Every device node under the node's /dev, for a privileged container
    (containerd's WithHostDevices)."""
    found = []
    for dirpath, dirnames, filenames in os.walk("/dev"):
        dirnames[:] = [d for d in dirnames if d not in ("pts", "shm", "mqueue")]
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISCHR(info.st_mode):
                kind = "c"
            elif stat.S_ISBLK(info.st_mode):
                kind = "b"
            else:
                continue
            found.append(
                Device(
                    path=path,
                    type=kind,
                    major=os.major(info.st_rdev),
                    minor=os.minor(info.st_rdev),
                    file_mode=stat.S_IMODE(info.st_mode),
                    uid=info.st_uid,
                    gid=info.st_gid,
                )
            )
    return found


def writable_layer_bytes(directory: Path) -> int:
    """What the container wrote to its rootfs (its upper dir), in bytes."""
    total = 0
    for dirpath, _, filenames in os.walk(directory / "upper"):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:
                continue
    return total
