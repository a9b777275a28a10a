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
The shared shape is evaluator.py, pods pods.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from kubelite.api.quota.evaluator import (
    ONE,
    Evaluator,
    Obj,
    ScopeRequirement,
    Unscoped,
    matches,
    object_count_name,
    quota_scopes,
    usage_stats,
)
from kubelite.api.quota.pods import PodEvaluator, compute_usage, pod_is_charged
from kubelite.api.quota.resources import ResourceList, parse_list
from kubelite.machinery.quantity import Quantity

__all__ = ["CORE_EVALUATORS", "Evaluator", "ObjectCountEvaluator",
           "PersistentVolumeClaimEvaluator", "PodEvaluator", "ScopeRequirement",
           "ServiceEvaluator", "compute_usage", "counted_resource", "evaluator_for",
           "evaluators_for_quota", "matches", "pod_is_charged", "quota_scopes",
           "usage_stats"]


class ObjectCountEvaluator(Unscoped):
    """Any kind: one of it costs one `count/<plural>[.<group>]` (and one of the legacy
    name, for the four kinds that have one). Only creates change a count."""

    def __init__(self, group: str, plural: str, alias: str = "") -> None:
        self.group = group
        self.plural = plural
        self.names = (object_count_name(group, plural),) + ((alias,) if alias else ())

    def handles(self, operation: str, subresource: str) -> bool:
        return operation == "CREATE"

    def usage(self, obj: Obj, now: datetime.datetime) -> ResourceList:
        return {name: ONE for name in self.names}


class ServiceEvaluator(Unscoped):
    group: str = ""
    plural: str = "services"
    names = ("count/services", "services", "services.nodeports", "services.loadbalancers")

    def handles(self, operation: str, subresource: str) -> bool:
        return operation in ("CREATE", "UPDATE")  # an update can change the type

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


class PersistentVolumeClaimEvaluator(Unscoped):
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
