"""The Kubelet: one node's agent, wiring its parts (pkg/kubelet/kubelet.go Run).

```text
  Kubelet.run()
   ├── NodeAgent (node_agent.py): register the Node, renew its Lease, report status,
   │     hand the node's podCIDR to `on_pod_cidr`
   ├── informers: pods with spec.nodeName=<node>, Services (env vars)
   │     └── every add/update/delete -> PodWorkers.update(uid)
   ├── EvictionManager (eviction/): pressure conditions for the node status, admission
   │     of new pods, and evictions through `evict` -> the pod's worker
   ├── Relister (pleg.py): the runtime listed every second; pods whose containers
   │     changed -> PodWorkers.update(uid)
   └── PodWorkers (pod_workers.py): per pod, one pass at a time:
         PodSyncer (pod_sync.py) -> ContainerOps (container_ops.py) -> runtime (cri.py)
                                 -> StatusManager (status_manager.py) -> pods/status
```

A pod the API no longer has (deleted, or never known: what a previous run left in the
runtime) is cleaned up by its worker: the relister hands every uid the runtime holds,
so leftovers found at start are removed once the pod informer has synced.

`stop()` stops every pod's containers (each within its grace period, at most
`shutdown_grace`) and sandboxes, then the loops; the Node stays (upstream's kubelet
leaves it for the node lifecycle loop to mark).

The Kubelet is also parts.RunningPods, what the kubelet's HTTPS server asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelite.client.events import WARNING, EventRecorder
from kubelite.client.informer import Informer, strip_managed_fields
from kubelite.client.rest import Client
from kubelite.kubelet import cri, parts, runtime_state
from kubelite.kubelet.backoff import Backoff
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.container_ops import ContainerOps, grace_period
from kubelite.kubelet.eviction import EvictionConfig, EvictionManager, parse_thresholds
from kubelite.kubelet.eviction.host import HostStats
from kubelite.kubelet.eviction.manager import Reclaim
from kubelite.kubelet.eviction.signals import StatsSource
from kubelite.kubelet.image_puller import ImagePuller
from kubelite.kubelet.node_agent import NodeAgent, PodCIDRCallback
from kubelite.kubelet.node_status import HostFacts, allocatable
from kubelite.kubelet.pleg import Relister
from kubelite.kubelet.pod_status import TERMINAL
from kubelite.kubelet.pod_sync import PodSyncer
from kubelite.kubelet.pod_workers import FINISHED, PodWorkers
from kubelite.kubelet.status_manager import StatusManager

log = logging.getLogger(__name__)

Obj = dict[str, Any]
COMPONENT = "kubelet"
VOLATILE_METADATA = ("resourceVersion", "managedFields", "generation")
EVICTION_WAIT = 30.0  # beyond the grace period (upstream's podCleanupTimeout)


def _without_status(pod: Obj) -> Obj:
    """What a pass acts on: the pod without its status and bookkeeping metadata."""
    meta = {k: v for k, v in (pod.get("metadata") or {}).items() if k not in VOLATILE_METADATA}
    return {**{k: v for k, v in pod.items() if k != "status"}, "metadata": meta}


@dataclass
class _Eviction:
    grace: float
    message: str
    condition: Obj | None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Kubelet:
    def __init__(self, client: Client, config: KubeletConfig, runtime: cri.RuntimeService,
                 images: cri.ImageService, volumes: parts.Volumes | None = None,
                 probes: parts.Probes | None = None, hooks: parts.Hooks | None = None, *,
                 on_pod_cidr: PodCIDRCallback | None = None,
                 loops: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
                 recorder: EventRecorder | None = None, stats: StatsSource | None = None,
                 image_gc: Reclaim | None = None, image_fs: Path | None = None) -> None:
        """`volumes`, `probes`, `hooks` None: the node has none of them (no volume is
        mounted, every probe passes, no hook runs). `loops`: background loops of those
        parts run beside the kubelet's own (the volume manager's resync). `recorder`:
        the Event recorder to share with the parts (default: one of its own).
        `stats`: what the eviction manager observes (default: this host and the
        runtime, the images on `image_fs`); `image_gc`: its reclaim of unused images."""
        self.probes = probes
        self.loops = list(loops)
        self.client = client
        self.config = config
        self.runtime = runtime
        self.facts = HostFacts.read(config)
        self.recorder = recorder or EventRecorder(client, COMPONENT, host=config.node_name)
        self.eviction = EvictionManager(
            EvictionConfig(tuple(parse_thresholds(config.eviction_hard, config.eviction_soft,
                                                  config.eviction_soft_grace_period,
                                                  config.eviction_minimum_reclaim)),
                           pressure_transition_period=config.eviction_pressure_transition_period,
                           max_pod_grace_period=config.eviction_max_pod_grace_period,
                           monitoring_interval=config.eviction_monitoring_interval),
            stats or HostStats(runtime, pods_dir=config.pods_dir, nodefs=config.root_dir,
                               imagefs=image_fs, log_dir=config.pod_log_dir),
            self, self._active_pods, node_name=config.node_name, recorder=self.recorder,
            image_gc=image_gc, container_gc=self._remove_dead_containers)
        self.node = NodeAgent(client, config, runtime, images, self.facts,
                              on_pod_cidr=on_pod_cidr, pressure=lambda: self.eviction.conditions)
        self.pod_informer = Informer(client, "pods",
                                     field_selector=f"spec.nodeName={config.node_name}",
                                     transform=strip_managed_fields)
        self.service_informer = Informer(client, "services", transform=strip_managed_fields)
        self.status = StatusManager(client)
        puller = ImagePuller(client, images, self.recorder,
                             Backoff(config.image_backoff_initial, config.image_backoff_max))
        self.ops = ContainerOps(client, config, runtime, puller, self.recorder, volumes, hooks,
                                host_ip=self.facts.node_ip,
                                memory_capacity=self.facts.memory_bytes,
                                allocatable=allocatable(self.facts, config),
                                services=self.service_informer.lister.list)
        self.syncer = PodSyncer(config, runtime, self.ops, self.status, self.recorder, volumes,
                                probes, host_ip=self.facts.node_ip, scheme="")
        self.workers = PodWorkers(self._sync, resync=config.pod_resync_interval)
        self.relister = Relister(runtime, self.workers.update, interval=config.relist_interval)
        self.pods_by_uid: dict[str, Obj] = {}
        self._admitted: set[str] = set()
        self._evictions: dict[str, _Eviction] = {}
        self.ready = asyncio.Event()  # registered and the pod informer synced
        self._warned: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.pod_informer.add_event_handler(on_add=self._pod_seen,
                                            on_update=self._pod_updated,
                                            on_delete=self._pod_gone)
        if probes is not None:
            probes.on_change(self._probe_changed)

    # ------------------------------------------------------------------ running
    async def run(self) -> None:
        """Run until cancelled (or `stop()`)."""
        version = await self.runtime.version()
        self.syncer.scheme = version.runtime_name
        node_task = asyncio.create_task(self.node.run(), name="kubelet-node")
        self._tasks.append(node_task)
        await self._until(self.node.registered, node_task)
        self.service_informer.start()
        self.pod_informer.start()
        await self.service_informer.wait_for_sync()
        await self.pod_informer.wait_for_sync()
        self._tasks.append(asyncio.create_task(self.relister.run(), name="kubelet-relist"))
        for loop in [*self.loops, self.eviction.run]:
            self._tasks.append(asyncio.create_task(loop(), name=f"kubelet-{loop.__qualname__}"))
        self.ready.set()
        log.info("kubelet on node %s is running pods (%s runtime %s)", self.config.node_name,
                 version.runtime_name, version.runtime_version)
        await asyncio.gather(*self._tasks)

    @staticmethod
    async def _until(event: asyncio.Event, task: asyncio.Task[None]) -> None:
        waiter = asyncio.create_task(event.wait())
        done, _ = await asyncio.wait((waiter, task), return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            task.result()  # raises what ended the node agent

    async def stop(self) -> None:
        """Stop every pod's containers and sandboxes, then the loops."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.workers.stop()
        if self.probes is not None:
            for uid in list(self.pods_by_uid):
                self.probes.remove_pod(uid)
        await self.pod_informer.stop()
        await self.service_informer.stop()
        pods = await runtime_state.all_pods(self.runtime)
        await asyncio.gather(*(self._shut_down(uid, view) for uid, view in pods.items()),
                             return_exceptions=True)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.recorder.wait_idle()
        await self.recorder.close()

    async def _shut_down(self, uid: str, view: runtime_state.PodRuntime) -> None:
        pod = self.pods_by_uid.get(uid)
        grace = min(grace_period(pod), self.config.shutdown_grace) if pod else 0.0
        await asyncio.gather(*(self.runtime.stop_container(c.id, grace) for c in view.running()),
                             return_exceptions=True)
        for sandbox in view.sandboxes:
            with contextlib.suppress(cri.CRIError):
                await self.runtime.stop_pod_sandbox(sandbox.id)

    # -------------------------------------------------------------- pod events
    def _pod_seen(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        self.pods_by_uid[uid] = pod
        self.workers.update(uid)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        """As upstream's pod config: a change of the status alone (most often the
        kubelet's own write coming back) brings no pass, unless another writer changed
        what the kubelet reports, or a readiness gate's condition may have moved."""
        if (_without_status(old) != _without_status(new)
                or (new.get("spec") or {}).get("readinessGates")
                or self.status.changed_by_others(new)):
            self._pod_seen(new)
        else:
            self.pods_by_uid[new["metadata"]["uid"]] = new

    def _pod_gone(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        self.pods_by_uid.pop(uid, None)
        self._admitted.discard(uid)
        self.workers.update(uid)

    def _probe_changed(self, uid: str) -> None:
        if uid in self.pods_by_uid:
            self.workers.update(uid)

    async def _sync(self, uid: str) -> float | None:
        pod = self.pods_by_uid.get(uid)
        if pod is None:
            await self.syncer.cleanup(uid)
            return FINISHED
        eviction = self._evictions.pop(uid, None)
        if eviction is not None:
            try:
                await self.syncer.evict(pod, eviction.grace, eviction.message, eviction.condition)
            finally:
                eviction.done.set()
            return None
        if uid not in self._admitted:
            refusal = self._admission(pod)
            if refusal is not None:
                await self.syncer.reject(pod, *refusal)
                return None
            self._admitted.add(uid)
        if self.syncer.scheme == "host" and uid not in self._warned:
            self._warned.add(uid)
            self.recorder.event(pod, WARNING, "NoIsolation",
                                "the host runtime runs this pod's containers as host processes: "
                                "no namespaces, mounts, or resource limits")
        return await self.syncer.sync(pod)

    # ----------------------------------------------------------------- eviction
    def _admission(self, pod: Obj) -> tuple[str, str] | None:
        """The eviction manager's verdict on a pod yet to start (canAdmitPod); a pod
        being deleted, already finished or already running is not judged again."""
        meta = pod["metadata"]
        phase = (self.status.effective(pod).get("status") or {}).get("phase") or "Pending"
        if meta.get("deletionTimestamp") or phase != "Pending":
            return None
        return self.eviction.admit(pod)

    def _active_pods(self) -> list[Obj]:
        """What eviction may choose from: admitted pods not finished nor being deleted."""
        out = []
        for uid, pod in self.pods_by_uid.items():
            phase = (self.status.effective(pod).get("status") or {}).get("phase")
            if (uid in self._admitted and phase not in TERMINAL
                    and not pod["metadata"].get("deletionTimestamp")):
                out.append(pod)
        return out

    async def evict(self, pod: Obj, grace_period: float, message: str,
                    condition: Obj | None) -> None:
        """eviction.Terminator: the pod's worker kills it (one pass at a time, as every
        pass); returns once it has, or after the grace period and EVICTION_WAIT more."""
        uid = pod["metadata"]["uid"]
        eviction = _Eviction(grace_period, message, condition)
        self._evictions[uid] = eviction
        self.workers.update(uid)
        try:
            async with asyncio.timeout(grace_period + EVICTION_WAIT):
                await eviction.done.wait()
        except TimeoutError:
            log.warning("evicting pod %s/%s: still stopping after %.0fs",
                        pod["metadata"].get("namespace"), pod["metadata"].get("name"),
                        grace_period + EVICTION_WAIT)

    async def _remove_dead_containers(self) -> None:
        """Node-level reclaim under disk pressure (DeleteAllUnusedContainers): every
        exited container but the newest of each of a pod's containers (which holds its
        restart count and `logs --previous`), and everything of pods the API no
        longer has."""
        for uid, view in (await runtime_state.all_pods(self.runtime)).items():
            if uid not in self.pods_by_uid:
                self.workers.update(uid)  # its worker cleans it up
                continue
            for instances in view.containers.values():
                for old in instances[1:]:
                    if old.state is cri.ContainerState.EXITED:
                        with contextlib.suppress(cri.NotFound):
                            await self.runtime.remove_container(old.id)

    # ------------------------------------------------------ parts.RunningPods
    def _find(self, namespace: str, pod_name: str, pod_uid: str = "") -> str | None:
        if pod_uid:
            return pod_uid if pod_uid in self.pods_by_uid or pod_uid in self.syncer.views else None
        for uid, pod in self.pods_by_uid.items():
            meta = pod["metadata"]
            if meta.get("name") == pod_name and (meta.get("namespace") or "default") == namespace:
                return uid
        return None

    def sandbox_id(self, namespace: str, pod_name: str, pod_uid: str = "") -> str | None:
        uid = self._find(namespace, pod_name, pod_uid)
        view = self.syncer.views.get(uid or "")
        sandbox = view.ready_sandbox if view is not None else None
        return sandbox.id if sandbox is not None else None

    def container_id(self, namespace: str, pod_name: str, container: str,
                     pod_uid: str = "") -> str | None:
        uid = self._find(namespace, pod_name, pod_uid)
        view = self.syncer.views.get(uid or "")
        latest = view.latest(container) if view is not None else None
        return latest.id if latest is not None else None

    def log_path(self, namespace: str, pod_name: str, container: str, *,
                 previous: bool = False) -> str | None:
        uid = self._find(namespace, pod_name)
        view = self.syncer.views.get(uid or "")
        if view is None:
            return None
        instance = view.previous(container) if previous else view.latest(container)
        return instance.log_path or None if instance is not None else None

    def pods(self) -> list[Obj]:
        posted = {p["metadata"]["uid"]: p for p in self.status.pods()}
        return [posted.get(uid, pod) for uid, pod in self.pods_by_uid.items()]
