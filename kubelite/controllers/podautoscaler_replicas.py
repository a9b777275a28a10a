"""How many replicas a resource metric asks for (upstream's
pkg/controller/podautoscaler/replica_calculator.go and metrics/utilization.go).

Pure: given the target's pods, their metrics (milli-units, with the sample's timestamp
and window), the target and the current count, it says the proposal or why there is
none. Upstream's rules:

- pods being deleted or Failed are ignored; Pending ones count as unready; a pod
  without a metric is missing;
- for CPU only, a pod counts as unready while it has no Ready condition or start time,
  or within `cpu_initialization_period` (5 min) of its start when it is not Ready or
  its sample may predate its last readiness change (one window); after that, only
  when it is not Ready and has never been (its last transition within
  `delay_of_initial_readiness` (30 s) of its start);
- usage ratio: for Utilization, total usage × 100 / total requests (integer percent)
  over the target percent; for AverageValue, average usage over the target;
- within the tolerance (0.1) of 1 with nobody missing or unready-on-scale-up, nothing
  changes; otherwise ceil(ratio × ready pods);
- with missing pods, they are assumed at 100% of request (or the target if higher)
  when scaling down, at 0 when scaling up; unready pods at 0 when scaling up. The
  ratio is computed again; if it crossed 1 or fell within tolerance, or if the new
  count would move against the first ratio's direction, nothing changes.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.machinery.quantity import parse_quantity
from kubelite.machinery.timestamps import parse_rfc3339

Obj = dict[str, Any]

TOLERANCE = 0.1  # --horizontal-pod-autoscaler-tolerance
CPU_INITIALIZATION_PERIOD = 300.0  # --horizontal-pod-autoscaler-cpu-initialization-period
DELAY_OF_INITIAL_READINESS = 30.0  # --horizontal-pod-autoscaler-initial-readiness-delay


class NoProposal(Exception):
    """The metric gives no replica count; the message is upstream's."""


@dataclass(frozen=True, slots=True)
class PodMetric:
    value: int  # milli-units: millicores, or milli-bytes
    timestamp: datetime.datetime
    window: float  # seconds


@dataclass(frozen=True, slots=True)
class Proposal:
    replicas: int
    utilization: int | None  # percent of request, for Utilization targets
    raw: int  # average milli-units over the pods counted
    timestamp: datetime.datetime | None


def _ready_condition(pod: Obj) -> Obj | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return dict(condition)
    return None


def _time(value: Any) -> datetime.datetime | None:
    return parse_rfc3339(str(value)) if value else None


@dataclass(slots=True)
class PodGroups:
    ready: int
    unready: set[str]
    missing: set[str]
    ignored: set[str]


def group_pods(pods: Iterable[Obj], metrics: Mapping[str, PodMetric], resource: str,
               now: datetime.datetime,
               cpu_initialization_period: float = CPU_INITIALIZATION_PERIOD,
               delay_of_initial_readiness: float = DELAY_OF_INITIAL_READINESS) -> PodGroups:
    groups = PodGroups(0, set(), set(), set())
    for pod in pods:
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        name = str(meta.get("name"))
        if meta.get("deletionTimestamp") or status.get("phase") == "Failed":
            groups.ignored.add(name)
            continue
        if status.get("phase") == "Pending":
            groups.unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            groups.missing.add(name)
            continue
        if resource == "cpu" and _unready_for_cpu(status, metric, now,
                                                  cpu_initialization_period,
                                                  delay_of_initial_readiness):
            groups.unready.add(name)
            continue
        groups.ready += 1
    return groups


def _unready_for_cpu(status: Obj, metric: PodMetric, now: datetime.datetime,
                     initialization: float, initial_readiness: float) -> bool:
    condition = _ready_condition({"status": status})
    started = _time(status.get("startTime"))
    if condition is None or started is None:
        return True
    transition = _time(condition.get("lastTransitionTime")) or started
    if started + datetime.timedelta(seconds=initialization) > now:
        return condition.get("status") == "False" or \
            metric.timestamp < transition + datetime.timedelta(seconds=metric.window)
    return condition.get("status") == "False" and \
        started + datetime.timedelta(seconds=initial_readiness) > transition


