"""One pass of making a pod what its spec says (kubelet.go SyncPod / SyncTerminatingPod,
kuberuntime_manager.go computePodActions + SyncPod). Level-triggered: each pass reads
the runtime (runtime_state.py), acts, and posts the status; the pod worker
(pod_workers.py) runs passes one at a time per pod.

A pass over a live pod:
1. A pod reported terminal stays stopped. One past activeDeadlineSeconds is stopped
   and Failed with reason DeadlineExceeded.
2. Sandbox: without a ready one, the volumes are set up (FailedMount on error), older
   sandboxes stopped (SandboxChanged) and a new one made, attempt + 1. A pod that is
   not hostNetwork waits (NetworkNotReady) while the runtime's network is not ready,
   as before the node has its podCIDR.
3. Init containers in order: a regular one runs to exit 0 before the next starts (a
   failure restarts it, or under restartPolicy Never fails the pod); a sidecar
   (restartPolicy Always) is started and must be started (startup probe) before the
   next one, and is restarted whenever it exits.
4. App containers, once initialized: each started; an exited one restarted as
   restartPolicy says (Always; OnFailure on a non-zero exit), a running one whose
   liveness probe failed killed and restarted. Restarts wait out the crash-loop
   back-off (CrashLoopBackOff, 10 s doubling to 5 min; a container that ran 10 min
   starts afresh).
5. restartPolicy Never/OnFailure with every app container done: the pod is finished;
   sidecars stop (last first), the sandbox stops, its probes stop and its volumes are
   torn down, the phase is Succeeded or Failed (and stays: a later pass only makes
   sure nothing runs).
6. Status posted (status_manager.py) and the probes told the running containers.

The eviction manager's kill (`evict`) is a finish with its grace period and reason
Evicted; a pod admission refuses (`reject`) is posted Failed without starting.

A pod being deleted (deletionTimestamp): every container killed with the deletion's
grace period (preStop, SIGTERM, SIGKILL), app containers first then sidecars last
first, the sandbox stopped, volumes torn down, a terminal status posted, then the
pod deleted for good (grace 0, uid precondition). Once the API no longer has it,
`cleanup` removes its sandboxes and containers.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from typing import Any

from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.kubelet import cri, parts, runtime_state
from kubelite.kubelet.backoff import Backoff
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.container_ops import ContainerOps, PodContext
from kubelite.kubelet.pod_status import TERMINAL, ProbeView, Waiting, generate, is_sidecar
from kubelite.kubelet.runtime_state import PodRuntime, restart_count
from kubelite.kubelet.sandbox_config import sandbox_config
from kubelite.kubelet.status_manager import StatusManager
from kubelite.machinery.timestamps import format_time, parse_rfc3339

log = logging.getLogger(__name__)

Obj = dict[str, Any]

KEEP_INSTANCES = 2  # per container: the current one and the previous (logs --previous)


def go_duration(seconds: float) -> str:
    """time.Duration's String for whole seconds: 10s, 1m20s, 5m0s."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s" if whole == seconds else f"{seconds:g}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{secs}s"


def should_restart(policy: str, exit_code: int) -> bool:
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return exit_code != 0
    return True


