"""The downward API: a pod's own fields and its containers' resources as text, as
upstream's fieldpath.ExtractFieldPathAsString and
resource.ExtractResourceValueByContainerNameAndNodeAllocatable.

Pure functions of the pod (and the node's allocatable, which stands in for a limit a
container does not set). Errors are ValueError with upstream's messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubelite.machinery.quantity import Quantity, parse_quantity
from kubelite.machinery.validation import go_quote

Obj = dict[str, Any]

_SUBSCRIPT = re.compile(r"^(metadata\.(?:labels|annotations))\['(.*)'\]$")


def format_map(values: Mapping[str, str]) -> str:
    """`key="value"` lines in key order, no final newline (upstream's FormatMap)."""
    return "\n".join(f"{key}={go_quote(str(values[key]))}" for key in sorted(values))


def field_value(pod: Obj, field_path: str) -> str:
    """The text of a fieldRef a volume (or an env var) may name."""
    meta = pod.get("metadata") or {}
    subscript = _SUBSCRIPT.match(field_path)
    if subscript:
        which, key = subscript.groups()
        return str((meta.get(which.split(".")[1]) or {}).get(key, ""))
    if field_path == "metadata.annotations":
        return format_map(meta.get("annotations") or {})
    if field_path == "metadata.labels":
        return format_map(meta.get("labels") or {})
    if field_path in ("metadata.name", "metadata.namespace", "metadata.uid"):
        return str(meta.get(field_path.split(".")[1]) or "")
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    simple = {"spec.nodeName": spec.get("nodeName"),
              "spec.serviceAccountName": spec.get("serviceAccountName"),
              "status.hostIP": status.get("hostIP"),
              "status.podIP": status.get("podIP")}
    if field_path in simple:
        return str(simple[field_path] or "")
    if field_path in ("status.podIPs", "status.hostIPs"):
        key = field_path.split(".")[1]
        return ",".join(str(entry.get("ip", "")) for entry in status.get(key) or [])
    raise ValueError(f"unsupported fieldPath: {field_path}")


def _quantity(value: Any) -> Quantity:
    return parse_quantity(str(value))


def resource_value(ref: Obj, pod: Obj, container_name: str,
                   node_allocatable: Mapping[str, Any]) -> str:
    """A resourceFieldRef's value: the container's limit (the node's allocatable when it
    sets none) or request, divided by the divisor and rounded up, as upstream."""
    spec = pod.get("spec") or {}
    containers = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    container = next((c for c in containers if c.get("name") == container_name), None)
    if container is None:
        raise ValueError(f"container {container_name} not found")
    resources = container.get("resources") or {}
    limits = dict(resources.get("limits") or {})
    requests = resources.get("requests") or {}
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name not in limits and name in node_allocatable:
            limits[name] = node_allocatable[name]
    divisor = _quantity(ref.get("divisor") or "0")
    if divisor.is_zero():
        divisor = _quantity("1")
    resource = str(ref.get("resource") or "")
    kind, _, name = resource.partition(".")
    source = {"limits": limits, "requests": requests}.get(kind)
    if source is None or not (name in ("cpu", "memory", "ephemeral-storage")
                              or name.startswith("hugepages-")):
        raise ValueError(f"unsupported container resource : {resource}")
    amount = _quantity(source.get(name) or "0")
    if name == "cpu":
        return str(-(-amount.milli_value() // divisor.milli_value()))  # rounded up
    return str(-(-amount.value() // divisor.value()))
