"""NodeResourcesFit: the node must have room for the pod's requests; Score by a strategy.

Filter compares the pod's requests (upstream's PodRequests: containers, init-container peak,
sidecars, overhead) with allocatable minus requested on every node at once, and reports each
shortage as its own reason ("Insufficient cpu", "Insufficient memory", "Too many pods"), as
upstream does. Score uses non-zero requests (100m cpu / 200Mi memory for an unset request)
and one of upstream's strategies, all in Go's int64 arithmetic:

- LeastAllocated (default): (allocatable - requested) * 100 / allocatable per resource;
- MostAllocated: requested * 100 / allocatable, capped at 100;
- RequestedToCapacityRatio: a broken-line function of utilization given by shape points
  (utilization 0..100, score 0..10, scaled to 0..100).
Per-resource scores are combined by weight (cpu 1, memory 1 by default) with integer division.

Scalar resources (extended resources such as `example.com/foo` or `nvidia.com/gpu`,
hugepages) are checked like cpu against the node table's per-resource columns, each shortage
its own "Insufficient example.com/foo" (in name order, where Go's map order is random).
Extended resources named in `ignored_resources`, or whose domain is in
`ignored_resource_groups` (upstream's ignoredResources / ignoredResourceGroups, for
resources an extender judges), are not checked. A scalar resource is scored only when the
strategy lists it, and then only for a pod that asks for it on a node that has it.

Args (NodeResourcesFitArgs, `from_args`): scoringStrategy (type, resources with weights,
requestedToCapacityRatio.shape), ignoredResources and ignoredResourceGroups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np

from kubelite.scheduler import resources
from kubelite.scheduler.config_args import (
    RESOURCE_SPEC, SHAPE_POINT, ArgsError, Struct, decode_args, resource_specs, shape_points,
    validate_function_shape, validate_label_name,
    validate_resource_weights)
from kubelite.scheduler.config_decode import ListOf
from kubelite.scheduler.config_errors import forbidden, invalid, not_supported, required
from kubelite.scheduler.framework import (
    MAX_NODE_SCORE, CycleState, Obj, Rows, Scores, Status, Verdict)
from kubelite.scheduler.node_table import CPU, EPHEMERAL_STORAGE, MEMORY, PODS, NodeTable

LEAST_ALLOCATED = "LeastAllocated"
MOST_ALLOCATED = "MostAllocated"
REQUESTED_TO_CAPACITY_RATIO = "RequestedToCapacityRatio"
MAX_CUSTOM_PRIORITY_SCORE = 10
MAX_UTILIZATION = 100

STRATEGIES = (LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO)

_COLUMN = {"cpu": CPU, "memory": MEMORY, "ephemeral-storage": EPHEMERAL_STORAGE}

ARGS = Struct("v1.NodeResourcesFitArgs", {
    "ignoredResources": ListOf("string"),
    "ignoredResourceGroups": ListOf("string"),
    "scoringStrategy": Struct("v1.ScoringStrategy", {
        "type": "string",
        "resources": ListOf(RESOURCE_SPEC),
        "requestedToCapacityRatio": Struct("v1.RequestedToCapacityRatioParam",
                                           {"shape": ListOf(SHAPE_POINT)}),
    }),
})


def go_div(a: Scores, b: Scores | int) -> Scores:
    """Go's integer division, which truncates toward zero (numpy's // floors)."""
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (np.asarray(b) < 0), -q, q)


def allocation(nodes: NodeTable, rows: Rows, resource: str, pod_amount: int,
               *, non_zero: bool) -> tuple[Scores, Scores]:
    """(allocatable, requested-with-the-pod) of one resource on `rows`; (0, 0) for a scalar
    resource the pod does not ask for, which leaves it out of the score (upstream's
    calculateResourceAllocatableRequest)."""
    if resource not in _COLUMN:
        if pod_amount == 0 or not resources.is_scalar(resource):
            zeros = np.zeros(len(rows), dtype=np.int64)
            return zeros, zeros
        allocatable, requested_all = nodes.scalar_resource(resource)
        return allocatable[rows], requested_all[rows] + pod_amount
    column = _COLUMN[resource]
    if non_zero and column in (CPU, MEMORY):
        requested = nodes.non_zero_requested[rows, column]
    else:
        requested = nodes.requested[rows, column]
    return nodes.allocatable[rows, column], requested + pod_amount


def broken_linear(shape: list[tuple[int, int]], p: Scores) -> Scores:
    """Upstream's BuildBrokenLinearFunction over an array of utilizations."""
    out = np.full_like(p, shape[-1][1])
    done = np.zeros(p.shape, dtype=np.bool_)
    for i, (utilization, score) in enumerate(shape):
        here = ~done & (p <= utilization)
        if i == 0:
            out[here] = score
        else:
            u0, s0 = shape[i - 1]
            out[here] = s0 + go_div((score - s0) * (p[here] - u0), utilization - u0)
        done |= here
    return out


@dataclass(frozen=True, slots=True)
class ScoringStrategy:
    type: str = LEAST_ALLOCATED
    resources: tuple[tuple[str, int], ...] = (("cpu", 1), ("memory", 1))
    shape: tuple[tuple[int, int], ...] = field(default=((0, 10), (100, 0)))


