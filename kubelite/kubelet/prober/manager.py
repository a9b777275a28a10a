"""The prober manager: parts.Probes, as upstream's prober_manager.go.

    pod worker ── update_pod(pod, podIP, {container: id}) ──▶ one ProbeWorker task per
                  (container instance, probe type) with a probe; a new id stops the old
                  instance's workers and starts fresh ones; a container gone stops them
              ── ready / started / liveness_failed ◀── the workers' beliefs
              ◀─ on_change(pod uid) when a belief changes: sync the pod again

What the pod worker reads:
- started: True without a startupProbe, else once it has succeeded;
- ready: started, and with a readinessProbe its success (False until then);
- liveness_failed: the liveness probe, or the startup probe, has failed
  failureThreshold times for the current instance (upstream's computePodActions
  restarts a container for either); `failure_message` says which, in upstream's words.

A container the manager does not know (not running) is neither started nor ready.
`time_scale` multiplies the initial delays and periods (not timeouts), so tests
run probes in milliseconds; `clock` is the monotonic clock initial delays count on.
`events`, if given, gets upstream's Unhealthy/ProbeWarning events
(kubelite.client.events.EventRecorder fits).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubelite.kubelet import cri
from kubelite.kubelet.prober.results import ProbeType, Result
from kubelite.kubelet.prober.worker import ProbeWorker

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class EventSink(Protocol):
    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None: ...


@dataclass
class _Container:
    id: str
    spec: Obj
    workers: dict[ProbeType, ProbeWorker] = field(default_factory=dict)


@dataclass
class _Pod:
    pod: Obj
    pod_ip: str
    containers: dict[str, _Container] = field(default_factory=dict)


class ProbeManager:
    def __init__(self, runtime: cri.RuntimeService, *, time_scale: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 events: EventSink | None = None) -> None:
        self.runtime = runtime
        self.time_scale = time_scale
        self.clock = clock
        self._events = events
        self._pods: dict[str, _Pod] = {}
        self._callbacks: list[Callable[[str], None]] = []

    # --- parts.Probes -------------------------------------------------------------

    def update_pod(self, pod: Obj, pod_ip: str, container_ids: Mapping[str, str]) -> None:
        uid = str(pod["metadata"]["uid"])
        state = self._pods.get(uid)
        if state is None:
            state = self._pods[uid] = _Pod(pod, pod_ip)
        state.pod, state.pod_ip = pod, pod_ip
        specs = {str(c.get("name")): c for c in (pod.get("spec") or {}).get("containers") or []}
        for name in list(state.containers):
            if container_ids.get(name) != state.containers[name].id or name not in specs:
                self._stop(state.containers.pop(name))
        for name, container_id in container_ids.items():
            if name in state.containers or name not in specs:
                continue
            entry = state.containers[name] = _Container(container_id, specs[name])
            now = self.clock()
            for probe_type in ProbeType:
                if isinstance(specs[name].get(probe_type.field), dict):
                    worker = ProbeWorker(self, uid, specs[name], container_id, probe_type, now)
                    entry.workers[probe_type] = worker
                    worker.start()

    def remove_pod(self, pod_uid: str) -> None:
        state = self._pods.pop(pod_uid, None)
        if state is not None:
            for container in state.containers.values():
                self._stop(container)

    def ready(self, pod_uid: str, container_name: str) -> bool:
        container = self._container(pod_uid, container_name)
        if container is None or not self.started(pod_uid, container_name):
            return False
        worker = container.workers.get(ProbeType.READINESS)
        return worker is None or worker.state.belief is Result.SUCCESS

    def started(self, pod_uid: str, container_name: str) -> bool:
        container = self._container(pod_uid, container_name)
        if container is None:
            return False
        worker = container.workers.get(ProbeType.STARTUP)
        return worker is None or worker.state.belief is Result.SUCCESS

    def liveness_failed(self, pod_uid: str, container_name: str) -> bool:
        return self.failure_message(pod_uid, container_name) is not None

    def failure_message(self, pod_uid: str, container_name: str) -> str | None:
        """Why the container must be restarted, as upstream's kill message, or None."""
        container = self._container(pod_uid, container_name)
        if container is None:
            return None
        for probe_type in (ProbeType.LIVENESS, ProbeType.STARTUP):
            worker = container.workers.get(probe_type)
            if worker is not None and worker.state.belief is Result.FAILURE:
                return (f"Container {container_name} failed {probe_type.value.lower()} probe, "
                        "will be restarted")
        return None

    def on_change(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    def close(self) -> None:
        """Stop every worker (the kubelet is shutting down)."""
        for uid in list(self._pods):
            self.remove_pod(uid)

    def worker(self, pod_uid: str, container_name: str, probe_type: ProbeType
               ) -> ProbeWorker | None:
        """The running worker of one probe, if any (to look at, or to probe now)."""
        container = self._container(pod_uid, container_name)
        return container.workers.get(probe_type) if container is not None else None

    # --- for the workers ----------------------------------------------------------

    def pod_of(self, pod_uid: str) -> tuple[Obj | None, str]:
        state = self._pods.get(pod_uid)
        return (state.pod, state.pod_ip) if state is not None else (None, "")

    def result_changed(self, worker: ProbeWorker) -> None:
        container = self._container(worker.pod_uid, worker.container_name)
        if container is None or container.workers.get(worker.probe_type) is not worker:
            return  # a stopped worker's last word
        if worker.probe_type is ProbeType.STARTUP and worker.state.belief is Result.SUCCESS:
            for other in container.workers.values():
                other.wake.set()  # started: probe readiness and liveness now, not next period
        for callback in self._callbacks:
            try:
                callback(worker.pod_uid)
            except Exception:
                log.exception("probe result callback for pod %s", worker.pod_uid)

    def event(self, pod: Obj, container_name: str, type_: str, reason: str,
              message: str) -> None:
        if self._events is not None:
            self._events.event(pod, type_, reason, message)

    # --- helpers ------------------------------------------------------------------

    def _container(self, pod_uid: str, name: str) -> _Container | None:
        state = self._pods.get(pod_uid)
        return state.containers.get(name) if state is not None else None

    @staticmethod
    def _stop(container: _Container) -> None:
        for worker in container.workers.values():
            worker.stop()
