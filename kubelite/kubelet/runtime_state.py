"""What the runtime holds of one pod, read back by its labels (upstream's
kubecontainer.PodStatus from GetPodStatus): its sandboxes and every container
instance, grouped by container name, newest first.

The kubelet keeps no state of its own about containers: each sync reads this view,
so a restarted kubelet finds its pods' sandboxes and containers (and their restart
counts, from the io.kubernetes.container.restartCount annotation) where it left them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from kubelite.kubelet import cri
from kubelite.kubelet.container_config import RESTART_COUNT
from kubelite.kubelet.sandbox_config import CONTAINER_NAME_LABEL, POD_UID_LABEL


def restart_count(container: cri.ContainerStatus) -> int:
    try:
        return int(container.annotations.get(RESTART_COUNT, container.metadata.attempt))
    except ValueError:
        return container.metadata.attempt


@dataclass
class PodRuntime:
    uid: str
    sandboxes: list[cri.PodSandboxStatus] = field(default_factory=list)  # newest first
    containers: dict[str, list[cri.ContainerStatus]] = field(default_factory=dict)

    @property
    def sandbox(self) -> cri.PodSandboxStatus | None:
        return self.sandboxes[0] if self.sandboxes else None

    @property
    def ready_sandbox(self) -> cri.PodSandboxStatus | None:
        sandbox = self.sandbox
        return sandbox if sandbox is not None and sandbox.state is cri.SandboxState.READY else None

    def latest(self, name: str) -> cri.ContainerStatus | None:
        instances = self.containers.get(name)
        return instances[0] if instances else None

    def previous(self, name: str) -> cri.ContainerStatus | None:
        instances = self.containers.get(name) or []
        return instances[1] if len(instances) > 1 else None

    def all_containers(self) -> list[cri.ContainerStatus]:
        return [c for instances in self.containers.values() for c in instances]

    def running(self) -> list[cri.ContainerStatus]:
        return [c for c in self.all_containers() if c.state is cri.ContainerState.RUNNING]


def group(uid: str, sandboxes: list[cri.PodSandboxStatus],
          containers: list[cri.ContainerStatus]) -> PodRuntime:
    mine = sorted((s for s in sandboxes if s.labels.get(POD_UID_LABEL) == uid),
                  key=lambda s: (s.metadata.attempt, s.created_at), reverse=True)
    by_name: dict[str, list[cri.ContainerStatus]] = defaultdict(list)
    for container in containers:
        if container.labels.get(POD_UID_LABEL) == uid:
            name = container.labels.get(CONTAINER_NAME_LABEL, container.metadata.name)
            by_name[name].append(container)
    for instances in by_name.values():
        instances.sort(key=lambda c: (restart_count(c), c.created_at), reverse=True)
    return PodRuntime(uid, mine, dict(by_name))


async def read(runtime: cri.RuntimeService, uid: str) -> PodRuntime:
    return group(uid, await runtime.list_pod_sandboxes(), await runtime.list_containers())


async def all_pods(runtime: cri.RuntimeService) -> dict[str, PodRuntime]:
    """Every pod the runtime holds, by uid (orphan cleanup at start)."""
    sandboxes = await runtime.list_pod_sandboxes()
    containers = await runtime.list_containers()
    uids = {s.labels.get(POD_UID_LABEL, "") for s in sandboxes}
    uids |= {c.labels.get(POD_UID_LABEL, "") for c in containers}
    return {uid: group(uid, sandboxes, containers) for uid in uids if uid}
