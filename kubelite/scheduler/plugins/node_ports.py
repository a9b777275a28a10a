"""NodePorts: a pod's hostPorts must be free on the node.

Two bindings conflict on the same protocol and port when either host IP is 0.0.0.0 (all
addresses) or both are equal, as upstream's HostPortInfo.CheckConflict. Only the few nodes
that have any host port in use are looked at one by one.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from kubelite.scheduler.framework import CycleState, Obj, Status, Verdict
from kubelite.scheduler.node_table import NodeTable, Port
from kubelite.scheduler.resources import host_ports

REASON = "node(s) didn't have free ports for the requested pod ports"
ANY_IP = "0.0.0.0"


def conflicts(wanted: Port, used: Port) -> bool:
    return (wanted[0] == used[0] and wanted[2] == used[2]
            and (wanted[1] == ANY_IP or used[1] == ANY_IP or wanted[1] == used[1]))


class NodePorts:
    name: ClassVar[str] = "NodePorts"

    def pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status:
        ports = host_ports(pod)
        if not ports:
            return Status.skip()
        state[self.name] = ports
        return Status.success()

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        wanted: list[Port] = state[self.name]
        mask = np.zeros(len(nodes), dtype=np.bool_)
        for row in np.flatnonzero(nodes.ports_in_use[: len(nodes)]):
            if any(conflicts(w, u) for w in wanted for u in nodes.ports[row]):
                mask[row] = True
        verdict = Verdict(len(nodes))
        verdict.reject(mask, REASON)
        return verdict
