"""A node for streaming tests: the kubelet's HTTPS server over the host runtime, with
pods started straight through the runtime (real processes) and a `RunningPods` that
says which sandbox and containers each is. The pod workers are the kubelet core's;
this stands in for them only in saying what runs where."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelite.api.annotations import KUBELET_URL
from kubelite.client.rest import Client
from kubelite.kubelet import cri
from kubelite.kubelet.runtime.host import HostRuntime
from kubelite.kubelet.server.auth import Gate
from kubelite.kubelet.server.server import KubeletServer
from kubelite.machinery import errors
from kubelite.pki.self_signed import serving_certificate

Obj = dict[str, Any]
NODE = "node-1"


@dataclass
class _Pod:
    obj: Obj
    sandbox_id: str
    containers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> [(id, log)]


class HostPods:
    """RunningPods over pods this fixture started."""

    def __init__(self, runtime: HostRuntime, root: Path) -> None:
        self.runtime = runtime
        self.root = root
        self._pods: dict[tuple[str, str], _Pod] = {}
        self._tasks: list[asyncio.Future[None]] = []

    def sandbox_id(self, namespace: str, pod_name: str, pod_uid: str = "") -> str | None:
        pod = self._pods.get((namespace, pod_name))
        return pod.sandbox_id if pod else None

    def container_id(self, namespace: str, pod_name: str, container: str,
                     pod_uid: str = "") -> str | None:
        pod = self._pods.get((namespace, pod_name))
        runs = pod.containers.get(container) if pod else None
        return runs[-1][0] if runs else None

    def log_path(self, namespace: str, pod_name: str, container: str, *,
                 previous: bool = False) -> str | None:
        pod = self._pods.get((namespace, pod_name))
        runs = (pod.containers.get(container) or []) if pod else []
        index = -2 if previous else -1
        return runs[index][1] if len(runs) >= (2 if previous else 1) else None

    def pods(self) -> list[Obj]:
        return [p.obj for p in self._pods.values()]

    async def run(self, client: Client, name: str, containers: dict[str, Sequence[str]], *,
                  namespace: str = "default", start: bool = True, stdin: bool = False) -> Obj:
        """Creates the Pod (bound to this node) and, with `start`, runs its containers."""
        pod = await client.create("pods", {"metadata": {"name": name, "namespace": namespace},
                                           "spec": {"nodeName": NODE, "containers": [
                                               {"name": c, "image": "host", "command": list(cmd),
                                                "stdin": stdin}
                                               for c, cmd in containers.items()]}})
        return await self.adopt(client, pod, start=start)

    async def adopt(self, client: Client, pod: Obj, *, start: bool = True) -> Obj:
        """Runs a pod's containers (command and args, stdin and tty as its spec says) and
        reports them Running and Ready; with `start` False, waiting in ContainerCreating."""
        meta = pod["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        config = cri.PodSandboxConfig(
            cri.PodSandboxMetadata(name, namespace, meta["uid"]), hostname=name,
            log_directory=str(self.root / f"{namespace}_{name}"))
        record = _Pod(pod, await self.runtime.run_pod_sandbox(config))
        self._pods[(namespace, name)] = record
        statuses = []
        for container in pod["spec"]["containers"]:
            if start:
                await self.start(namespace, name, container["name"],
                                 [*(container.get("command") or ()), *(container.get("args") or ())],
                                 stdin=bool(container.get("stdin")), tty=bool(container.get("tty")))
                state: Obj = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
                self._tasks.append(asyncio.ensure_future(
                    self._report_exit(client, namespace, name, container["name"])))
            else:
                state = {"waiting": {"reason": "ContainerCreating"}}
            statuses.append({"name": container["name"], "image": "host", "imageID": "",
                             "ready": start, "restartCount": 0, "state": state})
        ready = "True" if start else "False"
        pod["status"] = {"phase": "Running" if start else "Pending",
                         "conditions": [{"type": "Ready", "status": ready}],
                         "containerStatuses": statuses}
        record.obj = await client.update_status("pods", pod)
        return record.obj

    async def _report_exit(self, client: Client, namespace: str, name: str,
                           container: str) -> None:
        """What a pod worker reports when a container of a restartPolicy Never pod ends."""
        status = await self.exited(namespace, name, container, timeout=None)
        for _ in range(10):
            pod = await client.get("pods", name, namespace=namespace)
            for entry in pod["status"]["containerStatuses"]:
                if entry["name"] == container:
                    entry["state"] = {"terminated": {"exitCode": status.exit_code,
                                                     "reason": status.reason}}
                    entry["ready"] = False
            states = [e["state"] for e in pod["status"]["containerStatuses"]]
            if all("terminated" in s for s in states):
                failed = any(s["terminated"]["exitCode"] for s in states)
                pod["status"]["phase"] = "Failed" if failed else "Succeeded"
            try:
                await client.update_status("pods", pod)
                return
            except errors.Conflict:
                continue
            except errors.NotFound:
                return

    async def work(self, client: Client) -> None:
        """Binds to this node every pod created unscheduled with image `host`, and runs
        it (a scheduler's and a pod worker's part, for `kubectl run`)."""
        async for kind, pod in client.watch("pods", field_selector="spec.nodeName="):
            images = {c.get("image") for c in pod["spec"]["containers"]}
            if kind != "ADDED" or pod["metadata"].get("deletionTimestamp") or images != {"host"}:
                continue
            await client.bind(pod["metadata"]["name"], NODE,
                              namespace=pod["metadata"]["namespace"])
            pod = await client.get("pods", pod["metadata"]["name"],
                                   namespace=pod["metadata"]["namespace"])
            await self.adopt(client, pod)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def start(self, namespace: str, name: str, container: str,
                    command: Sequence[str], *, stdin: bool = False, tty: bool = False) -> str:
        """Starts (another instance of) a container of a pod."""
        record = self._pods[(namespace, name)]
        attempt = len(record.containers.get(container, []))
        sandbox = await self.runtime.pod_sandbox_status(record.sandbox_id)
        config = cri.PodSandboxConfig(sandbox.metadata, hostname=name,
                                      log_directory=str(self.root / f"{namespace}_{name}"))
        log = f"{container}/{attempt}.log"
        container_id = await self.runtime.create_container(
            record.sandbox_id, cri.ContainerConfig(cri.ContainerMetadata(container, attempt),
                                                   image="host", command=tuple(command),
                                                   log_path=log, stdin=stdin, tty=tty), config)
        await self.runtime.start_container(container_id)
        record.containers.setdefault(container, []).append(
            (container_id, str(Path(config.log_directory) / log)))
        return container_id

    async def exited(self, namespace: str, name: str, container: str,
                     timeout: float | None = 10) -> cri.ContainerStatus:
        container_id = self.container_id(namespace, name, container)
        assert container_id is not None
        async with asyncio.timeout(timeout):
            while True:
                status = await self.runtime.container_status(container_id)
                if status.state is cri.ContainerState.EXITED:
                    return status
                await asyncio.sleep(0.02)


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A serving context for 127.0.0.1 with the certificate a kubelet makes for itself."""
    cert, key = serving_certificate(directory, NODE, ["127.0.0.1"])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@dataclass
class Node:
    pods: HostPods
    kubelet: KubeletServer
    runtime: HostRuntime


@contextlib.asynccontextmanager
async def host_node(client: Client, root: Path, *, gate: Gate | None = None
                    ) -> AsyncIterator[Node]:
    """A Node object and its kubelet's server over the host runtime; every sandbox it
    made is removed (its processes killed) after the block."""
    runtime = HostRuntime(root / "host", "127.0.0.1")
    pods = HostPods(runtime, root / "logs")
    kubelet = KubeletServer(NODE, runtime, pods, gate=gate,
                            ssl_context=self_signed_context(root / "tls"), host="127.0.0.1",
                            port=0)
    await kubelet.start()
    worker = asyncio.ensure_future(pods.work(client))
    try:
        await client.create("nodes", {"metadata": {"name": NODE, "annotations": {
            KUBELET_URL: f"https://127.0.0.1:{kubelet.port}"}}})
        yield Node(pods, kubelet, runtime)
    finally:
        worker.cancel()
        pods.close()
        await kubelet.stop()
        for sandbox in await runtime.list_pod_sandboxes():
            await runtime.remove_pod_sandbox(sandbox.id)