def pod_requests(pods: Iterable[Obj], resource: str, container: str = "") -> dict[str, int]:
    """Each pod's request of `resource` in milli-units (all containers, or the one
    named); NoProposal naming the first container without one, as upstream."""
    out: dict[str, int] = {}
    for pod in pods:
        name = str((pod.get("metadata") or {}).get("name"))
        total = 0
        for c in (pod.get("spec") or {}).get("containers") or ():
            if container and c.get("name") != container:
                continue
            request = ((c.get("resources") or {}).get("requests") or {}).get(resource)
            if request is None:
                raise NoProposal(f"missing request for {resource} in container "
                                 f"{c.get('name')} of Pod {name}")
            total += parse_quantity(str(request)).milli_value()
        out[name] = total
    return out


def utilization_ratio(metrics: Mapping[str, PodMetric], requests: Mapping[str, int],
                      target: int) -> tuple[float, int, int]:
    """(usage ratio, utilization percent, average raw usage) over pods with a request
    (metricsclient.GetResourceUtilizationRatio)."""
    total = requested = entries = 0
    for name, metric in metrics.items():
        if name not in requests:
            continue
        total += metric.value
        requested += requests[name]
        entries += 1
    if requested == 0:
        raise NoProposal("no metrics returned matched known pods")
    utilization = total * 100 // requested
    return utilization / target, utilization, total // entries


def usage_ratio(metrics: Mapping[str, PodMetric], target: int) -> tuple[float, int]:
    """(usage ratio, average usage) for an average-value target (GetMetricUsageRatio)."""
    average = sum(m.value for m in metrics.values()) // len(metrics)
    return average / target, average


def _latest(metrics: Mapping[str, PodMetric]) -> datetime.datetime | None:
    return max((m.timestamp for m in metrics.values()), default=None)


def resource_replicas(current: int, pods: list[Obj], metrics: dict[str, PodMetric],
                      resource: str, now: datetime.datetime, *, utilization: int | None = None,
                      average_value: int | None = None, container: str = "",
                      tolerance: float = TOLERANCE) -> Proposal:
    """GetResourceReplicas (a Utilization target, percent) or GetRawResourceReplicas
    (an AverageValue target, milli-units)."""
    if not pods:
        raise NoProposal("no pods returned by selector while calculating replica count")
    metrics = dict(metrics)
    groups = group_pods(pods, metrics, resource, now)
    for name in groups.ignored | groups.unready:
        metrics.pop(name, None)
    if not metrics:
        raise NoProposal("did not receive metrics for targeted pods (pods might be unready)")
    timestamp = _latest(metrics)
    if utilization is not None:
        requests = pod_requests(pods, resource, container)
        ratio, percent, raw = utilization_ratio(metrics, requests, utilization)
    else:
        assert average_value is not None
        requests = {}
        ratio, raw = usage_ratio(metrics, average_value)
        percent = None

    def proposal(replicas: int) -> Proposal:
        return Proposal(replicas, percent, raw, timestamp)

    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if abs(1.0 - ratio) <= tolerance:
            return proposal(current)
        return proposal(math.ceil(ratio * groups.ready))
    if groups.missing:
        for name in groups.missing:
            if utilization is None:  # calcPlainMetricReplicas: the target, else 0
                metrics[name] = PodMetric(average_value or 0 if ratio < 1.0 else 0, now, 0)
            elif ratio < 1.0:
                fallback = max(100, utilization)
                metrics[name] = PodMetric(requests.get(name, 0) * fallback // 100, now, 0)
            elif ratio > 1.0:
                metrics[name] = PodMetric(0, now, 0)
    if scale_up_with_unready:
        for name in groups.unready:
            metrics[name] = PodMetric(0, now, 0)
    if utilization is not None:
        new_ratio = utilization_ratio(metrics, requests, utilization)[0]
    else:
        new_ratio = usage_ratio(metrics, average_value or 1)[0]
    if abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0 < new_ratio) or \
            (ratio > 1.0 > new_ratio):
        return proposal(current)
    replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return proposal(current)
    return proposal(replicas)
