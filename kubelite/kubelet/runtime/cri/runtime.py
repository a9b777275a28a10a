"""CRIRuntime: kubelite's cri.RuntimeService as a client of a CRI runtime's socket
(containerd's CRI plugin, CRI-O), the way upstream's kubelet talks to one
(pkg/kubelet/cri/remote/remote_runtime.go).

Every call carries a deadline (connection.py). Where kubelite's interface hands back
more than one CRI call does, the client makes the calls upstream's kubelet makes:

- list_pod_sandboxes: ListPodSandbox, then PodSandboxStatus of each ready sandbox
  for its IPs (the list has none); a sandbox removed in between is left out;
- list_containers: ListContainers, then ContainerStatus of each (exit codes, times,
  reasons and log paths are only there); a container removed in between is left out;
- container_status: ContainerStatus says no sandbox id, so the client remembers each
  container's sandbox from CreateContainer and ListContainers, and asks ListContainers
  (filtered by id) for one it has not seen.

Exec, Attach and PortForward answer a URL on the runtime's own streaming server
(cri.StreamingURLs); the kubelet's server proxies a client's upgrade request there.

Given a state directory, the client also writes each pod's /etc/hosts as upstream's
kubelet does (its managed etc-hosts: localhost, the pod's IP and hostname, and
spec.hostAliases; a hostNetwork pod gets the node's with the aliases) and mounts it
into every container, where a CRI runtime would mount a hosts file of its own that
knows nothing of hostAliases.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import shutil
from collections.abc import Sequence
from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.network import dns
from kubelite.kubelet.runtime.cri import convert
from kubelite.kubelet.runtime.cri.connection import Connection
from kubelite.kubelet.runtime.cri.proto import api_pb2 as pb

API_VERSION = "v1"
# ExecSync with no timeout (the kubelet server's /run): still a deadline, never a hang
UNBOUNDED_EXEC_SECONDS = 600.0


class CRIRuntime:
    def __init__(self, connection: Connection, *, cgroup_root: str = "/kubelite",
                 state_dir: Path | None = None) -> None:
        """`cgroup_root`: where the pods' cgroups go (as the runc runtime's);
        `state_dir`: where the pods' managed /etc/hosts files are kept (None: the
        runtime's own hosts file, without hostAliases)."""
        self.connection = connection
        self.cgroup_root = cgroup_root
        self.state_dir = state_dir
        self._stub = connection.runtime
        self._sandbox_of: dict[str, str] = {}  # container id -> its sandbox's id

    # ------------------------------------------------------------ runtime
    async def version(self) -> cri.RuntimeVersion:
        answer = await self.connection.call(self._stub.Version,
                                            pb.VersionRequest(version=API_VERSION), "Version")
        return cri.RuntimeVersion(answer.runtime_name, answer.runtime_version,
                                  answer.runtime_api_version or API_VERSION)

    async def status(self) -> list[cri.RuntimeCondition]:
        answer = await self.connection.call(self._stub.Status, pb.StatusRequest(), "Status")
        return [cri.RuntimeCondition(c.type, c.status, c.reason, c.message)
                for c in answer.status.conditions]

    # ------------------------------------------------------------ sandboxes
    async def run_pod_sandbox(self, config: cri.PodSandboxConfig) -> str:
        request = pb.RunPodSandboxRequest(config=convert.sandbox_config(config, self.cgroup_root))
        meta = config.metadata
        try:
            answer = await self.connection.call(
                self._stub.RunPodSandbox, request,
                f"RunPodSandbox {meta.namespace}/{meta.name}")
        except cri.CRIError as exc:
            raise cri.CRIError(str(exc), "CreatePodSandboxError") from None
        return str(answer.pod_sandbox_id)

    async def stop_pod_sandbox(self, pod_sandbox_id: str) -> None:
        try:
            await self.connection.call(self._stub.StopPodSandbox,
                                       pb.StopPodSandboxRequest(pod_sandbox_id=pod_sandbox_id),
                                       f"StopPodSandbox {pod_sandbox_id}")
        except cri.NotFound:
            pass  # idempotent: a sandbox that is gone is stopped

    async def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        try:
            await self.connection.call(self._stub.RemovePodSandbox,
                                       pb.RemovePodSandboxRequest(pod_sandbox_id=pod_sandbox_id),
                                       f"RemovePodSandbox {pod_sandbox_id}")
        except cri.NotFound:
            pass
        if self.state_dir is not None:
            shutil.rmtree(self.state_dir / pod_sandbox_id, ignore_errors=True)
        for container_id, sandbox_id in list(self._sandbox_of.items()):
            if sandbox_id == pod_sandbox_id:
                del self._sandbox_of[container_id]

    async def pod_sandbox_status(self, pod_sandbox_id: str) -> cri.PodSandboxStatus:
        answer = await self.connection.call(
            self._stub.PodSandboxStatus, pb.PodSandboxStatusRequest(pod_sandbox_id=pod_sandbox_id),
            f"PodSandboxStatus {pod_sandbox_id}")
        return convert.sandbox_status(answer.status)

    async def list_pod_sandboxes(self) -> list[cri.PodSandboxStatus]:
        answer = await self.connection.call(self._stub.ListPodSandbox, pb.ListPodSandboxRequest(),
                                            "ListPodSandbox")
        items = [convert.sandbox_item(item) for item in answer.items]

        async def with_network(item: cri.PodSandboxStatus) -> cri.PodSandboxStatus | None:
            if item.state is not cri.SandboxState.READY:
                return item
            try:
                return await self.pod_sandbox_status(item.id)
            except cri.NotFound:
                return None

        found = await asyncio.gather(*(with_network(item) for item in items))
        return [s for s in found if s is not None]

    # ------------------------------------------------------------ containers
    async def create_container(self, pod_sandbox_id: str, config: cri.ContainerConfig,
                               sandbox_config: cri.PodSandboxConfig) -> str:
        if self.state_dir is not None and not any(
                m.container_path == "/etc/hosts" for m in config.mounts):
            hosts = await self._hosts_file(pod_sandbox_id, sandbox_config)
            config = dataclasses.replace(config, mounts=(
                *config.mounts, cri.Mount("/etc/hosts", str(hosts))))
        request = pb.CreateContainerRequest(
            pod_sandbox_id=pod_sandbox_id,
            config=convert.container_config(config, sandbox_config),
            sandbox_config=convert.sandbox_config(sandbox_config, self.cgroup_root))
        try:
            answer = await self.connection.call(
                self._stub.CreateContainer, request,
                f"CreateContainer {config.metadata.name} in {pod_sandbox_id}")
        except cri.CRIError as exc:
            raise cri.CRIError(str(exc), "CreateContainerError") from None
        container_id = str(answer.container_id)
        self._sandbox_of[container_id] = pod_sandbox_id
        return container_id

    async def _hosts_file(self, pod_sandbox_id: str, config: cri.PodSandboxConfig) -> Path:
        assert self.state_dir is not None
        path = self.state_dir / pod_sandbox_id / "hosts"
        if path.exists():
            return path
        if config.host_network:
            text = dns.host_network_hosts_file(Path("/etc/hosts").read_text(errors="replace"),
                                               config.host_aliases)
        else:
            status = await self.pod_sandbox_status(pod_sandbox_id)
            text = dns.hosts_file(status.ips, config.hostname or config.metadata.name,
                                  host_aliases=config.host_aliases)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    async def start_container(self, container_id: str) -> None:
        try:
            await self.connection.call(self._stub.StartContainer,
                                       pb.StartContainerRequest(container_id=container_id),
                                       f"StartContainer {container_id}")
        except cri.NotFound:
            raise
        except cri.CRIError as exc:
            raise cri.CRIError(str(exc), "RunContainerError") from None

    async def stop_container(self, container_id: str, timeout: float) -> None:
        seconds = max(0, math.ceil(timeout))
        # the runtime waits `seconds` before SIGKILL: the deadline allows for that
        await self.connection.call(
            self._stub.StopContainer,
            pb.StopContainerRequest(container_id=container_id, timeout=seconds),
            f"StopContainer {container_id}", timeout=self.connection.timeout + seconds)

    async def remove_container(self, container_id: str) -> None:
        try:
            await self.connection.call(self._stub.RemoveContainer,
                                       pb.RemoveContainerRequest(container_id=container_id),
                                       f"RemoveContainer {container_id}")
        except cri.NotFound:
            pass
        self._sandbox_of.pop(container_id, None)

    async def container_status(self, container_id: str) -> cri.ContainerStatus:
        answer = await self.connection.call(
            self._stub.ContainerStatus, pb.ContainerStatusRequest(container_id=container_id),
            f"ContainerStatus {container_id}")
        sandbox_id = self._sandbox_of.get(container_id)
        if sandbox_id is None:
            listed = await self.connection.call(
                self._stub.ListContainers,
                pb.ListContainersRequest(filter=pb.ContainerFilter(id=container_id)),
                f"ListContainers {container_id}")
            for item in listed.containers:
                self._sandbox_of[item.id] = sandbox_id = item.pod_sandbox_id
        return convert.container_status(answer.status, sandbox_id or "")

    async def list_containers(self, pod_sandbox_id: str | None = None) -> list[cri.ContainerStatus]:
        request = pb.ListContainersRequest(
            filter=pb.ContainerFilter(pod_sandbox_id=pod_sandbox_id or ""))
        answer = await self.connection.call(self._stub.ListContainers, request, "ListContainers")
        for item in answer.containers:
            self._sandbox_of[item.id] = item.pod_sandbox_id

        async def status(item: pb.Container) -> cri.ContainerStatus | None:
            try:
                return await self.container_status(item.id)
            except cri.NotFound:
                return None

        found = await asyncio.gather(*(status(item) for item in answer.containers))
        return [s for s in found if s is not None]

    # ------------------------------------------------------------ exec
    async def exec_sync(self, container_id: str, cmd: Sequence[str],
                        timeout: float) -> cri.ExecSyncResult:
        seconds = math.ceil(timeout) if timeout > 0 else 0
        request = pb.ExecSyncRequest(container_id=container_id, cmd=list(cmd), timeout=seconds)
        # the runtime ends the command at `timeout`; the call's own deadline comes later
        deadline = self.connection.timeout + (seconds or UNBOUNDED_EXEC_SECONDS)
        what = f"ExecSync {list(cmd)} in {container_id}"
        try:
            answer = await self.connection.call(self._stub.ExecSync, request, what,
                                                timeout=deadline)
        except cri.NotFound:
            raise
        except cri.CRIError as exc:
            # containerd answers a command past its timeout with "timeout 1s exceeded"
            if exc.reason == "DeadlineExceeded" or (seconds and "exceeded" in str(exc)):
                raise cri.CRIError(f"{what}: command timed out after {timeout}s",
                                   "Timeout") from None
            raise
        return cri.ExecSyncResult(answer.stdout, answer.stderr, answer.exit_code)

    # ------------------------------------------------------------ streaming
    async def exec_url(self, container_id: str, cmd: Sequence[str], *, tty: bool,
                       stdin: bool, stdout: bool = True, stderr: bool = True) -> str:
        """The runtime's streaming URL for an exec session (upstream's GetExec)."""
        answer = await self.connection.call(
            self._stub.Exec,
            pb.ExecRequest(container_id=container_id, cmd=list(cmd), tty=tty, stdin=stdin,
                           stdout=stdout, stderr=stderr and not tty),
            f"Exec {list(cmd)} in {container_id}")
        return str(answer.url)

    async def attach_url(self, container_id: str, *, tty: bool, stdin: bool,
                         stdout: bool = True, stderr: bool = True) -> str:
        answer = await self.connection.call(
            self._stub.Attach,
            pb.AttachRequest(container_id=container_id, tty=tty, stdin=stdin, stdout=stdout,
                             stderr=stderr and not tty),
            f"Attach {container_id}")
        return str(answer.url)

    async def port_forward_url(self, pod_sandbox_id: str, ports: Sequence[int] = ()) -> str:
        answer = await self.connection.call(
            self._stub.PortForward,
            pb.PortForwardRequest(pod_sandbox_id=pod_sandbox_id, port=list(ports)),
            f"PortForward {pod_sandbox_id}")
        return str(answer.url)

    async def exec(self, container_id: str, cmd: Sequence[str], *, tty: bool,
                   stdin: bool) -> cri.StreamingProcess:
        raise cri.CRIError("a CRI runtime streams exec from its own server: the kubelet "
                           "proxies to exec_url", "StreamingRedirect")

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> cri.StreamingProcess:
        raise cri.CRIError("a CRI runtime streams attach from its own server: the kubelet "
                           "proxies to attach_url", "StreamingRedirect")

    async def port_forward(self, pod_sandbox_id: str,
                           port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        raise cri.CRIError("a CRI runtime forwards ports from its own server: the kubelet "
                           "proxies to port_forward_url", "StreamingRedirect")

    # ------------------------------------------------------------ stats
    async def container_stats(self, container_id: str) -> cri.ContainerStats:
        answer = await self.connection.call(
            self._stub.ContainerStats, pb.ContainerStatsRequest(container_id=container_id),
            f"ContainerStats {container_id}")
        return convert.container_stats(answer.stats, self._sandbox_of.get(container_id, ""))

    async def list_container_stats(self) -> list[cri.ContainerStats]:
        if not self._sandbox_of:
            await self.list_containers()
        answer = await self.connection.call(self._stub.ListContainerStats,
                                            pb.ListContainerStatsRequest(), "ListContainerStats")
        return [convert.container_stats(s, self._sandbox_of.get(s.attributes.id, ""))
                for s in answer.stats]
