"""How quota measures objects (pkg/quota/v1/evaluator/core and
k8s.io/apiserver/pkg/quota/v1/generic upstream): one evaluator per resource kind.

Shared by the API server's ResourceQuota admission, which charges one object's usage
as it is written, and the resourcequota loop, which sums the usage of every object in
a namespace; both ask `evaluator_for(group, plural)`, so they cannot disagree on what
an object costs.

- pods: `pods`, cpu/memory/ephemeral-storage as `requests.*` (and the bare legacy
  names) and `limits.*`, hugepages and extended resources as `requests.*`, and
  `count/pods`. A pod in a terminal phase, or past its deletion grace period, is
  charged only its `count/pods`. Scopes: Terminating, NotTerminating, BestEffort,
  NotBestEffort, PriorityClass, CrossNamespacePodAffinity.
- services: `services`, `services.nodeports`, `services.loadbalancers`,
  `count/services`.
- persistentvolumeclaims: `persistentvolumeclaims`, `requests.storage`, their
  `<class>.storageclass.storage.k8s.io/` forms, `count/persistentvolumeclaims`.
- everything else: `count/<plural>[.<group>]`, and for configmaps, secrets,
  replicationcontrollers and resourcequotas also the legacy bare name.

Evaluators are pure: they read the object and the time they are given, nothing else.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.api.qos import qos_class
from kubelite.api.quota.pod_resources import pod_limits, pod_requests
from kubelite.api.quota.resources import ResourceList, add, parse_list
from kubelite.machinery.quantity import Quantity
from kubelite.machinery.timestamps import parse_rfc3339

Obj = dict[str, Any]
ONE = Quantity(1)


@dataclass(frozen=True, slots=True)
class ScopeRequirement:
    """One scope a quota is restricted to: spec.scopes give Exists requirements,
    spec.scopeSelector.matchExpressions the rest."""

    scope_name: str
    operator: str = "Exists"
    values: tuple[str, ...] = ()


def quota_scopes(quota: Obj) -> list[ScopeRequirement]:
    spec = quota.get("spec") or {}
    out = [ScopeRequirement(str(scope)) for scope in spec.get("scopes") or ()]
    for expr in (spec.get("scopeSelector") or {}).get("matchExpressions") or ():
        out.append(ScopeRequirement(str(expr.get("scopeName") or ""),
                                    str(expr.get("operator") or ""),
                                    tuple(str(v) for v in expr.get("values") or ())))
    return out


def object_count_name(group: str, plural: str) -> str:
    return f"count/{plural}.{group}" if group else f"count/{plural}"


class Evaluator(Protocol):
    group: str
    plural: str

    def handles(self, operation: str, subresource: str) -> bool:
        """Whether a write (CREATE/UPDATE, and its subresource) can change usage."""

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        """The names among `names` this evaluator measures."""

    def matches_scope(self, scope: ScopeRequirement, obj: Obj) -> bool:
        """Whether obj falls in the scope (never, for kinds without scopes)."""

    def constraints(self, required: Iterable[str], obj: Obj) -> str:
        """Why obj may not be admitted under a quota on `required`, or ""."""

    def usage(self, obj: Obj, now: datetime.datetime) -> ResourceList:
        """What obj costs."""


def matches(evaluator: Evaluator, quota: Obj, obj: Obj) -> bool:
    """generic.Matches: the quota limits something this evaluator measures, and obj
    falls in every scope of the quota."""
    hard = (quota.get("status") or {}).get("hard") or {}
    if not evaluator.matching_resources(hard):
        return False
    return all(evaluator.matches_scope(scope, obj) for scope in quota_scopes(quota))


def usage_stats(evaluator: Evaluator, objects: Iterable[Obj], quota: Obj,
                resources: Iterable[str], now: datetime.datetime) -> ResourceList:
    """CalculateUsageStats: the summed usage of the objects in the quota's scopes,
    each of `resources` present (zero when nothing uses it)."""
    used: ResourceList = {name: Quantity(0) for name in resources}
    scopes = quota_scopes(quota)
    for obj in objects:
        if all(evaluator.matches_scope(scope, obj) for scope in scopes):
            used = add(used, evaluator.usage(obj, now))
    return used


class ObjectCountEvaluator:
    """Any kind: one of it costs one `count/<plural>[.<group>]` (and one of the legacy
    name, for the four kinds that have one). Only creates change a count."""

    def __init__(self, group: str, plural: str, alias: str = "") -> None:
        self.group = group
        self.plural = plural
        self.names = (object_count_name(group, plural),) + ((alias,) if alias else ())

    def handles(self, operation: str, subresource: str) -> bool:
        return operation == "CREATE"

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if name in self.names]

    def matches_scope(self, scope: ScopeRequirement, obj: Obj) -> bool:
        return False

    def constraints(self, required: Iterable[str], obj: Obj) -> str:
        return ""

    def usage(self, obj: Obj, now: datetime.datetime) -> ResourceList:
        return {name: ONE for name in self.names}


class ServiceEvaluator:
    group: str = ""
    plural: str = "services"
    names = ("count/services", "services", "services.nodeports", "services.loadbalancers")

    def handles(self, operation: str, subresource: str) -> bool:
        return operation in ("CREATE", "UPDATE")  # an update can change the type

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if name in self.names]

    def matches_scope(self, scope: ScopeRequirement, obj: Obj) -> bool:
        return False

    def constraints(self, required: Iterable[str], obj: Obj) -> str:
        return ""

    def usage(self, obj: Obj, now: datetime.datetime) -> ResourceList:
        spec = obj.get("spec") or {}
        ports = spec.get("ports") or []
        kind = spec.get("type")
        node_ports = 0
        if kind == "NodePort":
            node_ports = len(ports)
        elif kind == "LoadBalancer":
            # Without node ports allocated, only the explicitly asked ones count.
            node_ports = len(ports) if spec.get("allocateLoadBalancerNodePorts") is not False \
                else sum(1 for port in ports if (port or {}).get("nodePort"))
        return {"count/services": ONE, "services": ONE,
                "services.nodeports": Quantity(node_ports),
                "services.loadbalancers": Quantity(1 if kind == "LoadBalancer" else 0)}


STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
_PVC_RESOURCES = ("persistentvolumeclaims", "requests.storage")


class PersistentVolumeClaimEvaluator:
    group: str = ""
    plural: str = "persistentvolumeclaims"

    def handles(self, operation: str, subresource: str) -> bool:
        # A status write can change usage only through allocatedResources, which
        # kubelite's claims do not set yet.
        return subresource == "" and operation in ("CREATE", "UPDATE")

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [name for name in names
                if name == "count/persistentvolumeclaims" or name in _PVC_RESOURCES
                or any(name.endswith(STORAGE_CLASS_SUFFIX + r) for r in _PVC_RESOURCES)]

    def matches_scope(self, scope: ScopeRequirement, obj: Obj) -> bool:
        return False

    def constraints(self, required: Iterable[str], obj: Obj) -> str:
        return ""

    def usage(self, obj: Obj, now: datetime.datetime) -> ResourceList:
        spec = obj.get("spec") or {}
        used: ResourceList = {"persistentvolumeclaims": ONE, "count/persistentvolumeclaims": ONE}
        storage_class = spec.get("storageClassName") or \
            ((obj.get("metadata") or {}).get("annotations") or {}).get(
                "volume.beta.kubernetes.io/storage-class") or ""
        if storage_class:
            used[storage_class + STORAGE_CLASS_SUFFIX + "persistentvolumeclaims"] = ONE
        requested = parse_list((spec.get("resources") or {}).get("requests")).get("storage")
        if requested is not None:
            allocated = parse_list((obj.get("status") or {}).get("allocatedResources")).get("storage")
            if allocated is not None and allocated > requested:
                requested = allocated
            # Counted in whole bytes, so a fractional request cannot dodge the quota.
            requested = Quantity(requested.value(), 0, requested.format)
            used["requests.storage"] = requested
            if storage_class:
                used[storage_class + STORAGE_CLASS_SUFFIX + "requests.storage"] = requested
        return used


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


_LEGACY_ALIASES = {"configmaps": "configmaps", "secrets": "secrets",
                   "replicationcontrollers": "replicationcontrollers",
                   "resourcequotas": "resourcequotas"}
CORE_EVALUATORS: dict[tuple[str, str], Evaluator] = {
    ("", "pods"): PodEvaluator(),
    ("", "services"): ServiceEvaluator(),
    ("", "persistentvolumeclaims"): PersistentVolumeClaimEvaluator(),
    **{("", plural): ObjectCountEvaluator("", plural, alias)
       for plural, alias in _LEGACY_ALIASES.items()},
}


def evaluator_for(group: str, plural: str) -> Evaluator:
    """The evaluator of a resource: a core one, or an object counter."""
    return CORE_EVALUATORS.get((group, plural)) or ObjectCountEvaluator(group, plural)


def counted_resource(name: str) -> tuple[str, str] | None:
    """(group, plural) of a `count/<plural>[.<group>]` quota name, else None."""
    if not name.startswith("count/"):
        return None
    plural, _, group = name.removeprefix("count/").partition(".")
    return (group, plural) if plural else None


def evaluators_for_quota(hard_names: Iterable[str]) -> list[Evaluator]:
    """The evaluators that measure some name a quota limits, one per resource."""
    names = list(hard_names)
    found: dict[tuple[str, str], Evaluator] = {
        key: ev for key, ev in CORE_EVALUATORS.items() if ev.matching_resources(names)}
    for name in names:
        counted = counted_resource(name)
        if counted is not None and counted not in found:
            found[counted] = evaluator_for(*counted)
    return list(found.values())
