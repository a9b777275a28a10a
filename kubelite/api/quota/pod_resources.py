"""What a pod as a whole requests and limits (pkg/api/v1/resource PodRequests and
PodLimits upstream), for quota usage and LimitRange's `Pod` limits.

Regular containers add up. An init container runs alone, beside the sidecars
(restartPolicy Always) started before it, so the pod needs the larger of the regular
sum and each init container plus the sidecars ahead of it; sidecars also run beside
the regular containers, so they add to the sum. spec.overhead adds to requests and to
the limits the pod has. Pod-level resources (spec.resources), when set, stand for the
containers' sum for cpu, memory and hugepages.

Resize status (status.containerStatuses[].allocatedResources) is not consulted: the
spec is what is charged.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.quota.resources import ResourceList, parse_list

Obj = dict[str, Any]


def _add_into(total: ResourceList, more: ResourceList) -> None:
    for name, value in more.items():
        total[name] = total[name] + value if name in total else value


def _max_into(total: ResourceList, other: ResourceList) -> None:
    for name, value in other.items():
        if name not in total or value > total[name]:
            total[name] = value


def _pod_level_supported(name: str) -> bool:
    return name in ("cpu", "memory") or name.startswith("hugepages-")


def _is_sidecar(container: Obj) -> bool:
    return container.get("restartPolicy") == "Always"


def _aggregate(pod: Obj, field: str) -> ResourceList:
    spec = pod.get("spec") or {}
    total: ResourceList = {}
    for container in spec.get("containers") or ():
        _add_into(total, parse_list(((container or {}).get("resources") or {}).get(field)))
    sidecars: ResourceList = {}
    init_peak: ResourceList = {}
    for container in spec.get("initContainers") or ():
        own = parse_list(((container or {}).get("resources") or {}).get(field))
        if _is_sidecar(container):
            _add_into(total, own)
            _add_into(sidecars, own)
            running = dict(sidecars)
        else:
            running = dict(own)
            _add_into(running, sidecars)
        _max_into(init_peak, running)
    _max_into(total, init_peak)
    pod_level = parse_list((spec.get("resources") or {}).get(field))
    for name, value in pod_level.items():
        if _pod_level_supported(name):
            total[name] = value
    return total


def pod_requests(pod: Obj) -> ResourceList:
    requests = _aggregate(pod, "requests")
    _add_into(requests, parse_list((pod.get("spec") or {}).get("overhead")))
    return requests


def pod_limits(pod: Obj) -> ResourceList:
    limits = _aggregate(pod, "limits")
    # Overhead adds only to what the pod does limit: no limit stays no limit.
    for name, value in parse_list((pod.get("spec") or {}).get("overhead")).items():
        if name in limits:
            limits[name] = limits[name] + value
    return limits
