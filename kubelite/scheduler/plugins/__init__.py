"""The registry of plugin names, and upstream's default profile (default_plugins.go).

Order matters: Filter plugins run in this order and a node's reason comes from the first
plugin that rejects it, as upstream's RunFilterPlugins stops at the first failure.

Adding a plugin: its class in REGISTRY, and its (name, weight) in DEFAULT_PLUGINS at
upstream's place when upstream enables it by default. A plugin class that takes
arguments (a `pluginConfig` entry) defines `from_args(args) -> instance`, raising
`config_errors.ArgsError`; one without it takes none. A name in UPSTREAM_PLUGINS that is
not in REGISTRY is one kubelite does not have yet: a configuration naming it is refused
with "not supported", never silently ignored.
"""

from __future__ import annotations

from typing import Any

from kubelite.scheduler.plugins.balanced_allocation import NodeResourcesBalancedAllocation
from kubelite.scheduler.plugins.default_binder import DefaultBinder
from kubelite.scheduler.plugins.default_preemption import DefaultPreemption
from kubelite.scheduler.plugins.image_locality import ImageLocality
from kubelite.scheduler.plugins.inter_pod_affinity import InterPodAffinity
from kubelite.scheduler.plugins.node_affinity import NodeAffinity
from kubelite.scheduler.plugins.node_name import NodeName
from kubelite.scheduler.plugins.node_ports import NodePorts
from kubelite.scheduler.plugins.node_resources_fit import NodeResourcesFit
from kubelite.scheduler.plugins.node_unschedulable import NodeUnschedulable
from kubelite.scheduler.plugins.pod_topology_spread import PodTopologySpread
from kubelite.scheduler.plugins.priority_sort import PrioritySort
from kubelite.scheduler.plugins.scheduling_gates import SchedulingGates
from kubelite.scheduler.plugins.taint_toleration import TaintToleration
from kubelite.scheduler.plugins.volume_binding import VolumeBinding

REGISTRY: dict[str, Any] = {cls.name: cls for cls in (
    SchedulingGates, PrioritySort, NodeUnschedulable, NodeName, TaintToleration, NodeAffinity,
    NodePorts, NodeResourcesFit, VolumeBinding, PodTopologySpread, InterPodAffinity, DefaultPreemption,
    NodeResourcesBalancedAllocation,
    ImageLocality, DefaultBinder)}

# Upstream's in-tree plugins (pkg/scheduler/framework/plugins/names), in the order of its
# default MultiPoint set, then the ones it does not enable by default.
UPSTREAM_PLUGINS: tuple[str, ...] = (
    "SchedulingGates", "PrioritySort", "NodeUnschedulable", "NodeName", "TaintToleration",
    "NodeAffinity", "NodePorts", "NodeResourcesFit", "VolumeRestrictions", "NodeVolumeLimits",
    "VolumeBinding", "VolumeZone", "PodTopologySpread", "InterPodAffinity",
    "DefaultPreemption", "NodeResourcesBalancedAllocation", "ImageLocality", "DefaultBinder",
    "DynamicResources",
)

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
    ("VolumeBinding", 0),  # no Score without the StorageCapacityScoring gate (off in 1.35)
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
)
