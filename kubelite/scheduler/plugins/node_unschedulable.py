"""NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods that tolerate
the `node.kubernetes.io/unschedulable:NoSchedule` taint, as upstream."""

from __future__ import annotations

from typing import ClassVar

from kubelite.scheduler.framework import Code, CycleState, Obj, Verdict
from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.plugins.taint_toleration import tolerations_of, tolerates

REASON = "node(s) were unschedulable"
UNSCHEDULABLE_TAINT = ("node.kubernetes.io/unschedulable", "", "NoSchedule")


class NodeUnschedulable:
    name: ClassVar[str] = "NodeUnschedulable"

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        verdict = Verdict(len(nodes))
        if not any(tolerates(t, UNSCHEDULABLE_TAINT) for t in tolerations_of(pod)):
            verdict.reject(nodes.unschedulable[: len(nodes)], REASON, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        return verdict
