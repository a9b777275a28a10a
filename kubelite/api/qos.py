"""A pod's quality-of-service class (pkg/apis/core/v1/helper/qos GetPodQOS).

Shared by the API server, which sets status.qosClass when a pod is created, and the
kubelet, which reports it: Guaranteed when every container limits cpu and memory and
requests what it limits, BestEffort when nothing requests or limits either, else
Burstable. Pod-level resources, when set, decide alone.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

from kubelite.machinery.quantity import parse_json

Obj = dict[str, Any]

_QOS_RESOURCES = ("cpu", "memory")


def qos_class(pod: Obj) -> str:
    """GetPodQOS: Guaranteed, Burstable or BestEffort from cpu/memory requests and limits."""
    spec = pod.get("spec") or {}
    pod_resources = spec.get("resources")
    if isinstance(pod_resources, dict) and (pod_resources.get("requests") or pod_resources.get("limits")):
        # Pod-level resources decide alone when set.
        groups = [pod_resources]
    else:
        groups = [(c.get("resources") or {}) for key in ("containers", "initContainers")
                  for c in spec.get(key) or () if isinstance(c, dict)]
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for resources in groups:
        for name, value in (resources.get("requests") or {}).items():
            amount = _amount(value)
            if name in _QOS_RESOURCES and amount > 0:
                requests[name] = requests.get(name, Fraction(0)) + amount
        found = set()
        for name, value in (resources.get("limits") or {}).items():
            amount = _amount(value)
            if name in _QOS_RESOURCES and amount > 0:
                found.add(name)
                limits[name] = limits.get(name, Fraction(0)) + amount
        if not found.issuperset(_QOS_RESOURCES):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and all(limits.get(name) == amount for name, amount in requests.items()):
        if len(requests) == len(limits):
            return "Guaranteed"
    return "Burstable"


def _amount(value: Any) -> Fraction:
    if isinstance(value, str):
        return _amount_of_text(value)  # the usual spelling, and the few there are repeat
    return _parse_amount(value)


@functools.lru_cache(maxsize=1024)
def _amount_of_text(text: str) -> Fraction:
    return _parse_amount(text)


def _parse_amount(value: Any) -> Fraction:
    # An unparsable (or absurdly scaled) amount counts as none, as if the field were unset.
    try:
        return parse_json(value).amount
    except (ValueError, OverflowError):
        return Fraction(0)
