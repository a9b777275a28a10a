"""NodeResourcesBalancedAllocation: favour nodes whose cpu and memory fill evenly.

Score is (1 - std) * 100 of the requested/allocatable fractions (each capped at 1), with the
pod counted in; for two resources std is |f1 - f2| / 2. It uses actual requests (no 100m /
200Mi defaults), and a pod that requests nothing is not scored (PreScore: Skip), as upstream.

Args (NodeResourcesBalancedAllocationArgs, `from_args`): the resources to balance, each
named once and weighted 1 (the only weight upstream accepts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np

from kubelite.scheduler import resources
from kubelite.scheduler.config_args import (
    RESOURCE_SPEC, ArgsError, Struct, decode_args, resource_specs)
from kubelite.scheduler.config_decode import ListOf
from kubelite.scheduler.config_errors import duplicate, invalid
from kubelite.scheduler.framework import MAX_NODE_SCORE, CycleState, Obj, Rows, Scores, Status
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.plugins.node_resources_fit import allocation

ARGS = Struct("v1.NodeResourcesBalancedAllocationArgs", {"resources": ListOf(RESOURCE_SPEC)})


class NodeResourcesBalancedAllocation:
    name: ClassVar[str] = "NodeResourcesBalancedAllocation"

    def __init__(self, *, resources: tuple[str, ...] = ("cpu", "memory")) -> None:
        self.resources = resources

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Self:
        """Upstream's defaults (cpu and memory; weight 0 means 1) and
        ValidateNodeResourcesBalancedAllocationArgs."""
        errors = decode_args(args, ARGS)
        specs = resource_specs(args.get("resources"))
        seen: set[str] = set()
        for i, (name, weight) in enumerate(specs):
            if name in seen:
                errors.append(duplicate(f"resources[{i}].name", name))
            seen.add(name)
            if weight != 1:
                errors.append(invalid(f"resources[{i}].weight", weight, "must be 1"))
        if errors:
            raise ArgsError(errors)
        return cls(resources=tuple(name for name, _ in specs))

    def pre_score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Status:
        wanted = resources.pod_requests(pod)
        if not any(wanted.get(r, 0) for r in self.resources):
            return Status.skip()
        state[self.name] = wanted
        return Status.success()

    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        wanted: resources.Amounts = state[self.name]
        fractions = np.zeros((len(self.resources), len(rows)))
        counted = np.zeros((len(self.resources), len(rows)), dtype=np.bool_)
        for i, resource in enumerate(self.resources):
            alloc, req = allocation(nodes, rows, resource, wanted.get(resource, 0), non_zero=False)
            counted[i] = alloc != 0
            fractions[i] = np.minimum(req / np.where(counted[i], alloc, 1), 1.0)
        count = counted.sum(axis=0)
        fractions = np.where(counted, fractions, 0.0)
        mean = fractions.sum(axis=0) / np.maximum(count, 1)
        variance = np.where(counted, (fractions - mean) ** 2, 0.0).sum(axis=0) / np.maximum(count, 1)
        std = np.where(count >= 2, np.sqrt(variance), 0.0)
        if len(self.resources) == 2:
            # upstream's shortcut for two resources, kept for its exact float rounding
            std = np.where(count == 2, np.abs((fractions[0] - fractions[1]) / 2), std)
        return ((1 - std) * MAX_NODE_SCORE).astype(np.int64)
