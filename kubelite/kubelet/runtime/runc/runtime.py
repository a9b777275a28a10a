"""The `runc` runtime: cri.RuntimeService on Debian's runc, as containerd's CRI plugin
does it with its shims, in the kubelet's own process.

    run_pod_sandbox     namespaces (sandbox.py) + PodNetwork.setup + hosts/resolv.conf
    create_container    overlay rootfs + config.json (bundle.py, spec.py), FIFOs
                        (stdio.py), `runc create` (binary.py) as a subreaper (reaper.py)
    start_container     `runc start`
    (exit)              the init's pidfd; waitpid's status; memory.oom_control
    stop_container      `runc kill` StopSignal, then KILL after the timeout
    remove_container    `runc delete`, unmount, cgroups' parents, the directory

Everything is recorded under the root (records.py), so a runtime made anew over the
same root (the kubelet restarted, or crashed) lists the sandboxes and containers
left there, their runc state read again, and pumps the logs of those still running.
A container that exits while no runtime is its parent has an unknown exit code:
it is reported as 255 with reason "Unknown", as containerd does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import bundle, cgroups, mounts, portforward, records, sandbox
from kubelite.kubelet.runtime.runc.binary import Runc
from kubelite.kubelet.runtime.runc.bundle import ImageLayers
from kubelite.kubelet.runtime.runc.reaper import subreaper, wait_for_exit
from kubelite.kubelet.runtime.runc.records import ContainerRecord, SandboxRecord
from kubelite.kubelet.runtime.runc.spec import SandboxView
from kubelite.kubelet.runtime.runc.stdio import ContainerIO
from kubelite.kubelet.runtime.runc.streaming import AttachProcess, ExecProcess, TtyExecProcess

UNKNOWN_EXIT_CODE = 255
# How long an exited container's output may take to drain into its log (a process
# that escaped into the host's pid namespace can hold the pipes open).
DRAIN_TIMEOUT = 2.0
KILL_TIMEOUT = 10.0
CONSOLE_SOCKET = "console.sock"


def console_socket(directory: Path) -> socket.socket:
    """Where runc create sends a tty container's pty master (--console-socket).

    A socket's path may have 107 bytes at most, less than a container's directory
    can take: it is bound in the bundle through /proc/self/fd, and runc, which
    runs in the bundle, is given the bare name."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dirfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        server.bind(f"/proc/self/fd/{dirfd}/{CONSOLE_SOCKET}")
    finally:
        os.close(dirfd)
    server.listen(1)
    return server


def receive_terminal(server: socket.socket) -> int:
    """The master runc sent. runc has connected and sent it before `runc create`
    returns, so both the connection and the message are waiting: nothing blocks."""
    server.settimeout(5)
    connection, _ = server.accept()
    with connection:
        connection.settimeout(5)
        _, fds, _, _ = socket.recv_fds(connection, 1024, 1)
    if not fds:
        raise cri.CRIError("runc sent no terminal", "CreateContainerError")
    return fds[0]


