"""Local storage isolation (eviction_manager.go localStorageEviction): a pod that
uses more local disk than it said it would is evicted at once, pressure or not.

In upstream's order, the first that holds evicts the pod:
1. an emptyDir whose usage exceeds its sizeLimit;
2. the pod's ephemeral usage (writable layers, logs, local ephemeral volumes) above
   the sum of its containers' ephemeral-storage limits, when it has one;
3. a container whose logs (and writable layer, when images share the node's
   filesystem) exceed its own ephemeral-storage limit.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.quota.pod_resources import pod_limits
from kubelite.kubelet.eviction import messages
from kubelite.kubelet.eviction.signals import PodUsage
from kubelite.machinery.quantity import parse_json

Obj = dict[str, Any]

EPHEMERAL_VOLUMES = ("emptyDir", "configMap", "secret", "downwardAPI", "projected")


def _empty_dir(pod: Obj, usage: PodUsage) -> str | None:
    for volume in (pod.get("spec") or {}).get("volumes") or ():
        source = volume.get("emptyDir")
        if not isinstance(source, dict) or source.get("sizeLimit") is None:
            continue
        size = parse_json(source["sizeLimit"])
        used = usage.volumes.get(volume.get("name", ""))
        if used is not None and size.sign() > 0 and used.used_bytes > size.value():
            return messages.empty_dir_message(volume["name"], str(size))
    return None


def _pod_total(pod: Obj, usage: PodUsage) -> str | None:
    limit = pod_limits(pod).get("ephemeral-storage")
    if limit is None:
        return None
    ephemeral = {v.get("name") for v in (pod.get("spec") or {}).get("volumes") or ()
                 if any(key in v for key in EPHEMERAL_VOLUMES)}
    used = sum(c.rootfs_used_bytes + c.logs_used_bytes for c in usage.containers)
    used += sum(v.used_bytes for name, v in usage.volumes.items() if name in ephemeral)
    if used > limit.value():
        return messages.pod_storage_message(str(limit))
    return None


def _container(pod: Obj, usage: PodUsage, dedicated_image_fs: bool) -> str | None:
    limits = {}
    for container in (pod.get("spec") or {}).get("containers") or ():
        value = ((container.get("resources") or {}).get("limits") or {}).get("ephemeral-storage")
        if value is not None and parse_json(value).value() != 0:
            limits[container.get("name")] = parse_json(value)
    for stats in usage.containers:
        limit = limits.get(stats.name)
        if limit is None:
            continue
        used = stats.logs_used_bytes + (0 if dedicated_image_fs else stats.rootfs_used_bytes)
        if limit.value() < used:
            return messages.container_storage_message(stats.name, str(limit))
    return None


def violation(pod: Obj, usage: PodUsage, *, dedicated_image_fs: bool = False) -> str | None:
    """The eviction message for the pod's first local storage violation, or None."""
    return (_empty_dir(pod, usage) or _pod_total(pod, usage)
            or _container(pod, usage, dedicated_image_fs))
