"""One probe of one container instance, as upstream's prober worker (worker.go).

The worker is an asyncio task that probes every periodSeconds and feeds the answers
to its Thresholds. Per round, as upstream's doProbe:

1. a pod being deleted keeps liveness and startup SUCCESS (no restarts while it stops);
2. a worker on hold (its liveness or startup probe failed) probes nothing more: the
   container is being restarted, and a new instance gets new workers;
3. nothing is probed before initialDelaySeconds since the container started (the
   runtime's startedAt);
4. the startup probe runs until the container has started, liveness and readiness only
   after that;
5. a probe that could not be run at all (the runtime erred) is tried three times, then
   changes nothing.

Each failed probe is an `Unhealthy` Warning event, as upstream's prober records it.
The initial delay and the period are multiplied by the manager's `time_scale`, which
tests set small; timeoutSeconds is not (a probe's process needs its real time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from kubelite.kubelet import cri
from kubelite.kubelet.prober.handlers import ProbeError, run_probe
from kubelite.kubelet.prober.results import ProbeType, Result, Thresholds, Timing

if TYPE_CHECKING:
    from kubelite.kubelet.prober.manager import ProbeManager

log = logging.getLogger(__name__)

Obj = dict[str, Any]

MAX_PROBE_RETRIES = 3  # a probe that cannot be run is tried again at once (upstream)


class ProbeWorker:
    def __init__(self, manager: ProbeManager, pod_uid: str, container: Obj, container_id: str,
                 probe_type: ProbeType, started_at: float) -> None:
        self.manager = manager
        self.pod_uid = pod_uid
        self.container = container
        self.container_name = str(container.get("name") or "")
        self.container_id = container_id
        self.probe_type = probe_type
        self.spec: Obj = container.get(probe_type.field) or {}
        self.state = Thresholds(probe_type, Timing.of(self.spec))
        self.started_at = started_at
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(
            self.run(), name=f"probe {self.probe_type.value} {self.pod_uid}/{self.container_name}")

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def run(self) -> None:
        period = self.state.timing.period * self.manager.time_scale
        await self._learn_start()
        while True:
            try:
                await self.probe_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not end the probing of a container
                log.exception("probing %s/%s", self.pod_uid, self.container_name)
            self.wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), period)

    async def _learn_start(self) -> None:
        """Count the initial delay from when the container really started (the runtime
        knows; a restarted kubelet finds containers that started long ago), not from
        when this worker first saw it."""
        try:
            status = await self.manager.runtime.container_status(self.container_id)
        except cri.CRIError:
            return
        if status.started_at:
            age = max(0.0, time.time() - status.started_at / 1e9)
            self.started_at = min(self.started_at, self.manager.clock() - age)

    async def probe_once(self) -> None:
        pod, pod_ip = self.manager.pod_of(self.pod_uid)
        if pod is None:
            return
        if (pod.get("metadata") or {}).get("deletionTimestamp") and \
                self.probe_type is not ProbeType.READINESS:
            self._set(self.state.force(Result.SUCCESS))
            return
        if self.state.on_hold:
            return
        scale = self.manager.time_scale
        if self.manager.clock() - self.started_at < self.state.timing.initial_delay * scale:
            return
        started = self.manager.started(self.pod_uid, self.container_name)
        if started == (self.probe_type is ProbeType.STARTUP):
            return  # startup runs until started; the others only after
        for attempt in range(MAX_PROBE_RETRIES):
            try:
                result, output = await run_probe(self.manager.runtime, self.spec,
                                                 self.container, self.container_id, pod_ip,
                                                 float(self.state.timing.timeout))
                break
            except ProbeError as e:
                if attempt == MAX_PROBE_RETRIES - 1:
                    self.manager.event(pod, self.container_name, "Warning", "Unhealthy",
                                       f"{self.probe_type.value} probe errored: {e}")
                    return
        if result is Result.FAILURE:
            self.manager.event(pod, self.container_name, "Warning", "Unhealthy",
                               f"{self.probe_type.value} probe failed: {output}")
        elif output.startswith("Probe terminated redirects"):
            self.manager.event(pod, self.container_name, "Warning", "ProbeWarning",
                               f"{self.probe_type.value} probe warning: {output}")
        self._set(self.state.observe(result))

    def _set(self, changed: bool) -> None:
        if changed:
            self.manager.result_changed(self)
