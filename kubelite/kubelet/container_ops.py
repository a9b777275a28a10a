"""Starting and stopping one container of a pod (kuberuntime_container.go
startContainer, killContainer), and everything around it: the image, the
environment, the volumes' mounts, the events, the postStart and preStop hooks.

start: image (image_puller.py) -> ConfigMaps/Secrets for env -> CreateContainer ->
StartContainer -> postStart. A failure is a Waiting reason (ErrImagePull,
ImagePullBackOff, ErrImageNeverPull, CreateContainerConfigError, CreateContainerError,
RunContainerError) kept for the status until a start succeeds; a failed postStart
hook kills the container (FailedPostStartHook), as upstream.

kill: preStop (when the container runs and has one) within the grace period, then
StopContainer with what is left of it, at least 2 s (upstream's
minimumGracePeriodInSeconds). Events: Killing, FailedPreStopHook.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.client.rest import Client
from kubelite.kubelet import cri, parts
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.container_config import container_config
from kubelite.kubelet.env import EnvError, PodFacts, load_sources, make_environment
from kubelite.kubelet.image_puller import ImageError, ImagePuller
from kubelite.kubelet.pod_status import Waiting
from kubelite.kubelet.service_env import service_env, services_for_pod

log = logging.getLogger(__name__)

Obj = dict[str, Any]

MINIMUM_GRACE_PERIOD = 2.0


def grace_period(pod: Obj) -> float:
    """The deletion's grace period while the pod is being deleted, else the spec's."""
    meta = pod.get("metadata") or {}
    if meta.get("deletionTimestamp") and meta.get("deletionGracePeriodSeconds") is not None:
        return float(meta["deletionGracePeriodSeconds"])
    grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    return 30.0 if grace is None else float(grace)


@dataclass
class PodContext:
    """What one pod's sync needs about its sandbox while it starts containers."""

    sandbox_id: str
    sandbox_config: cri.PodSandboxConfig
    pod_ip: str
    volume_paths: Mapping[str, str] = field(default_factory=dict)


class ContainerOps:
    def __init__(self, client: Client, config: KubeletConfig, runtime: cri.RuntimeService,
                 puller: ImagePuller, recorder: EventRecorder, volumes: parts.Volumes | None,
                 hooks: parts.Hooks | None, *, host_ip: str, memory_capacity: int,
                 allocatable: Mapping[str, str], services: Any) -> None:
        """`services()` returns the Services the kubelet knows (its informer's list)."""
        self.client = client
        self.config = config
        self.runtime = runtime
        self.puller = puller
        self.recorder = recorder
        self.volumes = volumes
        self.hooks = hooks
        self.host_ip = host_ip
        self.memory_capacity = memory_capacity
        self.allocatable = allocatable
        self.services = services
        self.waiting: dict[str, dict[str, Waiting]] = {}  # uid -> container -> why it waits

    def reasons(self, uid: str) -> dict[str, Waiting]:
        return self.waiting.setdefault(uid, {})

    def _fail(self, pod: Obj, name: str, reason: str, message: str, *, event: bool = True) -> None:
        self.reasons(pod["metadata"]["uid"])[name] = Waiting(reason, message)
        if event:
            self.recorder.event(pod, WARNING, "Failed", f"Error: {message or reason}")

    async def start(self, pod: Obj, container: Obj, ctx: PodContext, restart_count: int) -> str | None:
        """Start one instance; its runtime id, or None when it could not (the reason
        is recorded for the status)."""
        name = container["name"]
        uid = pod["metadata"]["uid"]
        try:
            image = await self.puller.ensure(pod, container)
        except ImageError as err:
            self.reasons(uid)[name] = Waiting(err.reason, err.message)
            return None
        try:
            sources = await load_sources(self.client, pod)
            facts = PodFacts(self.host_ip, (ctx.pod_ip,) if ctx.pod_ip else (), self.allocatable)
            env, skipped = make_environment(
                pod, container, sources, facts,
                service_env(services_for_pod(pod, self.services())))
            if skipped:
                self.recorder.event(pod, WARNING, "InvalidEnvironmentVariableNames",
                                    f"Keys [{', '.join(skipped)}] from the EnvFrom configMap "
                                    f"were skipped since they are considered invalid "
                                    f"environment variable names.")
            mounts = (list(self.volumes.container_mounts(pod, container, ctx.volume_paths))
                      if self.volumes is not None else [])
            config = container_config(pod, container, restart_count=restart_count, image=image,
                                      env=env, mounts=mounts,
                                      memory_capacity=self.memory_capacity)
        except (EnvError, ValueError) as err:
            self._fail(pod, name, "CreateContainerConfigError", str(err))
            return None
        try:
            container_id = await self.runtime.create_container(ctx.sandbox_id, config,
                                                               ctx.sandbox_config)
        except cri.CRIError as err:
            reason = err.reason if err.reason == "CreateContainerConfigError" else "CreateContainerError"
            self._fail(pod, name, reason, str(err))
            return None
        self.recorder.event(pod, NORMAL, "Created", f"Created container: {name}")
        try:
            await self.runtime.start_container(container_id)
        except cri.CRIError as err:
            self._fail(pod, name, "RunContainerError", str(err))
            return container_id
        self.recorder.event(pod, NORMAL, "Started", f"Started container {name}")
        self.reasons(uid).pop(name, None)
        post_start = (container.get("lifecycle") or {}).get("postStart")
        if post_start and self.hooks is not None:
            failure = await self.hooks.run(pod, container, container_id, ctx.pod_ip, post_start)
            if failure is not None:
                self.recorder.event(pod, WARNING, "FailedPostStartHook", failure)
                await self.kill(pod, container, container_id, ctx.pod_ip,
                                reason="FailedPostStartHook", message=failure)
        return container_id

    async def kill(self, pod: Obj, container: Obj | None, container_id: str, pod_ip: str, *,
                   grace: float | None = None, reason: str = "",
                   message: str = "", name: str = "") -> None:
        """Stop one container gracefully: preStop, then SIGTERM and SIGKILL after the
        rest of the grace period."""
        name = container["name"] if container is not None else name
        budget = grace_period(pod) if grace is None else grace
        started = time.monotonic()
        self.recorder.event(pod, NORMAL, "Killing", message or f"Stopping container {name}")
        pre_stop = ((container or {}).get("lifecycle") or {}).get("preStop")
        if pre_stop and self.hooks is not None and container is not None and budget > 0:
            try:
                status = await self.runtime.container_status(container_id)
            except cri.NotFound:
                return
            if status.state is cri.ContainerState.RUNNING:
                failure = await self._pre_stop(pod, container, container_id, pod_ip, pre_stop,
                                               budget)
                if failure is not None:
                    self.recorder.event(pod, WARNING, "FailedPreStopHook", failure)
        left = max(MINIMUM_GRACE_PERIOD, budget - (time.monotonic() - started))
        if budget <= 0:
            left = 0
        try:
            await self.runtime.stop_container(container_id, left)
        except cri.NotFound:
            pass

    async def _pre_stop(self, pod: Obj, container: Obj, container_id: str, pod_ip: str,
                        handler: Obj, budget: float) -> str | None:
        assert self.hooks is not None
        try:
            async with asyncio.timeout(budget):
                return await self.hooks.run(pod, container, container_id, pod_ip, handler)
        except TimeoutError:
            return f"PreStopHook did not finish within the grace period of {budget:g}s"
