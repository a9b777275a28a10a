"""What a pod asks for: upstream's resourcehelper.PodRequests, in scheduler units.

Units are the scheduler's int64s: cpu in millicores, memory and ephemeral-storage in bytes.
A pod's request combines its containers' by the rule quota charges them with
(kubelite/api/quota/pod_resources.py: init containers, sidecars), plus the pod's
overhead. For scoring, upstream counts a container without a cpu or memory request as
asking for 100m cpu and 200Mi memory (`non_zero=True`), so best-effort pods still spread.

Besides cpu, memory and ephemeral-storage, upstream's "scalar" resources count too, each in
whole units (Quantity.Value()): extended resources (a domain-prefixed name outside
kubernetes.io, e.g. `example.com/foo`, `nvidia.com/gpu`), `hugepages-*`, prefixed native
resources (`*kubernetes.io/*`) and `attachable-volumes-*`. Other names (`pods`, or names
validation would refuse) are not requested by a pod.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from kubelite.api.quota.pod_resources import add_into, containers_total
from kubelite.machinery.quantity import parse_json
from kubelite.machinery.validation import is_qualified_name

RESOURCES = ("cpu", "memory", "ephemeral-storage")
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

Amounts = dict[str, int]


def amount(resource: str, value: Any) -> int:
    """One quantity in scheduler units; ValueError for a malformed one."""
    if isinstance(value, str):
        return _parsed(resource == "cpu", value)
    quantity = parse_json(value)
    return quantity.milli_value() if resource == "cpu" else quantity.value()


@functools.lru_cache(maxsize=4096)
def _parsed(milli: bool, text: str) -> int:
    # a cluster spells its requests with few distinct strings; parsing is the cost per pod
    quantity = parse_json(text)
    return quantity.milli_value() if milli else quantity.value()


@functools.lru_cache(maxsize=1024)
def is_extended(name: str) -> bool:
    """Upstream's IsExtendedResourceName: a domain-prefixed name outside kubernetes.io that
    would still be a valid quota name once prefixed with "requests."."""
    if "/" not in name or "kubernetes.io/" in name or name.startswith("requests."):
        return False
    return not is_qualified_name(f"requests.{name}")


@functools.lru_cache(maxsize=1024)
def is_scalar(name: str) -> bool:
    """Upstream's IsScalarResourceName: the resources counted beside cpu/memory/storage."""
    return (is_extended(name) or name.startswith(("hugepages-", "attachable-volumes-"))
            or "kubernetes.io/" in name)


def amounts(resources: Mapping[str, Any] | None) -> Amounts:
    """The resources kubelite tracks from a ResourceList, in scheduler units: always cpu,
    memory and ephemeral-storage, and any scalar resource named."""
    out = dict.fromkeys(RESOURCES, 0)
    for name, value in (resources or {}).items():
        if name in out or is_scalar(name):
            out[name] = amount(name, value)
    return out


def scalar_amounts(resources: Mapping[str, Any] | None) -> Amounts:
    """Only the scalar resources of a ResourceList (a node's allocatable), whole units."""
    return {name: amount(name, value) for name, value in (resources or {}).items()
            if is_scalar(name)}


def _container_requests(container: Mapping[str, Any], non_zero: bool) -> Amounts:
    requests = (container.get("resources") or {}).get("requests") or {}
    out = amounts(requests)
    if non_zero:
        if "cpu" not in requests:
            out["cpu"] = DEFAULT_MILLI_CPU_REQUEST
        if "memory" not in requests:
            out["memory"] = DEFAULT_MEMORY_REQUEST
    return out


def pod_requests(pod: Mapping[str, Any], *, non_zero: bool = False) -> Amounts:
    spec = pod.get("spec") or {}
    total = dict.fromkeys(RESOURCES, 0)
    add_into(total, containers_total(spec, lambda c: _container_requests(c, non_zero)))
    add_into(total, amounts(spec.get("overhead")))
    return total


def host_ports(pod: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(protocol, hostIP, hostPort) the pod binds on its node, defaults applied as upstream."""
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or ())
    containers += [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    out = []
    for container in containers:
        for port in container.get("ports") or ():
            host_port = port.get("hostPort") or 0
            if isinstance(host_port, int) and host_port > 0:
                out.append((port.get("protocol") or "TCP", port.get("hostIP") or "0.0.0.0", host_port))
    return out
