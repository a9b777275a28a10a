"""The parts of a kubelet that its pod workers lean on, as protocols.

The pod workers (upstream's pod_workers.go and kuberuntime's SyncPod) drive a pod's
sandbox and containers through the runtime (cri.py). Before a container is made they
need its volumes set up (upstream's volume manager) and after it starts its probes
run (the prober manager); both live in their own packages, and these protocols are
the whole of what the pod workers know of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from kubelite.kubelet import cri

Obj = dict[str, Any]


class VolumeError(Exception):
    """A pod's volume could not be set up. The message is what the kubelet's
    FailedMount event says, as upstream: `MountVolume.SetUp failed for volume "cfg" :
    configmap "app-config" not found`."""


class Volumes(Protocol):
    async def mount_pod(self, pod: Obj) -> Mapping[str, str]:
        """Sets up every volume of the pod (idempotent) and returns, by volume name,
        the host path a container mounts. Raises VolumeError."""
        ...

    def container_mounts(
        self, pod: Obj, container: Obj, volume_paths: Mapping[str, str]
    ) -> Sequence[cri.Mount]:
        """The container's volumeMounts (subPath, readOnly, mountPropagation) as CRI
        mounts, and /dev/termination-log (terminationMessagePath)."""
        ...

    async def unmount_pod(self, pod_uid: str) -> None:
        """Tears down the pod's volumes once its containers are gone (idempotent)."""
        ...


class Probes(Protocol):
    """Upstream's prober manager: one worker per probe of a running container."""

    def update_pod(self, pod: Obj, pod_ip: str, container_ids: Mapping[str, str]) -> None:
        """Starts or stops the probe workers to match the pod's running containers
        (container name -> runtime id; a new id restarts that container's workers)."""
        ...

    def remove_pod(self, pod_uid: str) -> None: ...

    def ready(self, pod_uid: str, container_name: str) -> bool:
        """The readiness result: True without a readinessProbe once started."""
        ...

    def started(self, pod_uid: str, container_name: str) -> bool:
        """The startup result: True without a startupProbe."""
        ...

    def liveness_failed(self, pod_uid: str, container_name: str) -> bool:
        """Whether the liveness probe has failed failureThreshold times in a row
        (the pod worker then restarts the container, as upstream)."""
        ...

    def on_change(self, callback: Callable[[str], None]) -> None:
        """`callback(pod_uid)` whenever a result changes, so the pod is synced again."""
        ...


class Hooks(Protocol):
    async def run(self, pod: Obj, container: Obj, container_id: str, pod_ip: str, handler: Obj) -> str | None:
        """Runs a postStart or preStop handler (exec, httpGet, tcpSocket, sleep); returns
        None on success, else the error message of the FailedPostStartHook /
        FailedPreStopHook event."""
        ...


class RunningPods(Protocol):
    """What the kubelet's own HTTPS server (logs, exec, attach, port-forward, stats)
    asks the pod workers: which runtime objects a pod and its containers are now."""

    def sandbox_id(self, namespace: str, pod_name: str, pod_uid: str = "") -> str | None:
        """The pod's running sandbox, or None (unknown pod, or not started)."""
        ...

    def container_id(self, namespace: str, pod_name: str, container: str, pod_uid: str = "") -> str | None:
        """The id of the container's newest instance (running or exited), or None."""
        ...

    def log_path(
        self, namespace: str, pod_name: str, container: str, *, previous: bool = False
    ) -> str | None:
        """The container's log file (CRI format): the current instance's, or with
        `previous` the one before it (kubectl logs --previous); None if there is none."""
        ...

    def pods(self) -> list[Obj]:
        """The pods the kubelet runs, with their status as it last reported them
        (the kubelet's GET /pods)."""
        ...
