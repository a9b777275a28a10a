"""The eviction manager's loop (pkg/kubelet/eviction/eviction_manager.go synchronize).

Every `monitoring_interval` (upstream's 10 s) one pass:
1. read a Summary from the StatsSource and turn it into observations (signals.py);
2. thresholds met now, plus those met before whose minimum reclaim is not yet
   satisfied; each remembered from when it was first met;
3. node conditions (MemoryPressure, DiskPressure, PIDPressure) from the met thresholds,
   each held True until `pressure_transition_period` (5 min) has passed since it was
   last observed, so a node does not flap in and out of pressure;
4. thresholds whose grace period has passed (hard ones at once) drive eviction;
5. local storage isolation first: any pod over an emptyDir sizeLimit or an
   ephemeral-storage limit is evicted (local_storage.py), and the pass ends there;
6. otherwise the threshold to act on (memory before the rest), an
   EvictionThresholdMet event on the node, node-level reclaim for disk (dead
   containers, then unused images) and a fresh reading: if that relieved every
   threshold (minimum reclaim included), no pod is evicted;
7. else the active pods are ranked for the signal (ranking.py) and the first that
   may be evicted (not critical) is: an Evicted event, and the Terminator kills it
   with grace 1 s for a hard threshold, for a soft one the smaller of
   --eviction-max-pod-grace-period and the pod's own, and marks it Failed with
   reason Evicted and upstream's message (messages.py); one pod per pass.

After an eviction the next pass follows at once (the terminator waited for the pod
to stop); otherwise the loop sleeps `monitoring_interval`. The clock is injected, so
tests drive grace and transition periods without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.client.events import WARNING, EventRecorder
from kubelite.kubelet.eviction import local_storage, messages, ranking
from kubelite.kubelet.eviction.signals import (
    Observations, StatsSource, Summary, dedicated_image_fs, observations)
from kubelite.kubelet.eviction.thresholds import (
    ALLOCATABLE_MEMORY_AVAILABLE, DEFAULT_PRESSURE_TRANSITION_PERIOD, IMAGEFS_AVAILABLE,
    IMAGEFS_INODES_FREE, MEMORY_AVAILABLE, NODEFS_AVAILABLE, NODEFS_INODES_FREE,
    SIGNAL_CONDITION, SIGNAL_RESOURCE, Threshold)

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Reclaim = Callable[[], Awaitable[Any]]
IMMEDIATE_GRACE_PERIOD = 1.0  # immediateEvictionGracePeriodSeconds
CONDITION_ORDER = ("MemoryPressure", "DiskPressure", "PIDPressure")


class Terminator(Protocol):
    async def evict(self, pod: Obj, grace_period: float, message: str,
                    condition: Obj | None) -> None:
        """Kill the pod within `grace_period` seconds and post it Failed with reason
        Evicted and `message` (and `condition` among its conditions); returns once its
        containers are stopped (or it gave up waiting)."""
        ...


@dataclass(frozen=True)
class EvictionConfig:
    thresholds: tuple[Threshold, ...] = ()
    pressure_transition_period: float = DEFAULT_PRESSURE_TRANSITION_PERIOD
    max_pod_grace_period: float = 0.0  # --eviction-max-pod-grace-period
    monitoring_interval: float = 10.0
    local_storage_capacity_isolation: bool = True


def _by_eviction_priority(thresholds: list[Threshold]) -> list[Threshold]:
    """byEvictionPriority: memory first, thresholds without a resource last."""
    memory = (MEMORY_AVAILABLE, ALLOCATABLE_MEMORY_AVAILABLE)
    return sorted(thresholds, key=lambda t: (t.signal not in memory,
                                             t.signal not in SIGNAL_RESOURCE))


def _met(thresholds: Sequence[Threshold], observed: Observations, *,
         enforce_min_reclaim: bool) -> list[Threshold]:
    out = []
    for threshold in thresholds:
        observation = observed.get(threshold.signal)
        if observation is not None and threshold.met(observation.available, observation.capacity,
                                                     enforce_min_reclaim=enforce_min_reclaim):
            out.append(threshold)
    return out


class EvictionManager:
    def __init__(self, config: EvictionConfig, source: StatsSource, terminator: Terminator,
                 active_pods: Callable[[], list[Obj]], *, node_name: str = "",
                 recorder: EventRecorder | None = None, image_gc: Reclaim | None = None,
                 container_gc: Reclaim | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.source = source
        self.terminator = terminator
        self.active_pods = active_pods
        self.node_name = node_name
        self.recorder = recorder
        self.image_gc = image_gc
        self.container_gc = container_gc
        self.clock = clock
        self.conditions: list[str] = []  # the node's pressure conditions now
        self._first_observed: dict[Threshold, float] = {}
        self._condition_last_observed: dict[str, float] = {}
        self._thresholds_met: list[Threshold] = []
        self._last_time: dict[str, float] = {}
        self.evictions = 0

    # ------------------------------------------------------------------ queries
    def admit(self, pod: Obj) -> tuple[str, str] | None:
        """None when the pod may start on this node now, else (reason, message)."""
        return messages.admit(pod, self.conditions)

    def under(self, condition: str) -> bool:
        return condition in self.conditions

    # ------------------------------------------------------------------- passes
    async def run(self) -> None:
        """Until cancelled: a pass every monitoring interval, at once after an eviction."""
        while True:
            try:
                evicted = await self.synchronize()
            except asyncio.CancelledError:
                raise
            except Exception:  # a loop boundary: the next pass tries again
                log.exception("eviction manager: failed to synchronize")
                evicted = []
            if not evicted:
                await asyncio.sleep(self.config.monitoring_interval)

    async def synchronize(self) -> list[Obj]:
        """One pass; the pods it evicted."""
        if not self.config.thresholds and not self.config.local_storage_capacity_isolation:
            return []
        pods = self.active_pods()
        summary = await self.source.summary()
        observed = observations(summary)
        dedicated = dedicated_image_fs(summary.node)
        now = self.clock()

        thresholds = _met(self.config.thresholds, observed, enforce_min_reclaim=False)
        if self._thresholds_met:
            for unresolved in _met(self._thresholds_met, observed, enforce_min_reclaim=True):
                if unresolved not in thresholds:
                    thresholds.append(unresolved)
        self._first_observed = {t: self._first_observed.get(t, now) for t in thresholds}
        for threshold in thresholds:
            self._condition_last_observed[SIGNAL_CONDITION[threshold.signal]] = now
        self._set_conditions([c for c, at in self._condition_last_observed.items()
                              if now - at < self.config.pressure_transition_period])
        thresholds = [t for t, at in self._first_observed.items()
                      if now - at >= t.grace_period]
        self._thresholds_met = list(thresholds)
        thresholds = self._updated_since_last(thresholds, summary)

        if self.config.local_storage_capacity_isolation:
            evicted = await self._local_storage_eviction(pods, summary, dedicated)
            if evicted:
                return evicted
        if not thresholds:
            return []
        thresholds = _by_eviction_priority(thresholds)
        target = thresholds[0]
        resource = SIGNAL_RESOURCE[target.signal]
        log.info("eviction manager: attempting to reclaim %s", resource)
        self._node_event("EvictionThresholdMet", f"Attempting to reclaim {resource}")
        if await self._reclaim_node_level(target.signal, dedicated):
            log.info("eviction manager: able to reduce %s pressure without evicting pods",
                     resource)
            return []
        key = ranking.ranker(target.signal, dedicated)
        if key is None or not pods:
            return []
        for pod in sorted(pods, key=lambda p: key(p, summary.pods.get(p["metadata"]["uid"]))):
            usage = summary.pods.get(pod["metadata"]["uid"])
            message = messages.eviction_message(resource, pod, usage, thresholds, observed)
            condition = {"type": "DisruptionTarget", "status": "True",
                         "reason": "TerminationByKubelet", "message": message}
            if await self._evict(pod, self._grace_period(target, pod), message, condition):
                return [pod]
        log.info("eviction manager: unable to evict any pods from the node")
        return []

    # ------------------------------------------------------------------ helpers
    def _set_conditions(self, conditions: list[str]) -> None:
        ordered = [c for c in CONDITION_ORDER if c in conditions]
        if ordered != self.conditions:
            log.info("eviction manager: node conditions now %s", ordered or "none")
            self.conditions = ordered

    def _updated_since_last(self, thresholds: list[Threshold], summary: Summary) -> list[Threshold]:
        """thresholdsUpdatedStats: act only on a reading newer than the last pass's (a
        reading without a time always counts)."""
        out = [t for t in thresholds
               if not summary.time or summary.time > self._last_time.get(t.signal, -1.0)]
        for threshold in self.config.thresholds:
            self._last_time[threshold.signal] = summary.time
        return out

    def _grace_period(self, threshold: Threshold, pod: Obj) -> float:
        if threshold.hard:
            return IMMEDIATE_GRACE_PERIOD
        own = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        if isinstance(own, int):
            return float(min(self.config.max_pod_grace_period, own))
        return self.config.max_pod_grace_period

    def _reclaimers(self, signal: str, dedicated: bool) -> list[Reclaim]:
        """buildSignalToNodeReclaimFuncs: dead containers, then unused images, for the
        filesystem that holds the images; nothing for nodefs when images live apart."""
        disk = (NODEFS_AVAILABLE, NODEFS_INODES_FREE, IMAGEFS_AVAILABLE, IMAGEFS_INODES_FREE)
        if signal not in disk or (dedicated and signal in (NODEFS_AVAILABLE, NODEFS_INODES_FREE)):
            return []
        return [f for f in (self.container_gc, self.image_gc) if f is not None]

    async def _reclaim_node_level(self, signal: str, dedicated: bool) -> bool:
        reclaimers = self._reclaimers(signal, dedicated)
        for reclaim in reclaimers:
            try:
                await reclaim()
            except Exception as err:  # reclaim is best effort: eviction still follows
                log.info("eviction manager: reclaiming node-level resources: %s", err)
        if not reclaimers:
            return False
        try:
            summary = await self.source.summary()
        except Exception as err:
            log.error("eviction manager: reading stats after reclaim: %s", err)
            return False
        return not _met(self.config.thresholds, observations(summary), enforce_min_reclaim=True)

    async def _local_storage_eviction(self, pods: list[Obj], summary: Summary,
                                      dedicated: bool) -> list[Obj]:
        evicted = []
        for pod in pods:
            usage = summary.pods.get(pod["metadata"]["uid"])
            if usage is None:
                continue
            message = local_storage.violation(pod, usage, dedicated_image_fs=dedicated)
            if message is not None and await self._evict(pod, IMMEDIATE_GRACE_PERIOD,
                                                         message, None):
                evicted.append(pod)
        return evicted

    async def _evict(self, pod: Obj, grace: float, message: str, condition: Obj | None) -> bool:
        meta = pod["metadata"]
        if messages.is_critical(pod):
            log.error("eviction manager: cannot evict a critical pod %s/%s",
                      meta.get("namespace"), meta.get("name"))
            return False
        if self.recorder is not None:
            self.recorder.event(pod, WARNING, messages.REASON, message)
        log.info("evicting pod %s/%s: %s", meta.get("namespace"), meta.get("name"), message)
        try:
            await self.terminator.evict(pod, grace, message, condition)
        except Exception as err:
            log.error("eviction manager: pod %s/%s failed to evict: %s",
                      meta.get("namespace"), meta.get("name"), err)
        self.evictions += 1
        return True

    def _node_event(self, reason: str, message: str) -> None:
        if self.recorder is None or not self.node_name:
            return
        node = {"kind": "Node", "apiVersion": "v1",
                "metadata": {"name": self.node_name, "uid": self.node_name}}
        self.recorder.event(node, WARNING, reason, message)
