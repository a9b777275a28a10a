"""Simulated nodes, like KWOK's and kubemark's hollow nodes: many Nodes in one process
that register, heartbeat and report their pods Running without running anything."""

from kubelite.kubelet.simulated.nodes import NodeConfig
from kubelite.kubelet.simulated.simulator import SimulatedNodes

__all__ = ["NodeConfig", "SimulatedNodes"]
