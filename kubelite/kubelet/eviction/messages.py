"""What an eviction or a refusal says, word for word as upstream's kubelet
(pkg/kubelet/eviction/helpers.go evictionMessage, eviction_manager.go Admit), and
which pods are spared.

- Eviction under pressure: `The node was low on resource: memory. Threshold quantity:
  100Mi, available: 95Mi. Container app was using 300Mi, request is 0, has larger
  consumption of memory. ` (one sentence per container above its request).
- Local storage: `Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". `,
  `Container app exceeded its local ephemeral storage limit "1Mi". `, `Pod ephemeral
  local storage usage exceeds the total limit of containers 2Mi. `.
- Admission under pressure: reason Evicted, `The node had condition: [MemoryPressure]. `
  (the kubelet's rejection prefixes "Pod was rejected: ").
- A critical pod (static, mirror, or priority at least system-cluster-critical's
  2000000000) is never evicted and always admitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubelite.api.qos import qos_class
from kubelite.kubelet.eviction.signals import Observations, PodUsage
from kubelite.kubelet.eviction.thresholds import SIGNAL_RESOURCE, Threshold, binary_quantity
from kubelite.machinery.quantity import parse_json

Obj = dict[str, Any]

REASON = "Evicted"
SYSTEM_CRITICAL_PRIORITY = 2_000_000_000
MEMORY_PRESSURE_TAINT = "node.kubernetes.io/memory-pressure"


def is_critical(pod: Obj) -> bool:
    """kubelettypes.IsCriticalPod."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    if annotations.get("kubernetes.io/config.source", "api") != "api":
        return True  # a static pod
    if "kubernetes.io/config.mirror" in annotations:
        return True
    value = (pod.get("spec") or {}).get("priority")
    return isinstance(value, int) and value >= SYSTEM_CRITICAL_PRIORITY


def _quantity_text(value: int, resource: str) -> str:
    if resource in ("inodes", "pids"):
        return str(value)  # DecimalSI counts
    return binary_quantity(value)


def threshold_met_info(resource: str, thresholds: Sequence[Threshold],
                       observed: Observations) -> tuple[str, str] | None:
    """getThresholdMetInfo: (threshold quantity, available) of the first threshold on
    the resource that has an observation."""
    for threshold in thresholds:
        if SIGNAL_RESOURCE[threshold.signal] != resource:
            continue
        observation = observed.get(threshold.signal)
        if observation is None:
            continue
        if threshold.value.quantity is not None:
            quantity = str(threshold.value.quantity)
        else:
            quantity = _quantity_text(threshold.quantity(observation.capacity), resource)
        return quantity, _quantity_text(observation.available, resource)
    return None


def _container_request(container: Obj, resource: str) -> str:
    value = ((container.get("resources") or {}).get("requests") or {}).get(resource)
    return str(parse_json(value)) if value is not None else "0"


def eviction_message(resource: str, pod: Obj, usage: PodUsage | None,
                     thresholds: Sequence[Threshold], observed: Observations) -> str:
    message = f"The node was low on resource: {resource}. "
    info = threshold_met_info(resource, thresholds, observed)
    if info is not None:
        message += f"Threshold quantity: {info[0]}, available: {info[1]}. "
    if usage is None:
        return message
    spec = pod.get("spec") or {}
    containers = {c.get("name"): c for c in [*(spec.get("containers") or ()),
                                             *(spec.get("initContainers") or ())]}
    for stats in usage.containers:
        container = containers.get(stats.name)
        if container is None:
            continue
        if resource == "memory":
            used = stats.memory_working_set_bytes
        elif resource == "ephemeral-storage":
            used = stats.rootfs_used_bytes + stats.logs_used_bytes
        else:
            continue
        requested = _container_request(container, resource)
        if used > parse_json(requested).value():
            message += (f"Container {stats.name} was using {binary_quantity(used)}, request is "
                        f"{requested}, has larger consumption of {resource}. ")
    return message


def empty_dir_message(volume: str, size_limit: str) -> str:
    return f'Usage of EmptyDir volume "{volume}" exceeds the limit "{size_limit}". '


def container_storage_message(container: str, limit: str) -> str:
    return f'Container {container} exceeded its local ephemeral storage limit "{limit}". '


def pod_storage_message(limit: str) -> str:
    return f"Pod ephemeral local storage usage exceeds the total limit of containers {limit}. "


def condition_message(conditions: Sequence[str]) -> str:
    return f"The node had condition: [{' '.join(conditions)}]. "


def _tolerates_memory_pressure(pod: Obj) -> bool:
    """TolerationsTolerateTaint for memory-pressure:NoSchedule."""
    for toleration in (pod.get("spec") or {}).get("tolerations") or ():
        effect, key = toleration.get("effect") or "", toleration.get("key") or ""
        if effect and effect != "NoSchedule":
            continue
        if key and key != MEMORY_PRESSURE_TAINT:
            continue
        operator = toleration.get("operator") or "Equal"
        if operator == "Exists" or (operator == "Equal" and not toleration.get("value")):
            return True
    return False


def admit(pod: Obj, conditions: Sequence[str]) -> tuple[str, str] | None:
    """None when the pod may run under the node's pressure conditions, else (reason,
    message): memory pressure alone refuses BestEffort pods (unless they tolerate the
    memory-pressure taint); any other pressure refuses every pod; critical pods are
    always admitted."""
    if not conditions or is_critical(pod):
        return None
    if list(conditions) == ["MemoryPressure"]:
        if qos_class(pod) != "BestEffort" or _tolerates_memory_pressure(pod):
            return None
    return REASON, condition_message(conditions)