class NodeResourcesFit:
    name: ClassVar[str] = "NodeResourcesFit"

    def __init__(self, *, strategy: ScoringStrategy | None = None,
                 ignored_resources: tuple[str, ...] = (),
                 ignored_resource_groups: tuple[str, ...] = ()) -> None:
        self.strategy = strategy or ScoringStrategy()
        self.ignored_resources = frozenset(ignored_resources)
        self.ignored_resource_groups = frozenset(ignored_resource_groups)

    def _is_ignored(self, resource: str) -> bool:
        return resources.is_extended(resource) and (
            resource in self.ignored_resources
            or resource.split("/", 1)[0] in self.ignored_resource_groups)

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Self:
        """NodeResourcesFitArgs, defaulted (SetDefaults_NodeResourcesFitArgs) and checked
        (ValidateNodeResourcesFitArgs)."""
        errors = decode_args(args, ARGS)
        ignored = [str(r) for r in args.get("ignoredResources") or ()]
        groups = [str(g) for g in args.get("ignoredResourceGroups") or ()]
        for i, name in enumerate(ignored):
            errors += validate_label_name(name, f"ignoredResources[{i}]")
        for i, group in enumerate(groups):
            if "/" in group:
                errors.append(invalid(f"ignoredResourceGroups[{i}]", group,
                                      "resource group name can't contain '/'"))
            errors += validate_label_name(group, f"ignoredResourceGroups[{i}]")
        raw = args.get("scoringStrategy")
        if raw is None:
            raw = {"type": LEAST_ALLOCATED}
        kind = str(raw.get("type") or "")
        specs = resource_specs(raw.get("resources"))
        if kind not in STRATEGIES:
            errors.append(not_supported("scoringStrategy.type", kind, sorted(STRATEGIES)))
        errors += validate_resource_weights(specs, "scoringStrategy.resources")
        ratio = raw.get("requestedToCapacityRatio")
        shape: list[tuple[int, int]] = []
        if kind == REQUESTED_TO_CAPACITY_RATIO:
            if ratio is None:
                errors.append(required("scoringStrategy.requestedToCapacityRatio",
                                       "must be specified when type is RequestedToCapacityRatio"))
            else:
                shape = shape_points(ratio.get("shape"))
                errors += validate_function_shape(shape, "scoringStrategy.requestedToCapacityRatio.shape")
        elif ratio is not None:
            errors.append(forbidden("scoringStrategy.requestedToCapacityRatio",
                                    "must be nil when type is not RequestedToCapacityRatio"))
        if errors:
            raise ArgsError(errors)
        strategy = ScoringStrategy(kind, tuple(specs), *((tuple(shape),) if shape else ()))
        return cls(strategy=strategy, ignored_resources=tuple(ignored),
                   ignored_resource_groups=tuple(groups))

    def pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status:
        state[self.name] = resources.pod_requests(pod)
        return Status.success()

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        wanted: resources.Amounts = state[self.name]
        n = len(nodes)
        free = nodes.allocatable[:n] - nodes.requested[:n]
        verdict = Verdict(n)
        verdict.reject(free[:, PODS] < 1, "Too many pods")
        if any(wanted.values()):  # a pod asking nothing fits wherever there is a pod slot
            for resource in resources.RESOURCES:
                verdict.reject(free[:, _COLUMN[resource]] < wanted[resource], f"Insufficient {resource}")
            for resource in sorted(wanted.keys() - _COLUMN.keys()):
                amount = wanted[resource]
                if amount == 0 or self._is_ignored(resource):
                    continue
                allocatable, requested = nodes.scalar_resource(resource)
                verdict.reject(allocatable - requested < amount, f"Insufficient {resource}")
        return verdict

    def pre_score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Status:
        state[f"{self.name}/score"] = resources.pod_requests(pod, non_zero=True)
        return Status.success()

    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        wanted: resources.Amounts = state[f"{self.name}/score"]
        total = np.zeros(len(rows), dtype=np.int64)
        weights = np.zeros(len(rows), dtype=np.int64)
        for resource, weight in self.strategy.resources:
            alloc, req = allocation(nodes, rows, resource, wanted.get(resource, 0), non_zero=True)
            counted = alloc != 0  # a resource the node does not have is left out
            safe = np.where(counted, alloc, 1)
            if self.strategy.type == MOST_ALLOCATED:
                per = np.minimum(req, safe) * MAX_NODE_SCORE // safe
            elif self.strategy.type == REQUESTED_TO_CAPACITY_RATIO:
                scaled = [(u, s * (MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE))
                          for u, s in self.strategy.shape]
                utilization = np.where(req > safe, MAX_UTILIZATION, req * MAX_UTILIZATION // safe)
                per = broken_linear(scaled, utilization)
                counted &= per > 0  # upstream leaves zero scores out of the weighted mean
            else:
                per = np.where(req > safe, 0, (safe - req) * MAX_NODE_SCORE // safe)
            total += np.where(counted, per * weight, 0)
            weights += np.where(counted, weight, 0)
        if self.strategy.type == REQUESTED_TO_CAPACITY_RATIO:
            mean = np.round(total / np.maximum(weights, 1)).astype(np.int64)
        else:
            mean = total // np.maximum(weights, 1)
        return np.where(weights == 0, 0, mean)
