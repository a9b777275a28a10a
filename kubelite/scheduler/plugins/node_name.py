"""NodeName: a pod that names its node (spec.nodeName) fits only there."""

from __future__ import annotations

from typing import ClassVar

from kubelite.scheduler.framework import Code, CycleState, Obj, Status, Verdict
from kubelite.scheduler.node_table import NodeTable

REASON = "node(s) didn't match the requested node name"


class NodeName:
    name: ClassVar[str] = "NodeName"

    def pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status:
        return Status.success() if (pod.get("spec") or {}).get("nodeName") else Status.skip()

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        verdict = Verdict(len(nodes))
        wanted = (pod.get("spec") or {}).get("nodeName")
        if wanted:
            verdict.reject(nodes.name_column() != wanted, REASON, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        return verdict
