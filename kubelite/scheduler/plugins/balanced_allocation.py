"""NodeResourcesBalancedAllocation: favour nodes whose cpu and memory fill evenly.

Score is (1 - std) * 100 of the requested/allocatable fractions (each capped at 1), with the
pod counted in; for two resources std is |f1 - f2| / 2. It uses actual requests (no 100m /
200Mi defaults), and a pod that requests nothing is not scored (PreScore: Skip), as upstream.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from kubelite.scheduler import resources
from kubelite.scheduler.framework import MAX_NODE_SCORE, CycleState, Obj, Rows, Scores, Status
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.plugins.node_resources_fit import allocation


class NodeResourcesBalancedAllocation:
    name: ClassVar[str] = "NodeResourcesBalancedAllocation"

    def __init__(self, *, resources: tuple[str, ...] = ("cpu", "memory")) -> None:
        self.resources = resources

    def pre_score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Status:
        wanted = resources.pod_requests(pod)
        if not any(wanted[r] for r in self.resources):
            return Status.skip()
        state[self.name] = wanted
        return Status.success()

    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        wanted: resources.Amounts = state[self.name]
        fractions = np.zeros((len(self.resources), len(rows)))
        counted = np.zeros((len(self.resources), len(rows)), dtype=np.bool_)
        for i, resource in enumerate(self.resources):
            alloc, req = allocation(nodes, rows, resource, wanted[resource], non_zero=False)
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
