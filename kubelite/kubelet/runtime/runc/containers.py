"""A runtime's containers: made, watched until they exit, stopped, removed, and found
again after a restart.

    create   overlay rootfs + config.json (bundle.py, spec.py), FIFOs or a pty
             (stdio.py), `runc create` (binary.py) as a child subreaper (reaper.py)
    start    `runc start`
    (exit)   the init's pidfd; waitpid's status (0, 3, 137); OOMKilled from the
             memory cgroup's oom_kill count (cgroups.py)
    stop     `runc kill` with the image's StopSignal, KILL after the timeout
    remove   `runc delete`, unmount, the pod's empty cgroups, the directory

A container that exits while no runtime process is its parent (it ran on across a
restart of the kubelet's process) has an unknown exit code: it is reported as 255
with reason "Unknown", as containerd reports a lost exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc import bundle, cgroups, records
from kubelite.kubelet.runtime.runc.binary import Runc
from kubelite.kubelet.runtime.runc.bundle import ImageLayers
from kubelite.kubelet.runtime.runc.reaper import subreaper, wait_for_exit
from kubelite.kubelet.runtime.runc.records import ContainerRecord, SandboxRecord
from kubelite.kubelet.runtime.runc.spec import SandboxView
from kubelite.kubelet.runtime.runc.stdio import (
    CONSOLE_SOCKET,
    ContainerIO,
    console_socket,
    receive_terminal,
)

log = logging.getLogger(__name__)

UNKNOWN_EXIT_CODE = 255
# How long an exited container's output may take to drain into its log (a process
# that escaped into the host's pid namespace can hold the pipes open).
DRAIN_TIMEOUT = 2.0
KILL_TIMEOUT = 10.0


@dataclass(slots=True)
class LiveContainer:
    record: ContainerRecord
    directory: Path
    io: ContainerIO
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    watcher: asyncio.Task[None] | None = None

    @property
    def is_running(self) -> bool:
        return self.record.state == cri.ContainerState.RUNNING and not self.exited.is_set()


class Containers:
    def __init__(self, *, root: Path, runc: Runc, images: ImageLayers, cgroup_root: str) -> None:
        self.root = root  # <root>/containers
        self.runc = runc
        self.images = images
        self.cgroup_root = cgroup_root
        self.live: dict[str, LiveContainer] = {}

    def get(self, container_id: str) -> LiveContainer:
        live = self.live.get(container_id)
        if live is None:
            raise cri.NotFound(f"container {container_id} not found")
        return live

    def of_sandbox(self, sandbox_id: str) -> list[LiveContainer]:
        return [live for live in self.live.values() if live.record.sandbox_id == sandbox_id]

    def _save(self, live: LiveContainer) -> None:
        records.save_container(live.directory / "container.json", live.record)

    async def recover(self) -> None:
        """Takes over the containers an earlier runtime left under the root."""
        for path in sorted(self.root.glob("*/container.json")):
            try:
                record = records.load_container(path)
            except (OSError, ValueError, KeyError, TypeError) as err:
                log.warning("skipping the unreadable container record %s: %s", path, err)
                continue
            io = ContainerIO(path.parent, stdin=record.stdin, stdin_once=record.stdin_once, tty=record.tty)
            live = LiveContainer(record, path.parent, io)
            self.live[record.id] = live
            if record.state == cri.ContainerState.EXITED:
                live.exited.set()
                continue
            state = await self.runc.state(record.id)
            if state is None or state["status"] == "stopped":
                self._finish(live, None)
                continue
            live.io.reopen()
            live.io.start_pump(record.log_path)
            live.watcher = asyncio.create_task(self._watch(live))

    async def close(self) -> None:
        """Lets go of every container without stopping it; what was read of their
        output is in their logs when this returns."""
        for live in self.live.values():
            if live.watcher is not None:
                live.watcher.cancel()
            await live.io.aclose()
        self.live.clear()

    async def create(
        self, pod: SandboxRecord, view: SandboxView, config: cri.ContainerConfig
    ) -> str:
        layers, image_config = bundle.image_of(self.images, config.image)
        container_id = secrets.token_hex(32)
        directory = self.root / container_id
        directory.mkdir(parents=True)
        log_dir = pod.config.log_directory
        log_path = os.path.join(log_dir, config.log_path) if log_dir and config.log_path else ""
        record = ContainerRecord(
            id=container_id,
            sandbox_id=pod.id,
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
            host_pid=pod.config.host_pid,
            cgroups_path=cgroups.cgroups_path(self.cgroup_root, pod.config.cgroup_parent, container_id),
        )
        io = ContainerIO(directory, stdin=config.stdin, stdin_once=config.stdin_once, tty=config.tty)
        live = LiveContainer(record, directory, io)
        try:
            bundle_dir = bundle.make_bundle(
                directory,
                config=config,
                layers=layers,
                image_config=image_config,
                view=view,
                cgroups_path=record.cgroups_path,
            )
            await self._runc_create(live, bundle_dir)
        except BaseException:
            live.io.close()
            with contextlib.suppress(Exception):
                await self.runc.delete(container_id)
            bundle.remove_bundle(directory)
            cgroups.remove_cgroups(record.cgroup_paths, record.cgroups_path, self.cgroup_root)
            raise
        self.live[container_id] = live
        self._save(live)
        live.io.start_pump(log_path)
        live.watcher = asyncio.create_task(self._watch(live))
        return container_id

    async def _runc_create(self, live: LiveContainer, bundle_dir: Path) -> None:
        record = live.record
        stdin, stdout, stderr = live.io.open_for_create()
        pid_file = live.directory / "pid"
        console = console_socket(bundle_dir) if record.tty else None
        try:
            with subreaper():
                await self.runc.create(
                    record.id,
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
        record.cgroup_paths = self.runc.cgroup_paths(record.id)

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

    async def start(self, container_id: str) -> None:
        live = self.get(container_id)
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

    async def stop(self, container_id: str, timeout: float) -> None:
        live = self.get(container_id)
        if live.exited.is_set():
            return
        all_processes = live.record.host_pid  # no pid namespace of its own to end them
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

    async def remove(self, container_id: str) -> None:
        live = self.live.get(container_id)
        if live is None:
            return
        if not live.exited.is_set():
            await self.stop(container_id, 0)
        await self.runc.delete(container_id)
        live.io.close()
        if live.watcher is not None:
            live.watcher.cancel()
        bundle.remove_bundle(live.directory)
        cgroups.remove_cgroups(live.record.cgroup_paths, live.record.cgroups_path, self.cgroup_root)
        del self.live[container_id]