class PodSyncer:
    def __init__(self, config: KubeletConfig, runtime: cri.RuntimeService, ops: ContainerOps,
                 status: StatusManager, recorder: EventRecorder, volumes: parts.Volumes | None,
                 probes: parts.Probes | None, *, host_ip: str, scheme: str) -> None:
        self.config = config
        self.runtime = runtime
        self.ops = ops
        self.status = status
        self.recorder = recorder
        self.volumes = volumes
        self.probes = probes
        self.host_ip = host_ip
        self.scheme = scheme
        # crash loops are timed from containers' finishedAt, wall-clock nanoseconds
        self.crash_backoff = Backoff(config.crashloop_backoff_initial,
                                     config.crashloop_backoff_max, clock=time.time)
        self.contexts: dict[str, PodContext] = {}
        self.views: dict[str, PodRuntime] = {}

    # ------------------------------------------------------------------ passes
    async def sync(self, pod: Obj) -> float | None:
        """One pass; seconds until the pod needs another (a back-off ends), or None."""
        uid = pod["metadata"]["uid"]
        view = await self._read(uid)
        if pod["metadata"].get("deletionTimestamp"):
            await self.terminate(pod, view)
            return None
        if self._reported_terminal(pod):
            await self._finish(pod, view)
            return None
        deadline = self._deadline_left(pod)
        if deadline is not None and deadline <= 0:
            message = "Pod was active on the node longer than the specified deadline"
            self.recorder.event(pod, NORMAL, "DeadlineExceeded", message)
            await self._finish(pod, view, failure=("DeadlineExceeded", message))
            return None
        ctx, wait = await self._sandbox(pod, view)
        if ctx is None:
            await self._post(pod, view)
            return wait
        view = await self._read(uid)
        initialized, waits, failed = await self._init_containers(pod, view, ctx)
        if initialized:
            waits += await self._app_containers(pod, await self._read(uid), ctx)
        view = await self._read(uid)
        if failed or self._finished(pod, view):
            await self._finish(pod, view)
            return None
        if self.probes is not None:  # first: the status reads what they make of it
            self.probes.update_pod(pod, ctx.pod_ip, {
                name: instances[0].id for name, instances in view.containers.items()
                if instances and instances[0].state is cri.ContainerState.RUNNING})
        await self._post(pod, view)
        await self._trim(view)
        due = [w for w in [*waits, deadline] if w is not None]
        return min(due) if due else None

    async def terminate(self, pod: Obj, view: PodRuntime | None = None) -> None:
        """A deleted pod: stop everything gracefully, post its terminal status, and
        delete it for good."""
        await self._finish(pod, view or await self._read(pod["metadata"]["uid"]))
        await self.status.delete(pod)

    async def evict(self, pod: Obj, grace: float, message: str,
                    condition: Obj | None = None) -> None:
        """The eviction manager's kill (killPodNow): every container stopped within
        `grace` seconds, and the pod Failed with reason Evicted, `message`, and
        `condition` (DisruptionTarget) among its conditions."""
        await self._finish(pod, await self._read(pod["metadata"]["uid"]),
                           failure=("Evicted", message), grace=grace, condition=condition)

    async def reject(self, pod: Obj, reason: str, message: str) -> None:
        """Admission refused the pod (rejectPod): it never starts and is Failed with
        `reason` and "Pod was rejected: <message>"."""
        self.recorder.event(pod, WARNING, reason, message)
        await self._post(pod, await self._read(pod["metadata"]["uid"]), terminal=True,
                         failure=(reason, f"Pod was rejected: {message}"))

    async def _finish(self, pod: Obj, view: PodRuntime, *,
                      failure: tuple[str, str] | None = None, grace: float | None = None,
                      condition: Obj | None = None) -> None:
        """Stop the pod for good: containers (within `grace`, else the pod's own grace
        period), sandbox, probes, volumes; then its terminal status."""
        uid = pod["metadata"]["uid"]
        await self._stop_all(pod, view, grace=grace)
        if self.probes is not None:
            self.probes.remove_pod(uid)
        if self.volumes is not None:
            await self.volumes.unmount_pod(uid)
        await self._post(pod, await self._read(uid), terminal=True, failure=failure,
                         condition=condition)

    async def cleanup(self, uid: str) -> None:
        """The pod is gone from the API: remove what the runtime still has of it."""
        view = await self._read(uid)
        for container in view.running():
            await self.runtime.stop_container(container.id, 0)
        for sandbox in view.sandboxes:
            await self.runtime.remove_pod_sandbox(sandbox.id)
        for container in view.all_containers():
            await self.runtime.remove_container(container.id)
        if self.probes is not None:
            self.probes.remove_pod(uid)
        if self.volumes is not None:
            await self.volumes.unmount_pod(uid)
        self.crash_backoff.forget_prefix(f"{uid}/")
        self.ops.waiting.pop(uid, None)
        self.contexts.pop(uid, None)
        self.views.pop(uid, None)
        self.status.forget(uid)

    # ----------------------------------------------------------------- helpers
    async def _read(self, uid: str) -> PodRuntime:
        view = await runtime_state.read(self.runtime, uid)
        self.views[uid] = view
        return view

    def _reported_terminal(self, pod: Obj) -> bool:
        return (self.status.effective(pod).get("status") or {}).get("phase") in TERMINAL

    def _deadline_left(self, pod: Obj) -> float | None:
        """Seconds until activeDeadlineSeconds runs out (<= 0: it has); None without one."""
        seconds = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        started = parse_rfc3339(str((pod.get("status") or {}).get("startTime") or ""))
        if not isinstance(seconds, int) or started is None:
            return None
        ends = started + datetime.timedelta(seconds=seconds)
        return (ends - self.config.clock()).total_seconds()

    async def _post(self, pod: Obj, view: PodRuntime, *, terminal: bool = False,
                    failure: tuple[str, str] | None = None, condition: Obj | None = None) -> None:
        """`condition`: one more pod condition to post (kept by later passes, as every
        condition the kubelet does not own)."""
        uid = pod["metadata"]["uid"]
        pod = self.status.effective(pod)
        if condition is not None:
            old = [c for c in (pod.get("status") or {}).get("conditions") or ()
                   if c.get("type") != condition["type"]]
            added = {**condition, "lastProbeTime": None,
                     "lastTransitionTime": format_time(self.config.clock())}
            pod = {**pod, "status": {**(pod.get("status") or {}), "conditions": [*old, added]}}
        probes = ProbeView(self.probes.ready, self.probes.started) if self.probes else ProbeView()
        status = generate(pod, view, host_ip=self.host_ip, scheme=self.scheme,
                          now=format_time(self.config.clock()), waiting=self.ops.reasons(uid),
                          probes=probes, failure=failure, terminal=terminal)
        await self.status.set_status(pod, status)

    async def _sandbox(self, pod: Obj, view: PodRuntime) -> tuple[PodContext | None, float | None]:
        uid = pod["metadata"]["uid"]
        ready = view.ready_sandbox
        ctx = self.contexts.get(uid)
        if ready is not None and ctx is not None and ctx.sandbox_id == ready.id:
            return ctx, None
        paths: dict[str, str] = {}
        if self.volumes is not None:
            try:
                paths = dict(await self.volumes.mount_pod(pod))
            except parts.VolumeError as err:
                self.recorder.event(pod, WARNING, "FailedMount", str(err))
                return None, self.config.volume_retry_interval
        if ready is not None:  # a sandbox made before the kubelet restarted
            config = sandbox_config(pod, self.config, attempt=ready.metadata.attempt)
            ctx = PodContext(ready.id, config, ready.ips[0] if ready.ips else self.host_ip, paths)
            self.contexts[uid] = ctx
            return ctx, None
        if not (pod.get("spec") or {}).get("hostNetwork"):
            problem = await self._network_not_ready()
            if problem is not None:
                self.recorder.event(pod, WARNING, "NetworkNotReady",
                                    f"network is not ready: {problem}")
                return None, self.config.volume_retry_interval
        attempt = 0
        if view.sandboxes:
            self.recorder.event(pod, NORMAL, "SandboxChanged",
                                "Pod sandbox changed, it will be killed and re-created.")
            await self._stop_all(pod, view)
            attempt = max(s.metadata.attempt for s in view.sandboxes) + 1
        config = sandbox_config(pod, self.config, attempt=attempt)
        try:
            sandbox_id = await self.runtime.run_pod_sandbox(config)
            status = await self.runtime.pod_sandbox_status(sandbox_id)
        except cri.CRIError as err:
            self.recorder.event(pod, WARNING, "FailedCreatePodSandBox",
                                f"Failed to create pod sandbox: {err}")
            return None, self.config.volume_retry_interval
        pod_ip = self.host_ip if status.host_network or not status.ips else status.ips[0]
        ctx = PodContext(sandbox_id, config, pod_ip, paths)
        self.contexts[uid] = ctx
        return ctx, None

    async def _network_not_ready(self) -> str | None:
        """Why pods cannot get a network now (no podCIDR yet), or None."""
        for condition in await self.runtime.status():
            if condition.type == "NetworkReady" and not condition.status:
                return (f"container runtime network not ready: NetworkReady=false "
                        f"reason:{condition.reason} message:{condition.message}")
        return None

    async def _start(self, pod: Obj, spec: Obj, latest: cri.ContainerStatus | None,
                     ctx: PodContext) -> float | None:
        """Start (or restart) one container, unless its crash-loop back-off lasts."""
        uid, name = pod["metadata"]["uid"], spec["name"]
        count = 0
        if latest is not None:
            count = restart_count(latest) + 1
            if latest.state is cri.ContainerState.CREATED:  # made, never started: redo it
                await self.runtime.remove_container(latest.id)
                count = restart_count(latest)
            elif latest.state is cri.ContainerState.EXITED:
                key = f"{uid}/{name}"
                finished = latest.finished_at / 1e9
                if self.crash_backoff.in_backoff_since(key, finished):
                    meta = pod["metadata"]
                    who = f"{meta['name']}_{meta.get('namespace') or 'default'}({uid})"
                    delay = self.crash_backoff.get(key)
                    self.ops.reasons(uid)[name] = Waiting(
                        "CrashLoopBackOff",
                        f"back-off {go_duration(delay)} restarting failed container={name} "
                        f"pod={who}")
                    self.recorder.event(pod, WARNING, "BackOff",
                                        f"Back-off restarting failed container {name} in pod {who}")
                    return self.crash_backoff.remaining(key, finished)
                self.crash_backoff.next(key, finished)
        started = await self.ops.start(pod, spec, ctx, count)
        if started is None:
            return max(self.ops.puller.remaining_backoff(pod, spec),
                       self.config.volume_retry_interval)
        return None

    async def _init_containers(self, pod: Obj, view: PodRuntime,
                               ctx: PodContext) -> tuple[bool, list[float | None], bool]:
        """(initialized, waits, failed for good)."""
        uid = pod["metadata"]["uid"]
        policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
        for spec in (pod.get("spec") or {}).get("initContainers") or ():
            name = spec["name"]
            latest = view.latest(name)
            running = latest is not None and latest.state is cri.ContainerState.RUNNING
            if is_sidecar(spec):
                if running and self._liveness_failed(uid, name):
                    await self.ops.kill(pod, spec, latest.id, ctx.pod_ip,  # type: ignore[union-attr]
                                        message=f"Container {name} failed liveness probe, "
                                                f"will be restarted")
                    latest = await self.runtime.container_status(latest.id)  # type: ignore[union-attr]
                    running = False
                if not running:
                    wait = await self._start(pod, spec, latest, ctx)
                    if wait is not None:
                        return False, [wait], False
                # with a startup probe the next one waits for it (the prober's on_change
                # brings the pass); without one a running sidecar has started
                if (spec.get("startupProbe") and self.probes is not None
                        and not self.probes.started(uid, name)):
                    return False, [], False
                continue
            if latest is not None and latest.state is cri.ContainerState.EXITED:
                if latest.exit_code == 0:
                    continue
                if policy == "Never":
                    return False, [], True
            elif running:
                return False, [], False
            return False, [await self._start(pod, spec, latest, ctx)], False
        return True, [], False

    def _liveness_failed(self, uid: str, name: str) -> bool:
        return self.probes is not None and self.probes.liveness_failed(uid, name)

    async def _app_containers(self, pod: Obj, view: PodRuntime,
                              ctx: PodContext) -> list[float | None]:
        uid = pod["metadata"]["uid"]
        policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
        waits: list[float | None] = []
        for spec in (pod.get("spec") or {}).get("containers") or ():
            name = spec["name"]
            latest = view.latest(name)
            if latest is not None and latest.state is cri.ContainerState.RUNNING:
                if not self._liveness_failed(uid, name):
                    continue
                await self.ops.kill(pod, spec, latest.id, ctx.pod_ip,
                                    message=f"Container {name} failed liveness probe, "
                                            f"will be restarted")
                latest = await self.runtime.container_status(latest.id)
            if (latest is not None and latest.state is cri.ContainerState.EXITED
                    and not should_restart(policy, latest.exit_code)):
                continue
            waits.append(await self._start(pod, spec, latest, ctx))
        return waits

    def _finished(self, pod: Obj, view: PodRuntime) -> bool:
        """restartPolicy Never/OnFailure and every app container done for good."""
        spec = pod.get("spec") or {}
        policy = spec.get("restartPolicy") or "Always"
        if policy == "Always":
            return False
        for container in spec.get("containers") or ():
            latest = view.latest(container["name"])
            if latest is None or latest.state is not cri.ContainerState.EXITED:
                return False
            if should_restart(policy, latest.exit_code):
                return False
        return True

    async def _stop_all(self, pod: Obj, view: PodRuntime, *, grace: float | None = None) -> None:
        """Kill the running containers (app containers together, then sidecars last
        first, then any the spec no longer names) and stop the sandboxes."""
        spec = pod.get("spec") or {}
        pod_ip = self.contexts[pod["metadata"]["uid"]].pod_ip \
            if pod["metadata"]["uid"] in self.contexts else self.host_ip
        by_name = {c["name"]: c for key in ("initContainers", "containers")
                   for c in spec.get(key) or ()}
        running = {c.labels.get("io.kubernetes.container.name", c.metadata.name): c
                   for c in view.running()}
        apps = [c["name"] for c in spec.get("containers") or ()]
        sidecars = [c["name"] for c in reversed(spec.get("initContainers") or ())]
        others = [name for name in running if name not in apps and name not in sidecars]

        async def kill(name: str) -> None:
            await self.ops.kill(pod, by_name.get(name), running[name].id, pod_ip, grace=grace,
                                name=name)

        await asyncio.gather(*(kill(n) for n in apps + others if n in running))
        for name in sidecars:
            if name in running:
                await kill(name)
        for sandbox in view.sandboxes:
            if sandbox.state is cri.SandboxState.READY:
                await self.runtime.stop_pod_sandbox(sandbox.id)

    async def _trim(self, view: PodRuntime) -> None:
        """Older instances than the previous one are removed (container GC)."""
        for instances in view.containers.values():
            for old in instances[KEEP_INSTANCES:]:
                await self.runtime.remove_container(old.id)
