"""The `host` runtime: each container is a plain process on the host, without isolation.

For nodes without root or runc (Nomad's raw_exec, in CRI's shape). What a container
asks for and what it gets:

- command and args run as given (the pod must give a command: there is no image to
  take an entrypoint from, so an image is only a name here, see HostImages);
- env is the container's alone, with PATH and HOSTNAME added when absent; workingDir
  is used when it exists on the host, else the pod's sandbox directory;
- runAsUser/runAsGroup are honoured when the node runs as root;
- no namespaces, cgroups or mounts: every pod shares the host's network (its pod IP is
  the node's), volumes are not mounted (the pod workers' mounts are ignored), and
  resource limits are not enforced. The node's runtime name says `host` and the
  kubelet warns on each pod.

Containers are the kubelet's children, in sessions of their own; stop signals the
whole session. State lives in memory, with a record per running process on disk
(`<root>/<id>.pid`), so a kubelet that crashed kills what it left behind when it
starts again (`recover`): a host process cannot be adopted, its output pipes died with
the kubelet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.logs.writer import LogFile, pump
from kubelite.kubelet.runtime.process import Spawned, spawn

log = logging.getLogger(__name__)

VERSION = "0.1.0"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _now_ns() -> int:
    return time.time_ns()


@dataclass
class _Sandbox:
    id: str
    config: cri.PodSandboxConfig
    created_at: int
    directory: Path
    state: cri.SandboxState = cri.SandboxState.READY


@dataclass
class _Container:
    id: str
    sandbox: _Sandbox
    config: cri.ContainerConfig
    created_at: int
    log_path: Path
    state: cri.ContainerState = cri.ContainerState.CREATED
    started_at: int = 0
    finished_at: int = 0
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    process: Spawned | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    listeners: list[asyncio.StreamReader] = field(default_factory=list)

    def status(self) -> cri.ContainerStatus:
        return cri.ContainerStatus(
            id=self.id,
            pod_sandbox_id=self.sandbox.id,
            metadata=self.config.metadata,
            state=self.state,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            exit_code=self.exit_code,
            image=self.config.image,
            image_ref=self.config.image,
            reason=self.reason,
            message=self.message,
            labels=self.config.labels,
            annotations=self.config.annotations,
            log_path=str(self.log_path),
        )


class HostRuntime:
    """cri.RuntimeService over host processes. `pod_ip` is the node's address, what
    every pod reports as its IP."""

    def __init__(self, root: Path, pod_ip: str) -> None:
        self.root = root
        self.pod_ip = pod_ip
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        root.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ runtime
    async def version(self) -> cri.RuntimeVersion:
        return cri.RuntimeVersion("host", VERSION)

    async def status(self) -> list[cri.RuntimeCondition]:
        return [
            cri.RuntimeCondition("RuntimeReady", True),
            cri.RuntimeCondition("NetworkReady", True, message="pods share the host's network"),
        ]

    def recover(self) -> list[int]:
        """Kills the processes a previous kubelet left running; returns their pids."""
        killed = []
        for record in self.root.glob("*.pid"):
            with contextlib.suppress(ValueError, OSError):
                pid, started = record.read_text().split()
                if _process_start(int(pid)) == started:
                    os.killpg(int(pid), signal.SIGKILL)
                    killed.append(int(pid))
            record.unlink(missing_ok=True)
        return killed

    # ---------------------------------------------------------------- sandboxes
    async def run_pod_sandbox(self, config: cri.PodSandboxConfig) -> str:
        sandbox_id = uuid.uuid4().hex
        directory = self.root / "sandboxes" / sandbox_id
        directory.mkdir(parents=True)
        self._sandboxes[sandbox_id] = _Sandbox(sandbox_id, config, _now_ns(), directory)
        return sandbox_id

    async def stop_pod_sandbox(self, pod_sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(pod_sandbox_id)
        if sandbox is None:
            return
        await asyncio.gather(*(self.stop_container(c.id, 0) for c in self._of(sandbox)))
        sandbox.state = cri.SandboxState.NOTREADY

    async def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        await self.stop_pod_sandbox(pod_sandbox_id)
        sandbox = self._sandboxes.pop(pod_sandbox_id, None)
        if sandbox is None:
            return
        for container in self._of(sandbox):
            await self.remove_container(container.id)
        _remove_tree(sandbox.directory)

    async def pod_sandbox_status(self, pod_sandbox_id: str) -> cri.PodSandboxStatus:
        return self._sandbox_status(self._sandbox(pod_sandbox_id))

    async def list_pod_sandboxes(self) -> list[cri.PodSandboxStatus]:
        return [self._sandbox_status(s) for s in self._sandboxes.values()]

    def _sandbox_status(self, sandbox: _Sandbox) -> cri.PodSandboxStatus:
        return cri.PodSandboxStatus(
            id=sandbox.id,
            metadata=sandbox.config.metadata,
            state=sandbox.state,
            created_at=sandbox.created_at,
            ips=(self.pod_ip,),
            host_network=True,
            labels=sandbox.config.labels,
            annotations=sandbox.config.annotations,
        )

    # --------------------------------------------------------------- containers
    async def create_container(
        self, pod_sandbox_id: str, config: cri.ContainerConfig, sandbox_config: cri.PodSandboxConfig
    ) -> str:
        sandbox = self._sandbox(pod_sandbox_id)
        if not config.command and not config.args:
            raise cri.CRIError(
                f"the host runtime runs the container's command: container {config.metadata.name!r} gives none",
                "CreateContainerConfigError",
            )
        container_id = uuid.uuid4().hex
        log_path = Path(sandbox_config.log_directory or sandbox.directory) / (
            config.log_path or f"{config.metadata.name}/{config.metadata.attempt}.log"
        )
        self._containers[container_id] = _Container(container_id, sandbox, config, _now_ns(), log_path)
        return container_id

    async def start_container(self, container_id: str) -> None:
        container = self._container(container_id)
        if container.state is not cri.ContainerState.CREATED:
            raise cri.CRIError(f"container {container_id} is {container.state.value}, not created", "RunContainerError")
        config, sandbox = container.config, container.sandbox
        workdir = config.working_dir if config.working_dir and os.path.isdir(config.working_dir) else None
        security = config.security_context
        as_root = os.geteuid() == 0
        try:
            process = await spawn(
                [*config.command, *config.args],
                env=self._environment(container),
                cwd=workdir or str(sandbox.directory),
                tty=config.tty,
                stdin=config.stdin,
                user=security.run_as_user if as_root else None,
                group=security.run_as_group if as_root else None,
                extra_groups=list(security.supplemental_groups) if as_root and security.supplemental_groups else None,
            )
        except OSError as error:
            container.state, container.exit_code = cri.ContainerState.EXITED, 128
            container.finished_at = _now_ns()
            container.reason, container.message = "StartError", str(error)
            container.done.set()
            raise cri.CRIError(f"failed to start container {config.metadata.name!r}: {error}", "RunContainerError")
        container.process = process
        container.state, container.started_at = cri.ContainerState.RUNNING, _now_ns()
        (self.root / f"{container_id}.pid").write_text(f"{process.pid} {_process_start(process.pid)}")
        asyncio.get_running_loop().create_task(self._supervise(container, process), name=f"host-{container_id[:12]}")

    def _environment(self, container: _Container) -> dict[str, str]:
        env = dict(container.config.envs)
        env.setdefault("PATH", DEFAULT_PATH)
        env.setdefault("HOSTNAME", container.sandbox.config.hostname or container.sandbox.config.metadata.name)
        return env

    async def _supervise(self, container: _Container, process: Spawned) -> None:
        logfile = LogFile(container.log_path)

        def fan_out(chunk: bytes) -> None:
            for listener in container.listeners:
                listener.feed_data(chunk)

        try:
            streams = [pump(process.stdout, "stdout", logfile, also=fan_out)]
            if process.stderr is not None:
                streams.append(pump(process.stderr, "stderr", logfile, also=fan_out))
            await asyncio.gather(*streams)
            code = await process.wait()
        finally:
            logfile.close()
            for listener in container.listeners:
                listener.feed_eof()
            (self.root / f"{container.id}.pid").unlink(missing_ok=True)
        container.state, container.exit_code, container.finished_at = cri.ContainerState.EXITED, code, _now_ns()
        container.reason = "Completed" if code == 0 else "Error"
        container.done.set()

    async def stop_container(self, container_id: str, timeout: float) -> None:
        container = self._container(container_id)
        if container.process is None or container.done.is_set():
            if container.state is cri.ContainerState.CREATED:
                container.state, container.finished_at = cri.ContainerState.EXITED, _now_ns()
                container.done.set()
            return
        if timeout > 0:
            container.process.signal(signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(container.done.wait(), timeout)
        if not container.done.is_set():
            container.process.signal(signal.SIGKILL)
            await container.done.wait()

    async def remove_container(self, container_id: str) -> None:
        container = self._containers.get(container_id)
        if container is None:
            return
        await self.stop_container(container_id, 0)
        del self._containers[container_id]

    async def container_status(self, container_id: str) -> cri.ContainerStatus:
        return self._container(container_id).status()

    async def list_containers(self, pod_sandbox_id: str | None = None) -> list[cri.ContainerStatus]:
        return [
            c.status() for c in self._containers.values() if pod_sandbox_id is None or c.sandbox.id == pod_sandbox_id
        ]

    # ---------------------------------------------------------------- streaming
    async def exec_sync(self, container_id: str, cmd: Sequence[str], timeout: float) -> cri.ExecSyncResult:
        process = await self.exec(container_id, cmd, tty=False, stdin=False)
        assert process.stderr is not None
        try:
            stdout, stderr, code = await asyncio.wait_for(
                asyncio.gather(process.stdout.read(), process.stderr.read(), process.wait()), timeout or None
            )
        except asyncio.TimeoutError:
            await process.kill()
            raise cri.CRIError(f"command {list(cmd)} timed out after {timeout:g}s", "Timeout") from None
        return cri.ExecSyncResult(stdout, stderr, code)

    async def exec(self, container_id: str, cmd: Sequence[str], *, tty: bool, stdin: bool) -> Spawned:
        container = self._container(container_id)
        if container.state is not cri.ContainerState.RUNNING:
            raise cri.CRIError(f"container {container_id} is not running", "NotRunning")
        config = container.config
        workdir = config.working_dir if config.working_dir and os.path.isdir(config.working_dir) else None
        try:
            return await spawn(
                list(cmd),
                env=self._environment(container),
                cwd=workdir or str(container.sandbox.directory),
                tty=tty,
                stdin=stdin,
            )
        except OSError as error:
            raise cri.CRIError(f"exec {list(cmd)} failed: {error}", "ExecError") from None

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> _Attached:
        container = self._container(container_id)
        if container.process is None or container.done.is_set():
            raise cri.CRIError(f"container {container_id} is not running", "NotRunning")
        output = asyncio.StreamReader()
        container.listeners.append(output)
        return _Attached(container, output, container.process.stdin if stdin else None)

    async def port_forward(self, pod_sandbox_id: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self._sandbox(pod_sandbox_id)
        return await asyncio.open_connection("127.0.0.1", port)

    # -------------------------------------------------------------------- stats
    async def container_stats(self, container_id: str) -> cri.ContainerStats:
        return _stats(self._container(container_id))

    async def list_container_stats(self) -> list[cri.ContainerStats]:
        return [_stats(c) for c in self._containers.values()]

    # ------------------------------------------------------------------ helpers
    def _sandbox(self, pod_sandbox_id: str) -> _Sandbox:
        try:
            return self._sandboxes[pod_sandbox_id]
        except KeyError:
            raise cri.NotFound(f"pod sandbox {pod_sandbox_id} not found") from None

    def _container(self, container_id: str) -> _Container:
        try:
            return self._containers[container_id]
        except KeyError:
            raise cri.NotFound(f"container {container_id} not found") from None

    def _of(self, sandbox: _Sandbox) -> list[_Container]:
        return [c for c in self._containers.values() if c.sandbox is sandbox]


class _Attached:
    """`kubectl attach`: the container's output from now on, and its stdin if it has one."""

    def __init__(self, container: _Container, output: asyncio.StreamReader, stdin: asyncio.StreamWriter | None) -> None:
        self._container = container
        self.stdout = output
        self.stderr: asyncio.StreamReader | None = None
        self.stdin = stdin

    async def wait(self) -> int:
        await self._container.done.wait()
        return self._container.exit_code

    def resize(self, width: int, height: int) -> None:
        if self._container.process is not None:
            self._container.process.resize(width, height)

    async def kill(self) -> None:
        """Detaches; the container goes on."""
        with contextlib.suppress(ValueError):
            self._container.listeners.remove(self.stdout)
        self.stdout.feed_eof()


