"""Cluster events that may make an unschedulable pod schedulable (upstream's
pkg/scheduler/framework/events.go and the EventsToRegister of the default plugins).

A pod rejected by some plugins waits in the queue's unschedulable set until an event
arrives that one of those plugins registered interest in: a pod rejected only by
NodeResourcesFit is retried when a pod is deleted or a node grows, not when a node's
conditions change. This is upstream's event filter without queueing hints; the hints (which
look at the changed object itself) are left out, so an event that might help always
moves the pod, and the scheduling cycle answers whether it really did.

An event is a resource and a set of action bits (`ActionType`, an IntFlag with
upstream's bit values); a registered event matches an incoming one when the resources
are equal and the action bits intersect, or when either is the wildcard.

Guarantees:
- `node_update_action(old, new)` and `pod_update_action(old, new)` name only the
  changes that matter for scheduling; an empty flag means "nothing to move for".
- A plugin absent from `DEFAULT_PLUGIN_EVENTS` is treated as interested in every event,
  as upstream treats a plugin that does not implement EnqueueExtensions.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.machinery.quantity import parse_quantity

Obj = dict[str, Any]


class ActionType(enum.IntFlag):
    ADD = 1
    DELETE = 2
    UPDATE_NODE_ALLOCATABLE = 4
    UPDATE_NODE_LABEL = 8
    UPDATE_NODE_TAINT = 16
    UPDATE_NODE_CONDITION = 32
    UPDATE_NODE_ANNOTATION = 64
    UPDATE_POD_LABEL = 128
    UPDATE_POD_SCALE_DOWN = 256
    UPDATE_POD_TOLERATIONS = 512
    UPDATE_POD_SCHEDULING_GATES_ELIMINATED = 1024
    UPDATE_POD_GENERATED_RESOURCE_CLAIM = 2048
    UPDATE_POD_OTHER = 4096
    UPDATE = 8188  # every UPDATE_* bit above
    ALL = ADD | DELETE | UPDATE


class Resource(enum.StrEnum):
    POD = "Pod"
    NODE = "Node"
    PERSISTENT_VOLUME = "PersistentVolume"
    PERSISTENT_VOLUME_CLAIM = "PersistentVolumeClaim"
    STORAGE_CLASS = "storage.k8s.io/StorageClass"
    CSI_NODE = "storage.k8s.io/CSINode"
    WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    resource: Resource
    action: ActionType
    label: str = ""

    def is_wildcard(self) -> bool:
        return self.resource == Resource.WILDCARD and self.action == ActionType.ALL

    def matches(self, incoming: ClusterEvent) -> bool:
        """Whether this registered event covers `incoming`."""
        if self.is_wildcard() or incoming.is_wildcard():
            return True
        return self.resource == incoming.resource and bool(self.action & incoming.action)


NODE_ADD = ClusterEvent(Resource.NODE, ActionType.ADD, "NodeAdd")
ASSIGNED_POD_ADD = ClusterEvent(Resource.POD, ActionType.ADD, "AssignedPodAdd")
ASSIGNED_POD_DELETE = ClusterEvent(Resource.POD, ActionType.DELETE, "AssignedPodDelete")
# Pods unschedulable for too long are retried whatever rejected them.
UNSCHEDULABLE_TIMEOUT = ClusterEvent(Resource.WILDCARD, ActionType.ALL, "UnschedulableTimeout")
WILDCARD = ClusterEvent(Resource.WILDCARD, ActionType.ALL, "WildCard")


def _events(*pairs: tuple[Resource, ActionType]) -> tuple[ClusterEvent, ...]:
    # Without queueing hints upstream widens every Node/Add registration by taint and
    # label updates: a node the pre-check skipped when it was added (not ready yet,
    # tainted) must still wake the pod once it changes (kubernetes issue 109437).
    return tuple(
        ClusterEvent(resource, action | ActionType.UPDATE_NODE_TAINT | ActionType.UPDATE_NODE_LABEL
                     if resource == Resource.NODE and action & ActionType.ADD else action)
        for resource, action in pairs)


_A, _D = ActionType.ADD, ActionType.DELETE
# EventsToRegister of upstream's default plugins (without queueing hints). Score-only
# plugins (ImageLocality, BalancedAllocation) never reject, so they need no entry.
DEFAULT_PLUGIN_EVENTS: Mapping[str, Sequence[ClusterEvent]] = {
    # a deleted or shrunk pod frees resources; a new or grown node offers them
    "NodeResourcesFit": _events(
        (Resource.POD, _D | ActionType.UPDATE_POD_SCALE_DOWN),
        (Resource.NODE, _A | ActionType.UPDATE_NODE_ALLOCATABLE)),
    "NodeAffinity": _events((Resource.NODE, _A | ActionType.UPDATE_NODE_LABEL)),
    "NodeName": _events((Resource.NODE, _A)),
    "NodePorts": _events((Resource.POD, _D), (Resource.NODE, _A | ActionType.UPDATE)),
    "NodeUnschedulable": _events(
        (Resource.NODE, _A | ActionType.UPDATE_NODE_TAINT),
        (Resource.POD, ActionType.UPDATE_POD_TOLERATIONS)),
    "TaintToleration": _events(
        (Resource.NODE, _A | ActionType.UPDATE_NODE_TAINT),
        (Resource.POD, ActionType.UPDATE_POD_TOLERATIONS)),
    # a pod added next to it or deleted away, a pod's labels changed, a node newly
    # carrying a topology key (taint updates only stand in for the pre-check's missed adds)
    "InterPodAffinity": _events(
        (Resource.POD, _A | ActionType.UPDATE_POD_LABEL | _D),
        (Resource.NODE, _A | ActionType.UPDATE_NODE_LABEL | ActionType.UPDATE_NODE_TAINT)),
    # a matching pod placed, relabelled or gone changes a domain's count; a node joining,
    # leaving, relabelled or (re)tainted changes the domains (without queueing hints, as
    # upstream registers them)
    "PodTopologySpread": _events(
        (Resource.POD, _A | ActionType.UPDATE_POD_LABEL | _D),
        (Resource.NODE, _A | _D | ActionType.UPDATE_NODE_LABEL | ActionType.UPDATE_NODE_TAINT)),
    # a claim, volume or class changing may bind or free what the pod waits for; a node
    # added or relabelled may meet a PV's node affinity or a class's allowed topologies
    "VolumeBinding": _events(
        (Resource.STORAGE_CLASS, _A | ActionType.UPDATE),
        (Resource.PERSISTENT_VOLUME_CLAIM, _A | ActionType.UPDATE),
        (Resource.PERSISTENT_VOLUME, _A | ActionType.UPDATE),
        (Resource.NODE, _A | ActionType.UPDATE_NODE_LABEL),
        (Resource.CSI_NODE, _A | ActionType.UPDATE)),
    "SchedulingGates": _events(
        (Resource.POD, ActionType.UPDATE_POD_SCHEDULING_GATES_ELIMINATED)),
}


def _get(obj: Obj | None, *path: str) -> Any:
    value: Any = obj
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _condition_statuses(node: Obj) -> dict[Any, Any]:
    # heartbeat and transition times change every few seconds and never help a pod
    return {c.get("type"): c.get("status")
            for c in _get(node, "status", "conditions") or [] if isinstance(c, dict)}


def node_update_action(old: Obj, new: Obj) -> ActionType:
    """What a Node update changed that scheduling cares about (upstream's
    nodeSchedulingPropertiesChange); an empty flag when nothing did."""
    action = ActionType(0)
    if _get(old, "status", "allocatable") != _get(new, "status", "allocatable"):
        action |= ActionType.UPDATE_NODE_ALLOCATABLE
    if _get(old, "metadata", "labels") != _get(new, "metadata", "labels"):
        action |= ActionType.UPDATE_NODE_LABEL
    # spec.unschedulable is reported as a taint change, as upstream does
    cordoned = bool(_get(old, "spec", "unschedulable")), bool(_get(new, "spec", "unschedulable"))
    if _get(old, "spec", "taints") != _get(new, "spec", "taints") or cordoned[0] != cordoned[1]:
        action |= ActionType.UPDATE_NODE_TAINT
    if _condition_statuses(old) != _condition_statuses(new):
        action |= ActionType.UPDATE_NODE_CONDITION
    if _get(old, "metadata", "annotations") != _get(new, "metadata", "annotations"):
        action |= ActionType.UPDATE_NODE_ANNOTATION
    return action


def _requests(pod: Obj) -> dict[str, int | None]:
    """Requested amounts (milli-units) per resource; None where a quantity does not parse
    (validation rejects those, and the queue must not crash or guess on one)."""
    total: dict[str, int | None] = {}
    for container in _get(pod, "spec", "containers") or []:
        for name, amount in (_get(container, "resources", "requests") or {}).items():
            try:
                milli = parse_quantity(str(amount)).milli_value()
            except (ValueError, OverflowError):
                total[name] = None
                continue
            so_far = total.get(name, 0)
            total[name] = None if so_far is None else so_far + milli
    return total


def _is_scaled_down(old: Obj, new: Obj) -> bool:
    before, after = _requests(old), _requests(new)
    for name, amount in before.items():
        now = after.get(name, 0)  # a request dropped altogether frees it all
        if amount is not None and now is not None and now < amount:
            return True
    return False


def pod_update_action(old: Obj, new: Obj) -> ActionType:
    """What a Pod update changed, as upstream's PodSchedulingPropertiesChange."""
    action = ActionType(0)
    if _get(old, "metadata", "labels") != _get(new, "metadata", "labels"):
        action |= ActionType.UPDATE_POD_LABEL
    if _is_scaled_down(old, new):
        action |= ActionType.UPDATE_POD_SCALE_DOWN
    if _get(old, "spec", "tolerations") != _get(new, "spec", "tolerations"):
        action |= ActionType.UPDATE_POD_TOLERATIONS
    if _get(old, "spec", "schedulingGates") and not _get(new, "spec", "schedulingGates"):
        action |= ActionType.UPDATE_POD_SCHEDULING_GATES_ELIMINATED
    return action or ActionType.UPDATE_POD_OTHER
