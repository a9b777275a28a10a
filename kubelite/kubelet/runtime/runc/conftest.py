"""Fixtures for the runc runtime's tests: a busybox image unpacked into a directory
(built by tests/busybox_image.py from Debian's busybox-static), and a
runtime over a fresh root whose every container, sandbox, mount and cgroup is
removed at the end, even when a test fails.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import RuncRuntime, mounts

BUSYBOX_IMAGE_SCRIPT = Path(__file__).resolve().parents[4] / "tests" / "busybox_image.py"


def missing_prerequisite() -> str:
    if os.geteuid() != 0:
        return "the runc runtime needs root (namespaces, mounts, cgroups)"
    if shutil.which("runc") is None:
        return "runc is not installed (apt-get install runc)"
    if not Path("/bin/busybox").exists():
        return "busybox-static is not installed (apt-get install busybox-static)"
    return ""


requires_runc = pytest.mark.skipif(bool(missing_prerequisite()), reason=missing_prerequisite() or "-")


class DirectoryImages:
    """ImageLayers over docker-archive tarballs unpacked into a directory."""

    def __init__(self) -> None:
        self._images: dict[str, tuple[list[Path], dict[str, Any]]] = {}

    def add(self, archive: Path, into: Path) -> str:
        with tarfile.open(archive) as tar:
            tar.extractall(into / "archive")
        manifest = json.loads((into / "archive" / "manifest.json").read_text())[0]
        config = json.loads((into / "archive" / manifest["Config"]).read_text())
        layers = []
        for index, layer in enumerate(manifest["Layers"]):
            directory = into / f"layer{index}"
            directory.mkdir()
            with tarfile.open(into / "archive" / layer) as tar:
                tar.extractall(directory)
            layers.append(directory)
        image_id = "sha256:" + hashlib.sha256((into / "archive" / manifest["Config"]).read_bytes()).hexdigest()
        for name in (image_id, *manifest["RepoTags"]):
            self._images[name] = (layers, config["config"])
        return image_id

    def with_config(self, name: str, base: str, **changes: Any) -> str:
        layers, config = self._images[base]
        self._images[name] = (layers, {**config, **changes})
        return name

    def layers(self, image: str) -> list[Path]:
        return self._images[image][0]

    def config(self, image: str) -> dict[str, Any]:
        return self._images[image][1]


@pytest.fixture(scope="session")
def busybox_layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if reason := missing_prerequisite():
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("busybox")
    archive = directory / "busybox.tar"
    subprocess.run([sys.executable, str(BUSYBOX_IMAGE_SCRIPT), str(archive)], check=True, capture_output=True)
    return archive


@pytest.fixture
def images(busybox_layers: Path, tmp_path: Path) -> DirectoryImages:
    store = DirectoryImages()
    (tmp_path / "images").mkdir()
    store.add(busybox_layers, tmp_path / "images")
    return store


def cgroup_dirs(cgroup_root: str) -> list[str]:
    return sorted(
        str(p) for p in Path("/sys/fs/cgroup").glob(f"*/{cgroup_root.strip('/')}") if p.is_dir()
    ) + sorted(str(p) for p in Path("/sys/fs/cgroup").glob(cgroup_root.strip("/")) if p.is_dir())


def leftovers(root: Path, cgroup_root: str) -> dict[str, list[str]]:
    """What a runtime left on the node: mounts under its root, runc containers,
    container and sandbox directories, cgroups."""
    runc_state = root / "runc"
    return {
        "mounts": mounts.mounted_under(root),
        "runc": sorted(p.name for p in runc_state.iterdir()) if runc_state.exists() else [],
        "containers": sorted(p.name for p in (root / "containers").glob("*")),
        "sandboxes": sorted(p.name for p in (root / "sandboxes").glob("*")),
        "cgroups": cgroup_dirs(cgroup_root),
    }


@pytest.fixture
def runtime_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A root and a cgroup root of the test's own; whatever is left there at the end
    is torn down by container id and path (runc delete, umount, rmdir)."""
    root = tmp_path / "agent" / "runc"
    cgroup_root = f"/kubelite-test-{uuid.uuid4().hex[:8]}"
    yield root, cgroup_root
    runc_state = root / "runc"
    if runc_state.exists():
        for container in runc_state.iterdir():
            subprocess.run(["runc", "--root", str(runc_state), "delete", "--force", container.name], capture_output=True)
    for point in sorted(mounts.mounted_under(root), key=len, reverse=True):
        mounts.unmount(Path(point))
    for directory in sorted(cgroup_dirs(cgroup_root), reverse=True):
        for sub in sorted(Path(directory).glob("**/"), key=lambda p: len(p.parts), reverse=True):
            try:
                sub.rmdir()
            except OSError:
                pass


@pytest.fixture
async def runtime(runtime_root: tuple[Path, str], images: DirectoryImages) -> AsyncIterator[RuncRuntime]:
    root, cgroup_root = runtime_root
    runtime = RuncRuntime(root=root, images=images, cgroup_root=cgroup_root)
    yield runtime
    await runtime.close()
    # what is on disk now, whichever runtime object the test left it with
    cleaner = RuncRuntime(root=root, images=images, cgroup_root=cgroup_root)
    for sandbox in await cleaner.list_pod_sandboxes():
        await cleaner.remove_pod_sandbox(sandbox.id)
    await cleaner.close()


def sandbox_config(tmp_path: Path, name: str = "web", **changes: Any) -> cri.PodSandboxConfig:
    fields: dict[str, Any] = {
        "hostname": name,
        "log_directory": str(tmp_path / "pods" / name),
        "cgroup_parent": f"pod{uuid.uuid4().hex[:8]}",
        **changes,
    }
    return cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name=name, namespace="default", uid=uuid.uuid4().hex),
        **fields,
    )


CRI_LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z (stdout|stderr) (F|P) (.*)$")


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


async def exited(runtime: RuncRuntime, container_id: str) -> cri.ContainerStatus:
    async def done() -> bool:
        status = await runtime.container_status(container_id)
        return status.state == cri.ContainerState.EXITED

    await until(done)
    return await runtime.container_status(container_id)


async def run(
    runtime: RuncRuntime,
    sandbox_id: str,
    sandbox: cri.PodSandboxConfig,
    name: str,
    *command: str,
    **options: object,
) -> str:
    config = cri.ContainerConfig(
        metadata=cri.ContainerMetadata(name=name),
        image=str(options.pop("image", "busybox:latest")),
        command=command,
        log_path=f"{name}/0.log",
        **options,  # type: ignore[arg-type]
    )
    container_id = await runtime.create_container(sandbox_id, config, sandbox)
    await runtime.start_container(container_id)
    return container_id


def log_lines(status: cri.ContainerStatus) -> list[tuple[str, bytes]]:
    lines = []
    for line in Path(status.log_path).read_bytes().splitlines():
        match = CRI_LINE.match(line)
        assert match, line
        lines.append((match.group(2).decode(), match.group(4)))
    return lines