@dataclass(slots=True)
class LiveContainer:
    record: ContainerRecord
    directory: Path
    io: ContainerIO
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    watcher: asyncio.Task[None] | None = None


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
        cgroup_parent is under."""
        self.root = root
        self.images = images
        self.network = network
        self.cgroup_root = cgroup_root
        self.runc = Runc(root=root / "runc", binary=runc)
        self._sandboxes: dict[str, SandboxRecord] = {}
        self._containers: dict[str, LiveContainer] = {}
        self._loaded = False

    async def close(self) -> None:
        """Lets go of the containers without stopping them: watchers and log pumps end,
        the containers run on, and a runtime made over the same root takes them over
        (what a kubelet restart does; the kubelet itself stops its pods first on a
        shutdown)."""
        for live in self._containers.values():
            if live.watcher is not None:
                live.watcher.cancel()
            live.io.close()
        self._containers.clear()
        self._sandboxes.clear()
        self._loaded = False

    # ------------------------------------------------------------------ disk

    def _sandbox_dir(self, sandbox_id: str) -> Path:
        return self.root / "sandboxes" / sandbox_id

    def _container_dir(self, container_id: str) -> Path:
        return self.root / "containers" / container_id

    async def _load(self) -> None:
        """Reads what an earlier runtime left under the root, once."""
        if self._loaded:
            return
        self._loaded = True
        for directory in (self.root / "sandboxes", self.root / "containers", self.root / "runc"):
            directory.mkdir(parents=True, exist_ok=True)
        for path in sorted((self.root / "sandboxes").glob("*/sandbox.json")):
            record = records.load_sandbox(path)
            self._sandboxes[record.id] = record
        for path in sorted((self.root / "containers").glob("*/container.json")):
            await self._recover(records.load_container(path), path.parent)

    async def _recover(self, record: ContainerRecord, directory: Path) -> None:
        io = ContainerIO(directory, stdin=record.stdin, tty=record.tty)
        live = LiveContainer(record, directory, io)
        self._containers[record.id] = live
        if record.state == cri.ContainerState.EXITED:
            live.exited.set()
            return
        state = await self.runc.state(record.id)
        if state is None or state["status"] == "stopped":
            self._finish(live, None)
            return
        live.io.reopen(stdin_open=not record.stdin_once)
        live.io.start_pump(record.log_path)
        live.watcher = asyncio.create_task(self._watch(live))

    def _save(self, live: LiveContainer) -> None:
        records.save_container(live.directory / "container.json", live.record)

    def _sandbox(self, sandbox_id: str) -> SandboxRecord:
        record = self._sandboxes.get(sandbox_id)
        if record is None:
            raise cri.NotFound(f"pod sandbox {sandbox_id} not found")
        return record

    def _container(self, container_id: str) -> LiveContainer:
        live = self._containers.get(container_id)
        if live is None:
            raise cri.NotFound(f"container {container_id} not found")
        return live

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
        record = SandboxRecord(
            sandbox_id, config, time.time_ns(), state=cri.SandboxState.NOTREADY
        )
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
            *(
                self.stop_container(live.record.id, 0)
                for live in list(self._containers.values())
                if live.record.sandbox_id == pod_sandbox_id
            )
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
        for live in list(self._containers.values()):
            if live.record.sandbox_id == pod_sandbox_id:
                await self.remove_container(live.record.id)
        shutil.rmtree(self._sandbox_dir(pod_sandbox_id), ignore_errors=True)
        del self._sandboxes[pod_sandbox_id]

    async def pod_sandbox_status(self, pod_sandbox_id: str) -> cri.PodSandboxStatus:
        await self._load()
        return self._sandbox_status(self._sandbox(pod_sandbox_id))

    async def list_pod_sandboxes(self) -> list[cri.PodSandboxStatus]:
        await self._load()
        return [self._sandbox_status(r) for r in self._sandboxes.values()]

    def _sandbox_status(self, record: SandboxRecord) -> cri.PodSandboxStatus:
        return cri.PodSandboxStatus(
            id=record.id,
            metadata=record.config.metadata,
            state=record.state,
            created_at=record.created_at,
            ips=record.ips,
            host_network=record.config.host_network,
            labels=record.config.labels,
            annotations=record.config.annotations,
        )

    def _view(self, record: SandboxRecord) -> SandboxView:
        directory = self._sandbox_dir(record.id)
        config = record.config
        files = {
            "/etc/hosts": str(directory / "hosts"),
            "/etc/hostname": str(directory / "hostname"),
            "/etc/resolv.conf": str(directory / "resolv.conf"),
        }
        files["/dev/shm"] = "/dev/shm" if config.host_ipc else str(directory / "shm")
        return SandboxView(
            net_path=None if config.host_network else str(sandbox.namespace_path(directory, "net")),
            ipc_path=None if config.host_ipc else str(sandbox.namespace_path(directory, "ipc")),
            uts_path=None if config.host_network else str(sandbox.namespace_path(directory, "uts")),
            hostname=sandbox.pod_hostname(config),
            host_pid=config.host_pid,
            sysctls=config.sysctls,
            files=files,
        )

    # ----------------------------------------------------------- containers

    async def create_container(
        self,
        pod_sandbox_id: str,
        config: cri.ContainerConfig,
        sandbox_config: cri.PodSandboxConfig,
    ) -> str:
        await self._load()
        sandbox_record = self._sandbox(pod_sandbox_id)
        if sandbox_record.state != cri.SandboxState.READY:
            raise cri.CRIError(f"pod sandbox {pod_sandbox_id} is not ready", "CreateContainerError")
        layers, image_config = bundle.image_of(self.images, config.image)
        container_id = secrets.token_hex(32)
        directory = self._container_dir(container_id)
        directory.mkdir(parents=True)
        log_dir = sandbox_record.config.log_directory
        log_path = os.path.join(log_dir, config.log_path) if log_dir and config.log_path else ""
        record = ContainerRecord(
            id=container_id,
            sandbox_id=pod_sandbox_id,
            metadata=config.metadata,
            image=config.image,
            created_at=time.time_ns(),
            log_path=log_path,
            labels=dict(config.labels),
            annotations=dict(config.annotations),
            stop_signal=str(image_config.get("StopSignal") or "SIGTERM"),
            stdin=config.stdin,
            stdin_once=config.stdin_once,
            tty=config.tty,
            host_pid=sandbox_record.config.host_pid,
            cgroups_path=cgroups.cgroups_path(
                self.cgroup_root, sandbox_record.config.cgroup_parent, container_id
            ),
        )
        live = LiveContainer(
            record, directory, ContainerIO(directory, stdin=config.stdin, tty=config.tty)
        )
        try:
            bundle_dir = bundle.make_bundle(
                directory,
                config=config,
                layers=layers,
                image_config=image_config,
                view=self._view(sandbox_record),
                cgroups_path=record.cgroups_path,
            )
            if log_path:
                os.makedirs(os.path.dirname(log_path), exist_ok=True)
            stdin, stdout, stderr = live.io.open_for_create()
            pid_file = directory / "pid"
            console = console_socket(bundle_dir) if config.tty else None
            try:
                with subreaper():
                    await self.runc.create(
                        container_id,
                        bundle=bundle_dir,
                        pid_file=pid_file,
                        stdin=stdin,
                        stdout=stdout,
                        stderr=stderr,
                        console_socket=Path(CONSOLE_SOCKET) if console else None,
                    )
                if console is not None:
                    live.io.adopt_terminal(receive_terminal(console))
            finally:
                live.io.close_container_fds()
                if console is not None:
                    console.close()
                    (bundle_dir / CONSOLE_SOCKET).unlink(missing_ok=True)
            record.pid = int(pid_file.read_text())
            record.cgroup_paths = self.runc.cgroup_paths(container_id)
        except BaseException:
            live.io.close()
            with contextlib.suppress(Exception):
                await self.runc.delete(container_id)
            bundle.remove_bundle(directory)
            cgroups.remove_cgroups(record.cgroup_paths, record.cgroups_path, self.cgroup_root)
            raise
        self._containers[container_id] = live
        self._save(live)
        live.io.start_pump(log_path)
        live.watcher = asyncio.create_task(self._watch(live))
        return container_id

    async def _watch(self, live: LiveContainer) -> None:
        code = await wait_for_exit(live.record.pid)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(live.io.drained(), DRAIN_TIMEOUT)
        self._finish(live, code)

    def _finish(self, live: LiveContainer, code: int | None) -> None:
        record = live.record
        record.state = cri.ContainerState.EXITED
        record.finished_at = time.time_ns()
        if code is None:
            record.exit_code, record.reason = UNKNOWN_EXIT_CODE, "Unknown"
            record.message = "the container exited while the runtime was not its parent"
        else:
            record.exit_code = code
            record.reason = "Completed" if code == 0 else "Error"
        if cgroups.oom_killed(record.cgroup_paths):
            record.reason = "OOMKilled"
        self._save(live)
        live.exited.set()

    async def start_container(self, container_id: str) -> None:
        await self._load()
        live = self._container(container_id)
        if live.record.state != cri.ContainerState.CREATED:
            raise cri.CRIError(
                f"container {container_id} is {live.record.state.value}, not created",
                "RunContainerError",
            )
        # stamped before: the process may well have exited when `runc start` returns
        live.record.started_at = time.time_ns()
        try:
            await self.runc.start(container_id)
        except cri.CRIError:
            live.record.started_at = 0
            raise
        if live.record.state == cri.ContainerState.CREATED:
            live.record.state = cri.ContainerState.RUNNING
        self._save(live)

    async def stop_container(self, container_id: str, timeout: float) -> None:
        await self._load()
        live = self._container(container_id)
        if live.exited.is_set():
            return
        all_processes = live.record.host_pid
        if timeout > 0:
            signal = live.record.stop_signal
            if await self.runc.kill(container_id, signal, all_processes=all_processes):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(live.exited.wait(), timeout)
        if not live.exited.is_set():
            await self.runc.kill(container_id, "KILL", all_processes=all_processes)
            try:
                await asyncio.wait_for(live.exited.wait(), KILL_TIMEOUT)
            except TimeoutError:
                raise cri.CRIError(f"container {container_id} did not exit after SIGKILL") from None

    async def remove_container(self, container_id: str) -> None:
        await self._load()
        live = self._containers.get(container_id)
        if live is None:
            return
        if not live.exited.is_set():
            await self.stop_container(container_id, 0)
        await self.runc.delete(container_id)
        live.io.close()
        if live.watcher is not None:
            live.watcher.cancel()
        bundle.remove_bundle(live.directory)
        cgroups.remove_cgroups(live.record.cgroup_paths, live.record.cgroups_path, self.cgroup_root)
        del self._containers[container_id]

    async def container_status(self, container_id: str) -> cri.ContainerStatus:
        await self._load()
        return self._container_status(self._container(container_id).record)

    async def list_containers(self, pod_sandbox_id: str | None = None) -> list[cri.ContainerStatus]:
        await self._load()
        return [
            self._container_status(live.record)
            for live in self._containers.values()
            if pod_sandbox_id is None or live.record.sandbox_id == pod_sandbox_id
        ]

    def _container_status(self, record: ContainerRecord) -> cri.ContainerStatus:
        return cri.ContainerStatus(
            id=record.id,
            pod_sandbox_id=record.sandbox_id,
            metadata=record.metadata,
            state=record.state,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            exit_code=record.exit_code,
            image=record.image,
            image_ref=record.image,
            reason=record.reason,
            message=record.message,
            labels=record.labels,
            annotations=record.annotations,
            log_path=record.log_path,
        )

    # ------------------------------------------------------------ streaming

    def _running(self, container_id: str) -> LiveContainer:
        live = self._container(container_id)
        if live.record.state != cri.ContainerState.RUNNING or live.exited.is_set():
            raise cri.CRIError(f"container {container_id} is not running")
        return live

    def _exec_command(self, container_id: str, cmd: Sequence[str], pid_file: Path, *, tty: bool) -> list[str]:
        if not cmd:
            raise cri.CRIError("exec needs a command")
        flags = ["--tty"] if tty else []
        return self.runc.command("exec", "--pid-file", str(pid_file), *flags, container_id, *cmd)

    def _pid_file(self, live: LiveContainer) -> Path:
        return live.directory / f"exec-{secrets.token_hex(8)}.pid"

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: float
    ) -> cri.ExecSyncResult:
        await self._load()
        live = self._running(container_id)
        pid_file = self._pid_file(live)
        proc = await asyncio.create_subprocess_exec(
            *self._exec_command(container_id, cmd, pid_file, tty=False),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        process = ExecProcess(proc, pid_file)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout if timeout > 0 else None)
        except TimeoutError:
            await process.kill()
            raise cri.CRIError(
                f"command {list(cmd)!r} timed out after {timeout}s", "Timeout"
            ) from None
        return cri.ExecSyncResult(stdout=out, stderr=err, exit_code=await process.wait())

    async def exec(
        self, container_id: str, cmd: Sequence[str], *, tty: bool, stdin: bool
    ) -> cri.StreamingProcess:
        await self._load()
        live = self._running(container_id)
        pid_file = self._pid_file(live)
        command = self._exec_command(container_id, cmd, pid_file, tty=tty)
        if tty:

            async def spawn(terminal: int) -> asyncio.subprocess.Process:
                return await asyncio.create_subprocess_exec(
                    *command, stdin=terminal, stdout=terminal, stderr=terminal
                )

            return await TtyExecProcess.start(spawn, pid_file, stdin=stdin)
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        return ExecProcess(proc, pid_file)

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> cri.StreamingProcess:
        await self._load()
        live = self._running(container_id)
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
        return await portforward.connect(record.netns or None, port)

    # ---------------------------------------------------------------- stats

    async def container_stats(self, container_id: str) -> cri.ContainerStats:
        await self._load()
        live = self._container(container_id)
        usage = cgroups.read_usage(live.record.cgroup_paths) if not live.exited.is_set() else cgroups.Usage()
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
        return [
            await self.container_stats(container_id)
            for container_id, live in list(self._containers.items())
            if live.record.state == cri.ContainerState.RUNNING and not live.exited.is_set()
        ]
