"""The registry of plugin names, and upstream's default profile (default_plugins.go).

Order matters: Filter plugins run in this order and a node's reason comes from the first
plugin that rejects it, as upstream's RunFilterPlugins stops at the first failure.
"""

from __future__ import annotations

from typing import Any

from kubelite.scheduler.plugins.balanced_allocation import NodeResourcesBalancedAllocation
from kubelite.scheduler.plugins.default_preemption import DefaultPreemption
from kubelite.scheduler.plugins.image_locality import ImageLocality
from kubelite.scheduler.plugins.node_affinity import NodeAffinity
from kubelite.scheduler.plugins.node_name import NodeName
from kubelite.scheduler.plugins.node_ports import NodePorts
from kubelite.scheduler.plugins.node_resources_fit import NodeResourcesFit
from kubelite.scheduler.plugins.node_unschedulable import NodeUnschedulable
from kubelite.scheduler.plugins.priority_sort import PrioritySort
from kubelite.scheduler.plugins.scheduling_gates import SchedulingGates
from kubelite.scheduler.plugins.taint_toleration import TaintToleration

REGISTRY: dict[str, Any] = {cls.name: cls for cls in (
    SchedulingGates, PrioritySort, NodeUnschedulable, NodeName, TaintToleration, NodeAffinity,
    NodePorts, NodeResourcesFit, DefaultPreemption, NodeResourcesBalancedAllocation, ImageLocality)}

# (name, score weight) of upstream's default MultiPoint set, those kubelite has so far
DEFAULT_PLUGINS: tuple[tuple[str, int], ...] = (
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
)
