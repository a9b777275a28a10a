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

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kubelite.api.quota.resources import ResourceList, parse_list
from kubelite.machinery.quantity import Quantity

Obj = dict[str, Any]


V = TypeVar("V", int, Quantity)


def add_into(total: dict[str, V], more: Mapping[str, V]) -> None:
    for name, value in more.items():
        total[name] = total[name] + value if name in total else value


def _max_into(total: dict[str, V], other: Mapping[str, V]) -> None:
    for name, value in other.items():
        if name not in total or value > total[name]:
            total[name] = value


def _pod_level_supported(name: str) -> bool:
    return name in ("cpu", "memory") or name.startswith("hugepages-")


def containers_total(spec: Obj, own: Callable[[Obj], dict[str, V]]) -> dict[str, V]:
    """The containers' combined amounts by the rule above, for any units: `own` gives
    one container's (Quantities here, the scheduler's integers there)."""
    total: dict[str, V] = {}
    for container in spec.get("containers") or ():
        add_into(total, own(container or {}))
    sidecars: dict[str, V] = {}
    init_peak: dict[str, V] = {}
    for container in spec.get("initContainers") or ():
        container = container or {}
        amounts = own(container)
        if container.get("restartPolicy") == "Always":  # a sidecar keeps running
            add_into(total, amounts)
            add_into(sidecars, amounts)
            running = dict(sidecars)
        else:
            running = dict(amounts)
            add_into(running, sidecars)
        _max_into(init_peak, running)
    _max_into(total, init_peak)
    return total


def _aggregate(pod: Obj, field: str) -> ResourceList:
    spec = pod.get("spec") or {}
    total = containers_total(spec, lambda c: parse_list((c.get("resources") or {}).get(field)))
    pod_level = parse_list((spec.get("resources") or {}).get(field))
    for name, value in pod_level.items():
        if _pod_level_supported(name):
            total[name] = value
    return total


def pod_requests(pod: Obj) -> ResourceList:
    requests = _aggregate(pod, "requests")
    add_into(requests, parse_list((pod.get("spec") or {}).get("overhead")))
    return requests


def pod_limits(pod: Obj) -> ResourceList:
    limits = _aggregate(pod, "limits")
    # Overhead adds only to what the pod does limit: no limit stays no limit.
    for name, value in parse_list((pod.get("spec") or {}).get("overhead")).items():
        if name in limits:
            limits[name] = limits[name] + value
    return limits
