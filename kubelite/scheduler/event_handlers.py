"""From informer events to the scheduler's two pieces of state (upstream's
pkg/scheduler/eventhandlers.go): the NodeTable every cycle judges, and the
SchedulingQueue of pods waiting for a node.

    Pod informer ──┬─ unassigned, ours ──► queue.add / update / delete
                   └─ assigned ──────────► table.add_pod / remove_pod
                                           + queue moves (AssignedPodAdd/Update/Delete)
    Node informer ────────────────────────► table.set_node / remove_node
                                           + queue moves (NodeAdd, NodeUpdate with the
                                             changed properties)

- A pod is the scheduler's when its spec.schedulerName names one of its profiles
  (empty means "default-scheduler", as the API server defaults it); pods of other
  schedulers are never queued, but once bound they still take room on their node.
- A pod that turns assigned (our binding, or someone else's) leaves the queue and is
  counted on its node; its assumed entry, keyed the same, is replaced.
- A terminal pod (Succeeded or Failed) holds no resources: it is removed from the
  table and the freed room wakes pods, as a deletion does.
- Handlers never raise into the informer: a node or pod whose quantities do not
  parse is logged and left out.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from kubelite.scheduler.events import (
    ASSIGNED_POD_DELETE,
    NODE_ADD,
    ActionType,
    ClusterEvent,
    Resource,
    node_update_action,
)
from kubelite.scheduler.framework import Obj
from kubelite.scheduler.node_table import NodeTable, pod_key
from kubelite.scheduler.queue import SchedulingQueue

log = logging.getLogger(__name__)

DEFAULT_SCHEDULER_NAME = "default-scheduler"
# resources plugins watch (by the name they give) and the cluster event their changes are
WATCHED_RESOURCE_EVENTS = {
    "persistentvolumes": Resource.PERSISTENT_VOLUME,
    "persistentvolumeclaims": Resource.PERSISTENT_VOLUME_CLAIM,
    "storageclasses": Resource.STORAGE_CLASS,
    "csinodes": Resource.CSI_NODE,
}
TERMINAL_PHASES = ("Succeeded", "Failed")


def node_name_of(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def scheduler_name_of(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER_NAME)


def is_deleting(pod: Obj) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


class EventHandlers:
    def __init__(self, queue: SchedulingQueue, table: NodeTable, *,
                 scheduler_name: str = DEFAULT_SCHEDULER_NAME,
                 scheduler_names: Collection[str] = ()) -> None:
        self.queue = queue
        self.table = table
        # the profiles' names (upstream's profile map); one name when there is one profile
        self.scheduler_names = frozenset(scheduler_names or (scheduler_name,))

    def responsible_for(self, pod: Obj) -> bool:
        return scheduler_name_of(pod) in self.scheduler_names

    # --- pods ------------------------------------------------------------------------

    def on_pod_add(self, pod: Obj) -> None:
        if node_name_of(pod):
            self._count_assigned(pod)
            self.queue.assigned_pod_added(pod)
        elif self.responsible_for(pod) and not is_terminal(pod):
            self.queue.add(pod)

    def on_pod_update(self, old: Obj, new: Obj) -> None:
        if node_name_of(new):
            if not node_name_of(old):
                # bound: it leaves the queue (a no-op for our own binding, whose cycle ends
                # in the binder) and its assumed entry becomes the real one
                self.queue.delete(new)
                self._count_assigned(new)
                self.queue.assigned_pod_added(new)
                return
            freed = is_terminal(new) and not is_terminal(old)
            self._count_assigned(new)
            if freed:
                self.queue.move_all_to_active_or_backoff(ASSIGNED_POD_DELETE)
            else:
                self.queue.assigned_pod_updated(old, new)
        elif self.responsible_for(new):
            if is_terminal(new):
                self.queue.delete(new)
            else:
                self.queue.update(old, new)

    def on_pod_delete(self, pod: Obj) -> None:
        # also drops the assumption of a pod deleted while its binding is in flight
        self.table.remove_pod(pod_key(pod))
        if node_name_of(pod):
            self.queue.move_all_to_active_or_backoff(ASSIGNED_POD_DELETE)
        else:
            self.queue.delete(pod)

    def _count_assigned(self, pod: Obj) -> None:
        if is_terminal(pod):
            self.table.remove_pod(pod_key(pod))
            return
        try:
            self.table.add_pod(pod)
        except ValueError as error:
            log.warning("pod %s left out of the node table: %s", pod_key(pod), error)

    # --- nodes -----------------------------------------------------------------------

    def on_node_add(self, node: Obj) -> None:
        if self._set_node(node):
            self.queue.move_all_to_active_or_backoff(NODE_ADD)

    def on_node_update(self, old: Obj, new: Obj) -> None:
        if not self._set_node(new):
            return
        action = node_update_action(old, new)
        if action:
            self.queue.move_all_to_active_or_backoff(
                ClusterEvent(Resource.NODE, action, "NodeUpdate"))

    def on_node_delete(self, node: Obj) -> None:
        self.table.remove_node(str((node.get("metadata") or {}).get("name") or ""))

    # --- what plugins read besides pods and nodes -------------------------------------

    def on_other(self, resource: str, action: ActionType) -> None:
        """A change to a resource a plugin watches (claims, volumes, storage classes)
        moves the pods waiting on plugins registered for it; resources without an
        upstream cluster event (disruption budgets) move nothing."""
        kind = WATCHED_RESOURCE_EVENTS.get(resource)
        if kind is not None:
            self.queue.move_all_to_active_or_backoff(
                ClusterEvent(kind, action, f"{kind.value}{(action.name or '').title()}"))

    def _set_node(self, node: Obj) -> bool:
        try:
            self.table.set_node(node)
        except ValueError as error:
            name = (node.get("metadata") or {}).get("name")
            log.warning("node %s left out of the node table: %s", name, error)
            return False
        return True