class HostImages:
    """cri.ImageService for the host runtime: an image is only a name (the host's own
    programs run), so a pull records the name and nothing is downloaded."""

    def __init__(self) -> None:
        self._images: dict[str, cri.Image] = {}

    async def list_images(self) -> list[cri.Image]:
        return list(self._images.values())

    async def image_status(self, image: str) -> cri.Image | None:
        return self._images.get(image)

    async def pull_image(self, image: str, auth: cri.AuthConfig | None = None) -> str:
        self._images.setdefault(image, cri.Image(id=image, repo_tags=(image,)))
        return image

    async def remove_image(self, image: str) -> None:
        self._images.pop(image, None)

    async def image_fs_info(self) -> cri.FilesystemUsage:
        return cri.FilesystemUsage(mountpoint="/", used_bytes=0, inodes_used=0, timestamp=_now_ns())


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat):
    with the pid it names one process, even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def _session_members(session: int) -> list[int]:
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == session:  # field 6: the session id
                members.append(int(entry.name))
    return members


_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stats(container: _Container) -> cri.ContainerStats:
    cpu_ns = rss = 0
    if container.process is not None and not container.done.is_set():
        for pid in _session_members(container.process.pid):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu_ns += (int(fields[11]) + int(fields[12])) * 1_000_000_000 // _TICKS  # utime + stime
                rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    return cri.ContainerStats(
        id=container.id,
        pod_sandbox_id=container.sandbox.id,
        name=container.config.metadata.name,
        timestamp=_now_ns(),
        cpu_usage_core_nanoseconds=cpu_ns,
        memory_working_set_bytes=rss,
        memory_usage_bytes=rss,
        memory_rss_bytes=rss,
    )


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
