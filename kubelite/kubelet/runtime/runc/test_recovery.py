"""What a runtime finds under a root another one left: running containers, exited
ones, logs, a reboot's unmounted namespaces (root and runc needed)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import RuncRuntime, mounts
from kubelite.kubelet.runtime.runc.records import sandbox_config_to_json
from kubelite.kubelet.runtime.runc.conftest import (
    DirectoryImages,
    exited,
    leftovers,
    log_lines,
    requires_runc,
    run,
    sandbox_config,
)

pytestmark = requires_runc


async def test_a_new_runtime_over_the_same_root_finds_what_runs(
    runtime: RuncRuntime, images: DirectoryImages, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    sandbox = sandbox_config(tmp_path)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    container_id = await run(
        runtime, sandbox_id, sandbox, "c", "sh", "-c",
        "echo before; read x; echo after $x; while sleep 0.05; do echo tick; done", stdin=True,
    )
    done = await run(runtime, sandbox_id, sandbox, "done", "sh", "-c", "exit 2")
    await exited(runtime, done)

    root, cgroup_root = runtime_root
    # as the kubelet's process ending would: the pumps stop, and what the container
    # writes meanwhile waits in its pipe; its stdin (not stdin_once) stays open
    await runtime.close()
    again = RuncRuntime(root=root, images=images, cgroup_root=cgroup_root)
    assert [s.id for s in await again.list_pod_sandboxes()] == [sandbox_id]
    listed = {s.id: s for s in await again.list_containers(sandbox_id)}
    assert listed[container_id].state == cri.ContainerState.RUNNING
    assert (listed[done].state, listed[done].exit_code) == (cri.ContainerState.EXITED, 2)
    process = await again.attach(container_id, tty=False, stdin=True)
    assert process.stdin is not None
    process.stdin.write(b"later\n")
    await process.stdin.drain()
    async with asyncio.timeout(10):
        assert await process.stdout.readline() == b"after later\n"
        assert await process.stdout.readline() == b"tick\n"
    await process.kill()
    await again.stop_container(container_id, 0)
    status = await again.container_status(container_id)
    # in one process the container is still our child, so its code is exact (a new
    # process would report 255, "Unknown")
    assert (status.state, status.exit_code, status.reason) == (cri.ContainerState.EXITED, 137, "Error")
    lines = [line for _, line in log_lines(status)]
    assert lines[:3] == [b"before", b"after later", b"tick"]
    await again.remove_pod_sandbox(sandbox_id)
    await again.close()


CHILD_RUNTIME = """
import asyncio, json, sys
from pathlib import Path
from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import RuncRuntime
from kubelite.kubelet.runtime.runc.records import sandbox_config_from_json

class Images:
    def layers(self, image): return [Path(p) for p in args["layers"]]
    def config(self, image): return args["config"]

async def main():
    runtime = RuncRuntime(root=Path(args["root"]), images=Images(), cgroup_root=args["cgroup_root"])
    sandbox = sandbox_config_from_json(args["sandbox"])
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    config = cri.ContainerConfig(metadata=cri.ContainerMetadata("c"), image="busybox:latest",
                                 command=("sh", "-c", "echo hi; sleep 0.3; echo later; sleep 1000"), log_path="c.log")
    container_id = await runtime.create_container(sandbox_id, config, sandbox)
    await runtime.start_container(container_id)
    async with asyncio.timeout(10):  # its output is read before the process ends
        while b"hi" not in Path(sandbox.log_directory, "c.log").read_bytes():
            await asyncio.sleep(0.02)
    await runtime.close()  # as a kubelet that restarts leaves its pods running
    print(json.dumps([sandbox_id, container_id]))

args = json.loads(sys.argv[1])
asyncio.run(main())
"""


async def test_after_the_runtimes_process_ends_its_pods_are_found_and_removed(
    images: DirectoryImages, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    root, cgroup_root = runtime_root
    sandbox = sandbox_config(tmp_path)
    args = {
        "root": str(root), "cgroup_root": cgroup_root, "sandbox": sandbox_config_to_json(sandbox),
        "layers": [str(p) for p in images.layers("busybox:latest")], "config": images.config("busybox:latest"),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD_RUNTIME, json.dumps(args), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await child.communicate()
    assert child.returncode == 0
    sandbox_id, container_id = json.loads(out)

    runtime = RuncRuntime(root=root, images=images, cgroup_root=cgroup_root)
    try:
        assert [(s.id, s.state) for s in await runtime.list_pod_sandboxes()] == [(sandbox_id, cri.SandboxState.READY)]
        (found,) = await runtime.list_containers()
        assert (found.id, found.state) == (container_id, cri.ContainerState.RUNNING)
        # what it printed after the first process let go comes through this one
        async with asyncio.timeout(10):
            while b"later" not in Path(found.log_path).read_bytes():
                await asyncio.sleep(0.02)
        await runtime.stop_pod_sandbox(sandbox_id)
        status = await runtime.container_status(container_id)
        assert (status.state, status.exit_code, status.reason) == (cri.ContainerState.EXITED, 255, "Unknown")
        assert [line for _, line in log_lines(status)] == [b"hi", b"later"]
        await runtime.remove_pod_sandbox(sandbox_id)
        assert leftovers(root, cgroup_root) == {"mounts": [], "runc": [], "containers": [], "sandboxes": [], "cgroups": []}
    finally:
        await runtime.close()


async def test_a_sandbox_whose_namespaces_are_gone_is_not_ready(
    runtime: RuncRuntime, images: DirectoryImages, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    root, cgroup_root = runtime_root
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config(tmp_path))
    await runtime.close()
    for kind in ("net", "ipc", "uts"):  # as a reboot leaves them
        mounts.unmount(root / "sandboxes" / sandbox_id / "ns" / kind)
    again = RuncRuntime(root=root, images=images, cgroup_root=cgroup_root)
    try:
        assert (await again.pod_sandbox_status(sandbox_id)).state == cri.SandboxState.NOTREADY
        await again.remove_pod_sandbox(sandbox_id)
        assert leftovers(root, cgroup_root)["sandboxes"] == []
    finally:
        await again.close()
