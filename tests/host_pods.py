"""A node for streaming tests: the kubelet's HTTPS server over the host runtime, with
pods started straight through the runtime (real processes) and a `RunningPods` that
says which sandbox and containers each is. The pod workers are the kubelet core's;
this stands in for them only in saying what runs where."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelite.api.annotations import KUBELET_URL
from kubelite.client.rest import Client
from kubelite.kubelet import cri
from kubelite.kubelet.runtime.host import HostRuntime
from kubelite.kubelet.server.auth import Gate
from kubelite.kubelet.server.server import KubeletServer

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
                  namespace: str = "default", start: bool = True) -> Obj:
        """Creates the Pod (bound to this node) and, with `start`, runs its containers."""
        pod = await client.create("pods", {"metadata": {"name": name, "namespace": namespace},
                                           "spec": {"nodeName": NODE, "containers": [
                                               {"name": c, "image": "host"} for c in containers]}})
        meta = cri.PodSandboxMetadata(name, namespace, pod["metadata"]["uid"])
        config = cri.PodSandboxConfig(meta, hostname=name,
                                      log_directory=str(self.root / f"{namespace}_{name}"))
        record = _Pod(pod, await self.runtime.run_pod_sandbox(config))
        self._pods[(namespace, name)] = record
        statuses = []
        for container, command in containers.items():
            if start:
                await self.start(namespace, name, container, command)
                state: Obj = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
            else:
                state = {"waiting": {"reason": "ContainerCreating"}}
            statuses.append({"name": container, "image": "host", "imageID": "", "ready": start,
                             "restartCount": 0, "state": state})
        pod["status"] = {"phase": "Running" if start else "Pending",
                         "containerStatuses": statuses}
        record.obj = await client.update_status("pods", pod)
        return record.obj

    async def start(self, namespace: str, name: str, container: str,
                    command: Sequence[str]) -> str:
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
                                                   log_path=log), config)
        await self.runtime.start_container(container_id)
        record.containers.setdefault(container, []).append(
            (container_id, str(Path(config.log_directory) / log)))
        return container_id

    async def exited(self, namespace: str, name: str, container: str) -> cri.ContainerStatus:
        container_id = self.container_id(namespace, name, container)
        assert container_id is not None
        async with asyncio.timeout(10):
            while True:
                status = await self.runtime.container_status(container_id)
                if status.state is cri.ContainerState.EXITED:
                    return status
                await asyncio.sleep(0.02)


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A serving context for 127.0.0.1 with a throwaway certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NODE)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kubelet.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "kubelet.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "kubelet.crt", directory / "kubelet.key")
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
    try:
        await client.create("nodes", {"metadata": {"name": NODE, "annotations": {
            KUBELET_URL: f"https://127.0.0.1:{kubelet.port}"}}})
        yield Node(pods, kubelet, runtime)
    finally:
        await kubelet.stop()
        for sandbox in await runtime.list_pod_sandboxes():
            await runtime.remove_pod_sandbox(sandbox.id)
