"""A container's requests and limits as the runtime's cgroup settings
(pkg/kubelet/kuberuntime/kuberuntime_container_linux.go, pkg/kubelet/cm/helpers_linux.go,
pkg/kubelet/qos/policy.go).

- cpu shares: requests.cpu (or, without a request, limits.cpu) at 1024 per CPU,
  within [2, 262144]; no request at all gives the minimum, 2.
- cpu quota: limits.cpu over a 100 ms period, at least 1 ms; 0 without a limit.
- memory: limits.memory in bytes; 0 without a limit.
- oom_score_adj: Guaranteed (or system-node-critical) -997, BestEffort 1000, Burstable
  1000 - 1000 * request / node memory, kept within [3, 999].
"""

from __future__ import annotations

from typing import Any

from kubelite.api.qos import qos_class
from kubelite.kubelet import cri
from kubelite.machinery.quantity import parse_json

Obj = dict[str, Any]

MIN_SHARES = 2
MAX_SHARES = 262144
SHARES_PER_CPU = 1024
QUOTA_PERIOD = 100_000  # µs
MIN_QUOTA = 1000  # µs
GUARANTEED_OOM_SCORE_ADJ = -997
BEST_EFFORT_OOM_SCORE_ADJ = 1000


def milli_cpu_to_shares(milli_cpu: int) -> int:
    if milli_cpu == 0:
        return MIN_SHARES
    shares = milli_cpu * SHARES_PER_CPU // 1000
    return max(MIN_SHARES, min(MAX_SHARES, shares))


def milli_cpu_to_quota(milli_cpu: int, period: int = QUOTA_PERIOD) -> int:
    if milli_cpu == 0:
        return 0
    return max(MIN_QUOTA, milli_cpu * period // 1000)


def _quantity(resources: Obj, kind: str, name: str) -> Any:
    return ((resources.get(kind) or {}).get(name))


def _milli(value: Any) -> int:
    return 0 if value is None else parse_json(value).milli_value()


def _bytes(value: Any) -> int:
    return 0 if value is None else parse_json(value).value()


def oom_score_adj(pod: Obj, container: Obj, memory_capacity: int) -> int:
    if (pod.get("spec") or {}).get("priorityClassName") == "system-node-critical":
        return GUARANTEED_OOM_SCORE_ADJ
    qos = qos_class(pod)
    if qos == "Guaranteed":
        return GUARANTEED_OOM_SCORE_ADJ
    if qos == "BestEffort":
        return BEST_EFFORT_OOM_SCORE_ADJ
    request = _bytes(_quantity(container.get("resources") or {}, "requests", "memory"))
    adjust = 1000 - (1000 * request) // max(1, memory_capacity)
    if adjust < 1000 + GUARANTEED_OOM_SCORE_ADJ:
        return 1000 + GUARANTEED_OOM_SCORE_ADJ
    if adjust == BEST_EFFORT_OOM_SCORE_ADJ:
        return adjust - 1
    return adjust


def container_resources(pod: Obj, container: Obj, memory_capacity: int) -> cri.Resources:
    """Raises ValueError for a quantity that does not parse (the API server validated
    it, so only a foreign server's object could)."""
    resources = container.get("resources") or {}
    request = _quantity(resources, "requests", "cpu")
    limit = _milli(_quantity(resources, "limits", "cpu"))
    if request is None and limit:
        shares = milli_cpu_to_shares(limit)  # the request defaults to the limit
    else:
        shares = milli_cpu_to_shares(_milli(request))
    return cri.Resources(
        cpu_period=QUOTA_PERIOD, cpu_quota=milli_cpu_to_quota(limit), cpu_shares=shares,
        memory_limit_in_bytes=_bytes(_quantity(resources, "limits", "memory")),
        oom_score_adj=oom_score_adj(pod, container, memory_capacity))
