"""The `runc` runtime: cri.RuntimeService on Debian's runc, doing in the kubelet's own
process what containerd's CRI plugin and its shims do.

    run_pod_sandbox     namespaces (sandbox.py) + PodNetwork.setup + hosts/resolv.conf
    *_container         containers.py (bundle, runc create/start/kill/delete, exits)
    exec, exec_sync     `runc exec` (streaming.py)
    attach              the container's stdio fan-out (stdio.py)
    port_forward        a socket made in the pod's network namespace (network/netns.py)
    stats               the container's cgroup (cgroups.py)

Everything is recorded under the root (records.py), so a runtime made anew over the
same root (the kubelet restarted, or crashed) lists the sandboxes and containers
left there, their runc state read again, and pumps the logs of those still running,
on its first call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.network.netns import open_connection
from kubelite.kubelet.runtime.runc import bundle, cgroups, mounts, records, sandbox, streaming
from kubelite.kubelet.runtime.runc.binary import Runc
from kubelite.kubelet.runtime.runc.bundle import ImageLayers
from kubelite.kubelet.runtime.runc.containers import Containers, LiveContainer
from kubelite.kubelet.runtime.runc.records import SandboxRecord
from kubelite.kubelet.runtime.runc.streaming import AttachProcess

log = logging.getLogger(__name__)


class RuncRuntime:
    def __init__(
        self,
        *,
        root: Path,
        images: ImageLayers,
        network: cri.PodNetwork | None = None,
        runc: str = "runc",
        cgroup_root: str = "/kubelite",
    ) -> None:
        """`root` is `<data-dir>/agent/runc`; `cgroup_root` the cgroup every pod's
        cgroup_parent is under; without a network, pods have loopback only."""
        self.root = root
        self.network = network
        self.runc = Runc(root=root / "runc", binary=runc)
        self.containers = Containers(
            root=root / "containers", runc=self.runc, images=images, cgroup_root=cgroup_root
        )
        self._sandboxes: dict[str, SandboxRecord] = {}
        self._loaded = False
        self._loading = asyncio.Lock()

    async def close(self) -> None:
        """Lets go of the containers without stopping them: watchers and log pumps end,
        the containers run on, and a runtime made over the same root takes them over
        (what a kubelet restart does; the kubelet itself stops its pods first on a
        shutdown)."""
        await self.containers.close()
        self._sandboxes.clear()
        self._loaded = False

    async def _load(self) -> None:
        """Reads what an earlier runtime left under the root, once (and every caller
        waits for it: none sees half of it)."""
        if self._loaded:
            return
        async with self._loading:
            if self._loaded:
                return
            for directory in (self.root / "sandboxes", self.root / "containers", self.root / "runc"):
                directory.mkdir(parents=True, exist_ok=True)
            for path in sorted((self.root / "sandboxes").glob("*/sandbox.json")):
                try:
                    record = records.load_sandbox(path)
                except (OSError, ValueError, KeyError, TypeError) as err:
                    log.warning("skipping the unreadable sandbox record %s: %s", path, err)
                    continue
                if record.state == cri.SandboxState.READY and not sandbox.namespaces_alive(path.parent, record.config):
                    # the node rebooted: the namespaces (bind mounts) are gone
                    record.state = cri.SandboxState.NOTREADY
                self._sandboxes[record.id] = record
            await self.containers.recover()
            self._loaded = True

    def _sandbox_dir(self, sandbox_id: str) -> Path:
        return self.root / "sandboxes" / sandbox_id

    def _sandbox(self, sandbox_id: str) -> SandboxRecord:
        record = self._sandboxes.get(sandbox_id)
        if record is None:
            raise cri.NotFound(f"pod sandbox {sandbox_id} not found")
        return record

    # -------------------------------------------------------------- runtime

    async def version(self) -> cri.RuntimeVersion:
        return cri.RuntimeVersion("runc", await self.runc.version())

    async def status(self) -> list[cri.RuntimeCondition]:
        try:
            await self.runc.version()
            runtime = cri.RuntimeCondition("RuntimeReady", True)
        except (cri.CRIError, OSError) as err:
            runtime = cri.RuntimeCondition("RuntimeReady", False, "RuncUnavailable", str(err))
        if self.network is not None:
            network = await self.network.status()
        else:
            network = cri.RuntimeCondition("NetworkReady", True, "LoopbackOnly", "pods get loopback only")
        return [runtime, network]

    # ------------------------------------------------------------ sandboxes

    async def run_pod_sandbox(self, config: cri.PodSandboxConfig) -> str:
        await self._load()
        sandbox_id = secrets.token_hex(32)
        directory = self._sandbox_dir(sandbox_id)
        directory.mkdir(parents=True)
        record = SandboxRecord(sandbox_id, config, time.time_ns(), state=cri.SandboxState.NOTREADY)
        self._sandboxes[sandbox_id] = record
        path = directory / "sandbox.json"
        records.save_sandbox(path, record)  # first, so a crash below leaves it to remove
        try:
            kinds = [k for k, host in (("net", config.host_network), ("ipc", config.host_ipc), ("uts", config.host_network)) if not host]  # fmt: skip
            namespaces = await sandbox.make_namespaces(
                directory, kinds=kinds, hostname=sandbox.pod_hostname(config)
            )
            record.netns = namespaces.get("net", "")
            if not config.host_ipc:
                sandbox.mount_shm(directory)
            if record.netns and self.network is not None:
                records.save_sandbox(path, record)
                result = await self.network.setup(sandbox_id, record.netns, config)
                record.ips = result.ips
                record.network_ready = True
            sandbox.write_pod_files(directory, config, record.ips)
            record.state = cri.SandboxState.READY
            records.save_sandbox(path, record)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.remove_pod_sandbox(sandbox_id)
            raise
        return sandbox_id

    async def stop_pod_sandbox(self, pod_sandbox_id: str) -> None:
        await self._load()
        record = self._sandboxes.get(pod_sandbox_id)
        if record is None:
            return
        await asyncio.gather(
            *(self.containers.stop(live.record.id, 0) for live in self.containers.of_sandbox(pod_sandbox_id))
        )
        directory = self._sandbox_dir(pod_sandbox_id)
        if record.network_ready and self.network is not None:
            await self.network.teardown(pod_sandbox_id, record.netns)
            record.network_ready = False
        sandbox.remove_namespaces(directory)
        mounts.unmount(directory / "shm")
        record.state = cri.SandboxState.NOTREADY
        records.save_sandbox(directory / "sandbox.json", record)

    async def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        await self._load()
        if pod_sandbox_id not in self._sandboxes:
            return
        await self.stop_pod_sandbox(pod_sandbox_id)
        for live in self.containers.of_sandbox(pod_sandbox_id):
            await self.containers.remove(live.record.id)
        shutil.rmtree(self._sandbox_dir(pod_sandbox_id), ignore_errors=True)
        del self._sandboxes[pod_sandbox_id]

    async def pod_sandbox_status(self, pod_sandbox_id: str) -> cri.PodSandboxStatus:
        await self._load()
        return records.sandbox_status(self._sandbox(pod_sandbox_id))

    async def list_pod_sandboxes(self) -> list[cri.PodSandboxStatus]:
        await self._load()
        return [records.sandbox_status(r) for r in self._sandboxes.values()]

    # ----------------------------------------------------------- containers

    async def create_container(
        self,
        pod_sandbox_id: str,
        config: cri.ContainerConfig,
        sandbox_config: cri.PodSandboxConfig,
    ) -> str:
        """`sandbox_config` is the one the sandbox was run with, which the runtime
        recorded; the recorded one is used."""
        await self._load()
        pod = self._sandbox(pod_sandbox_id)
        if pod.state != cri.SandboxState.READY:
            raise cri.CRIError(f"pod sandbox {pod_sandbox_id} is not ready", "CreateContainerError")
        view = sandbox.container_view(self._sandbox_dir(pod_sandbox_id), pod.config)
        return await self.containers.create(pod, view, config)

    async def start_container(self, container_id: str) -> None:
        await self._load()
        await self.containers.start(container_id)

    async def stop_container(self, container_id: str, timeout: float) -> None:
        await self._load()
        await self.containers.stop(container_id, timeout)

    async def remove_container(self, container_id: str) -> None:
        await self._load()
        await self.containers.remove(container_id)

    async def container_status(self, container_id: str) -> cri.ContainerStatus:
        await self._load()
        return records.container_status(self.containers.get(container_id).record)

    async def list_containers(self, pod_sandbox_id: str | None = None) -> list[cri.ContainerStatus]:
        await self._load()
        return [
            records.container_status(live.record)
            for live in self.containers.live.values()
            if pod_sandbox_id is None or live.record.sandbox_id == pod_sandbox_id
        ]

    # ------------------------------------------------------------ streaming

    async def _running(self, container_id: str) -> LiveContainer:
        await self._load()
        live = self.containers.get(container_id)
        if not live.is_running:
            raise cri.CRIError(f"container {container_id} is not running")
        return live

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: float
    ) -> cri.ExecSyncResult:
        live = await self._running(container_id)
        return await streaming.exec_sync(self.runc, container_id, live.directory, cmd, timeout)

    async def exec(
        self, container_id: str, cmd: Sequence[str], *, tty: bool, stdin: bool
    ) -> cri.StreamingProcess:
        live = await self._running(container_id)
        return await streaming.start_exec(self.runc, container_id, live.directory, cmd, tty=tty, stdin=stdin)

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> cri.StreamingProcess:
        live = await self._running(container_id)
        if tty and not live.record.tty:
            raise cri.CRIError("the container has no terminal to attach to")
        writer = await live.io.open_stdin() if stdin else None

        async def exited() -> int:
            await live.exited.wait()
            return live.record.exit_code

        return AttachProcess(live.io, exited, writer, stdin_once=live.record.stdin_once)

    async def port_forward(
        self, pod_sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        await self._load()
        record = self._sandbox(pod_sandbox_id)
        if record.state != cri.SandboxState.READY:
            raise cri.CRIError(f"pod sandbox {pod_sandbox_id} is not ready")
        if not record.netns:  # hostNetwork: the node's own loopback
            return await asyncio.open_connection("127.0.0.1", port)
        return await open_connection(record.netns, port)

    # ---------------------------------------------------------------- stats

    async def container_stats(self, container_id: str) -> cri.ContainerStats:
        await self._load()
        live = self.containers.get(container_id)
        usage = cgroups.read_usage(live.record.cgroup_paths) if live.is_running else cgroups.Usage()
        writable = await asyncio.to_thread(bundle.writable_layer_bytes, live.directory)
        return cri.ContainerStats(
            id=container_id,
            pod_sandbox_id=live.record.sandbox_id,
            name=live.record.metadata.name,
            timestamp=time.time_ns(),
            cpu_usage_core_nanoseconds=usage.cpu_ns,
            memory_working_set_bytes=usage.memory_working_set,
            memory_usage_bytes=usage.memory_usage,
            memory_rss_bytes=usage.memory_rss,
            writable_layer_used_bytes=writable,
        )

    async def list_container_stats(self) -> list[cri.ContainerStats]:
        await self._load()
        running = [cid for cid, live in self.containers.live.items() if live.is_running]
        return list(await asyncio.gather(*(self.container_stats(cid) for cid in running)))
