"""The host runtime as the kubelet's tests use it: a fresh root under the test's
tmp_path, every sandbox it made removed at the end even when the test fails. The
runc runtime's tests define their own `runtime` (runtime/runc/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.host import HostRuntime


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[HostRuntime]:
    host = HostRuntime(tmp_path / "host", "127.0.0.1")
    try:
        yield host
    finally:
        for sandbox in await host.list_pod_sandboxes():
            await host.remove_pod_sandbox(sandbox.id)


@pytest.fixture
async def sleeping_container(runtime: HostRuntime, tmp_path: Path) -> str:
    """The id of a started `sleep 300` container in a sandbox of its own, for what
    runs things in a container (exec probes, exec hooks)."""
    config = cri.PodSandboxConfig(cri.PodSandboxMetadata("web", "default", "uid-1"),
                                  log_directory=str(tmp_path / "logs"))
    sandbox = await runtime.run_pod_sandbox(config)
    container = await runtime.create_container(sandbox, cri.ContainerConfig(
        cri.ContainerMetadata("app"), image="host", command=("sleep", "300"),
        log_path="app/0.log"), config)
    await runtime.start_container(container)
    return container
