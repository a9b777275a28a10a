"""What a pod costs against a quota (pkg/quota/v1/evaluator/core/pods.go upstream):
`pods`, cpu/memory/ephemeral-storage as `requests.*` (and the bare legacy names) and
`limits.*`, hugepages and extended resources as `requests.*`, and `count/pods`. A pod
in a terminal phase, or past its deletion grace period, is charged only its
`count/pods`. Scopes: Terminating, NotTerminating, BestEffort, NotBestEffort,
PriorityClass (scopeSelector In/NotIn/Exists/DoesNotExist), CrossNamespacePodAffinity.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from kubelite.api.qos import qos_class
from kubelite.api.quota.evaluator import ONE, Obj, ScopeRequirement
from kubelite.api.quota.pod_resources import pod_limits, pod_requests
from kubelite.api.quota.resources import ResourceList, add, parse_list
from kubelite.machinery.timestamps import parse_rfc3339


# If a quota limits cpu or memory, each container must say how much it wants: a
# mistake upstream keeps for compatibility and limits to these names.
_VALIDATION_SET = frozenset({"cpu", "memory", "requests.cpu", "requests.memory",
                             "limits.cpu", "limits.memory"})
_POD_RESOURCES = frozenset({"count/pods", "cpu", "memory", "ephemeral-storage",
                            "requests.cpu", "requests.memory", "requests.ephemeral-storage",
                            "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods"})


def _is_extended(name: str) -> bool:
    """helper.IsExtendedResourceName: a qualified name outside kubernetes.io/ and not
    a quota request name."""
    return not name.startswith("requests.") and "/" in name and "kubernetes.io/" not in name


def _is_extended_quota_name(name: str) -> bool:
    """`requests.<something not native>`: only the requests form is allowed for
    extended resources, which cannot overcommit."""
    return name.startswith("requests.") and "/" in name and "kubernetes.io/" not in name


def compute_usage(requests: ResourceList, limits: ResourceList) -> ResourceList:
    """podComputeUsageHelper: quota names for a set of requests and limits."""
    used: ResourceList = {"pods": ONE}
    for resource in ("cpu", "memory", "ephemeral-storage"):
        if resource in requests:
            used[resource] = used[f"requests.{resource}"] = requests[resource]
        if resource in limits:
            used[f"limits.{resource}"] = limits[resource]
    for resource, request in requests.items():
        if resource.startswith("hugepages-"):
            used[resource] = used[f"requests.{resource}"] = request
        elif _is_extended(resource):
            used[f"requests.{resource}"] = request
    return used


def pod_is_charged(pod: Obj, now: datetime.datetime) -> bool:
    """QuotaV1Pod: not terminal, and not stuck terminating past its grace period."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    meta = pod.get("metadata") or {}
    deleted = parse_rfc3339(str(meta.get("deletionTimestamp") or ""))
    grace = meta.get("deletionGracePeriodSeconds")
    if deleted is not None and isinstance(grace, int):
        return now <= deleted + datetime.timedelta(seconds=grace)
    return True


def _uses_cross_namespace_affinity(pod: Obj) -> bool:
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        rules = affinity.get(kind) or {}
        terms = list(rules.get("requiredDuringSchedulingIgnoredDuringExecution") or ())
        terms += [(t or {}).get("podAffinityTerm") or {}
                  for t in rules.get("preferredDuringSchedulingIgnoredDuringExecution") or ()]
        if any((t or {}).get("namespaces") or (t or {}).get("namespaceSelector") is not None
               for t in terms):
            return True
    return False


def _selector_matches(scope: ScopeRequirement, value: str | None) -> bool:
    """A scopeSelector requirement as a label selector over {scopeName: value}."""
    if scope.operator == "Exists":
        return value is not None
    if scope.operator == "DoesNotExist":
        return value is None
    if scope.operator == "In":
        return value is not None and value in scope.values
    if scope.operator == "NotIn":
        return value is None or value not in scope.values
    return False


class PodEvaluator:
    group: str = ""
    plural: str = "pods"

    def handles(self, operation: str, subresource: str) -> bool:
        if subresource == "resize":
            return operation == "UPDATE"
        return subresource == "" and operation == "CREATE"

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [name for name in names
                if name in _POD_RESOURCES or name.startswith(("hugepages-", "requests.hugepages-"))
                or _is_extended_quota_name(name)]

    def matches_scope(self, scope: ScopeRequirement, obj: Obj) -> bool:
        spec = obj.get("spec") or {}
        name = scope.scope_name
        if name in ("Terminating", "NotTerminating"):
            deadline = spec.get("activeDeadlineSeconds")
            terminating = isinstance(deadline, int) and deadline >= 0
            return terminating == (name == "Terminating")
        if name in ("BestEffort", "NotBestEffort"):
            return (qos_class(obj) == "BestEffort") == (name == "BestEffort")
        if name == "PriorityClass":
            return _selector_matches(scope, spec.get("priorityClassName") or None)
        if name == "CrossNamespacePodAffinity":
            return _uses_cross_namespace_affinity(obj)
        return False

    def constraints(self, required: Iterable[str], obj: Obj) -> str:
        wanted = set(required) & _VALIDATION_SET
        missing: dict[str, set[str]] = {}
        spec = obj.get("spec") or {}
        for key in ("containers", "initContainers"):
            for container in spec.get(key) or ():
                resources = (container or {}).get("resources") or {}
                has = set(compute_usage(parse_list(resources.get("requests")),
                                        parse_list(resources.get("limits"))))
                for name in wanted - has:
                    missing.setdefault(name, set()).add(str(container.get("name") or ""))
        if not missing:
            return ""
        return "must specify " + "; ".join(
            f"{name} for: {','.join(sorted(missing[name]))}" for name in sorted(missing))

    def usage(self, obj: Obj, now: datetime.datetime) -> ResourceList:
        used: ResourceList = {"count/pods": ONE}  # stored pods count whatever their phase
        if not pod_is_charged(obj, now):
            return used
        return add(used, compute_usage(pod_requests(obj), pod_limits(obj)))
