"""The columnar snapshot of the cluster the plugins judge: one row per node.

Upstream keeps a NodeInfo struct per node and calls each Filter once per node. kubelite keeps
the same facts as columns (numpy arrays indexed by row) so a plugin compares a pod with every
node in a handful of array operations:

- `allocatable`, `requested` (int64, rows x [cpu m, memory B, ephemeral-storage B, pods]) and
  `non_zero_requested` (cpu, memory with upstream's 100m/200Mi default for unset requests);
- `unschedulable` (bool), `taint_set` (an id per distinct list of taints, so a pod's
  tolerations are checked once per distinct list, not once per node);
- label and image columns built on first use per key and then kept up to date row by row;
- scalar resources (extended resources such as `example.com/foo`, hugepages): a pair of
  columns (allocatable, requested) per resource name, built the first time a plugin asks for
  that name (`scalar_resource`) and then kept up to date like the fixed columns, so a cluster
  pays nothing for the resources no pod asks for.

Rows are dense: removing a node moves the last row into its place, so row numbers are stable
only between changes. Pods are counted on the node named by `spec.nodeName` (bound or assumed);
a pod may arrive before its node, and is counted when the node appears, as upstream's cache
does. The counted pods themselves are kept too (`assigned_pods`, `pods_on_row`) for the
plugins that look at other pods' labels (PodTopologySpread, InterPodAffinity), with the keys
of pods carrying pod (anti-)affinity so those plugins skip work when nobody uses it, and
version counters a plugin can key a cache on. Malformed quantities raise ValueError from add/update, before anything changes.
"""

from __future__ import annotations

import itertools
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kubelite.scheduler import resources
from kubelite.scheduler.framework import Obj

CPU, MEMORY, EPHEMERAL_STORAGE, PODS = range(4)
COLUMNS = ("cpu", "memory", "ephemeral-storage", "pods")
POD_JOURNAL = 4096  # counted-pod changes kept for caches that follow them (pod_changes_since)

Taint = tuple[str, str, str]  # key, value, effect
Port = tuple[str, str, int]  # protocol, hostIP, hostPort
ObjectColumn = npt.NDArray[np.object_]
IntColumn = npt.NDArray[np.int64]


@dataclass(slots=True)
class _PodEntry:
    pod: Obj  # as given, spec.nodeName set (the binding's node for an assumed pod)
    node: str
    requested: list[int]  # in COLUMNS order, pods = 1
    non_zero: tuple[int, int]
    ports: list[Port]
    scalar: dict[str, int]  # scalar resources the pod requests (whole units)


def pod_key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def node_allocatable(node: Mapping[str, Any]) -> list[int]:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    out = [resources.amount(name, alloc[name]) if name in alloc else 0 for name in COLUMNS[:PODS]]
    out.append(resources.amount("pods", alloc["pods"]) if "pods" in alloc else 0)
    return out


def node_taints(node: Mapping[str, Any]) -> tuple[Taint, ...]:
    taints = (node.get("spec") or {}).get("taints") or ()
    return tuple((t.get("key", ""), t.get("value", ""), t.get("effect", "")) for t in taints)


def node_images(node: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for image in (node.get("status") or {}).get("images") or ():
        for name in image.get("names") or ():
            out[name] = int(image.get("sizeBytes") or 0)
    return out


class NodeTable:
    def __init__(self, *, capacity: int = 64) -> None:
        self.names: list[str] = []
        self.nodes: list[Obj] = []
        self.row_of: dict[str, int] = {}
        self.allocatable = np.zeros((capacity, 4), dtype=np.int64)
        self.requested = np.zeros((capacity, 4), dtype=np.int64)
        self.non_zero_requested = np.zeros((capacity, 2), dtype=np.int64)
        self.unschedulable = np.zeros(capacity, dtype=np.bool_)
        self.taint_set = np.zeros(capacity, dtype=np.int32)
        self.taint_sets: list[tuple[Taint, ...]] = [()]  # id 0: no taints
        self._taint_set_ids: dict[tuple[Taint, ...], int] = {(): 0}
        self.ports: list[Counter[Port]] = []
        self.ports_in_use = np.zeros(capacity, dtype=np.bool_)  # rows whose ports are not empty
        self._labels: dict[str, ObjectColumn] = {}
        self._images: dict[str, IntColumn] = {}
        self._node_images: list[dict[str, int]] = []
        self._scalar_allocatable: dict[str, IntColumn] = {}
        self._scalar_requested: dict[str, IntColumn] = {}
        self._node_scalars: list[dict[str, int]] = []
        self._pods: dict[str, _PodEntry] = {}
        self._pods_on: dict[str, set[str]] = {}
        # keys of counted pods with any pod (anti-)affinity / a required anti-affinity term:
        # the inter-pod plugins cost nothing while these are empty and the pod has none
        self.with_affinity: set[str] = set()
        self.with_required_anti_affinity: set[str] = set()
        self._in_namespace: dict[str, set[str]] = {}  # counted pod keys by namespace
        self.pods_version = 0  # bumped on every counted-pod change, for plugins' caches
        # the last POD_JOURNAL changes, one per bump: (counted before, counted after)
        self._journal: deque[tuple[Obj | None, Obj | None]] = deque(maxlen=POD_JOURNAL)
        self.nodes_version = 0  # bumped on every node added, replaced or removed

    def __len__(self) -> int:
        return len(self.names)

    # --- nodes ------------------------------------------------------------------------

    def set_node(self, node: Obj) -> None:
        """Add a node or replace its row (labels, taints, allocatable, images)."""
        name = (node.get("metadata") or {}).get("name", "")
        allocatable = node_allocatable(node)  # may raise: before any change
        scalars = resources.scalar_amounts((node.get("status") or {}).get("allocatable"))
        self.nodes_version += 1
        row = self.row_of.get(name)
        if row is None:
            row = len(self.names)
            self._grow(row + 1)
            self.names.append(name)
            self.nodes.append(node)
            self.row_of[name] = row
            self.ports.append(Counter())
            self._node_images.append({})
            self._node_scalars.append({})
            self._recount(row, name)
        self.nodes[row] = node
        self.allocatable[row] = allocatable
        self.unschedulable[row] = bool((node.get("spec") or {}).get("unschedulable"))
        self.taint_set[row] = self._intern(node_taints(node))
        labels = (node.get("metadata") or {}).get("labels") or {}
        for key, column in self._labels.items():
            column[row] = labels.get(key)
        self._node_images[row] = node_images(node)
        for image, sizes in self._images.items():
            sizes[row] = self._node_images[row].get(image, -1)
        self._node_scalars[row] = scalars
        for resource, amounts in self._scalar_allocatable.items():
            amounts[row] = scalars.get(resource, 0)

    def remove_node(self, name: str) -> None:
        """Drop a node's row; its pods stay known and count again if it comes back."""
        row = self.row_of.pop(name, None)
        if row is None:
            return
        self.nodes_version += 1
        last = len(self.names) - 1
        if row != last:
            self._move(last, row)
        self.names.pop()
        self.nodes.pop()
        self.ports.pop()
        self._node_images.pop()
        self._node_scalars.pop()

    def _move(self, src: int, dst: int) -> None:
        columns: list[npt.NDArray[Any]] = [
            self.allocatable, self.requested, self.non_zero_requested, self.unschedulable,
            self.taint_set, self.ports_in_use, *self._labels.values(), *self._images.values(),
            *self._scalar_allocatable.values(), *self._scalar_requested.values()]
        for column in columns:
            column[dst] = column[src]
        self.names[dst] = self.names[src]
        self.nodes[dst] = self.nodes[src]
        self.ports[dst] = self.ports[src]
        self._node_images[dst] = self._node_images[src]
        self._node_scalars[dst] = self._node_scalars[src]
        self.row_of[self.names[dst]] = dst

    def _grow(self, size: int) -> None:
        capacity = self.allocatable.shape[0]
        if size <= capacity:
            return
        new = max(size, capacity * 2)

        def grown(column: Any, fill: Any = 0) -> Any:
            out = np.full((new, *column.shape[1:]), fill, dtype=column.dtype)
            out[:capacity] = column
            return out

        self.allocatable = grown(self.allocatable)
        self.requested = grown(self.requested)
        self.non_zero_requested = grown(self.non_zero_requested)
        self.unschedulable = grown(self.unschedulable)
        self.taint_set = grown(self.taint_set)
        self.ports_in_use = grown(self.ports_in_use)
        self._labels = {k: grown(c, None) for k, c in self._labels.items()}
        self._images = {k: grown(c, -1) for k, c in self._images.items()}
        self._scalar_allocatable = {k: grown(c) for k, c in self._scalar_allocatable.items()}
        self._scalar_requested = {k: grown(c) for k, c in self._scalar_requested.items()}

    def _intern(self, taints: tuple[Taint, ...]) -> int:
        found = self._taint_set_ids.get(taints)
        if found is None:
            found = self._taint_set_ids[taints] = len(self.taint_sets)
            self.taint_sets.append(taints)
        return found

    # --- columns built on demand ------------------------------------------------------

    def label(self, key: str) -> ObjectColumn:
        """The value of one label on every row (None where the node lacks it)."""
        column = self._labels.get(key)
        if column is None:
            column = np.full(self.allocatable.shape[0], None, dtype=object)
            for row, node in enumerate(self.nodes):
                column[row] = ((node.get("metadata") or {}).get("labels") or {}).get(key)
            self._labels[key] = column
        return column[: len(self.names)]

    def image_size(self, image: str) -> IntColumn:
        """sizeBytes of an image on every row (-1 where the node does not report it)."""
        column = self._images.get(image)
        if column is None:
            column = np.full(self.allocatable.shape[0], -1, dtype=np.int64)
            for row, images in enumerate(self._node_images):
                column[row] = images.get(image, -1)
            self._images[image] = column
        return column[: len(self.names)]

    def scalar_resource(self, resource: str) -> tuple[IntColumn, IntColumn]:
        """(allocatable, requested) of one scalar resource on every row, in whole units; 0
        where a node does not advertise it or no pod there asks for it."""
        allocatable = self._scalar_allocatable.get(resource)
        requested = self._scalar_requested.get(resource)
        if allocatable is None or requested is None:
            size = self.allocatable.shape[0]
            allocatable = np.zeros(size, dtype=np.int64)
            requested = np.zeros(size, dtype=np.int64)
            for row, scalars in enumerate(self._node_scalars):
                allocatable[row] = scalars.get(resource, 0)
            for entry in self._pods.values():
                if (counted_row := self.row_of.get(entry.node)) is not None:
                    requested[counted_row] += entry.scalar.get(resource, 0)
            self._scalar_allocatable[resource] = allocatable
            self._scalar_requested[resource] = requested
        n = len(self.names)
        return allocatable[:n], requested[:n]

    def name_column(self) -> ObjectColumn:
        return np.array(self.names, dtype=object)

    # --- pods -------------------------------------------------------------------------

    def add_pod(self, pod: Obj) -> None:
        """Count a bound (or assumed) pod on the node in its spec.nodeName."""
        node = (pod.get("spec") or {}).get("nodeName") or ""
        key = pod_key(pod)
        if not node:
            return
        counted = self._pods.get(key)
        if counted is not None and counted.pod.get("spec") == pod.get("spec"):
            # A new version with the same spec (an assumed pod's binding confirmed, a
            # status report): what the table counts comes from the spec and the node
            # alone, so only the object is replaced, recorded as a remove and an add.
            self._journal.append((counted.pod, None))
            self._journal.append((None, pod))
            self.pods_version += 2
            counted.pod = pod
            return
        requests = resources.pod_requests(pod)
        non_zero = resources.pod_requests(pod, non_zero=True)
        scalar = {name: amount for name, amount in requests.items()
                  if amount and name not in resources.RESOURCES}
        entry = _PodEntry(pod, node, [requests["cpu"], requests["memory"], requests["ephemeral-storage"], 1],
                          (non_zero["cpu"], non_zero["memory"]), resources.host_ports(pod), scalar)
        self.remove_pod(key)
        self._pods[key] = entry
        self._pods_on.setdefault(node, set()).add(key)
        self._in_namespace.setdefault(key.partition("/")[0], set()).add(key)
        affinity = (pod.get("spec") or {}).get("affinity") or {}
        if affinity.get("podAffinity") or affinity.get("podAntiAffinity"):
            self.with_affinity.add(key)
        if (affinity.get("podAntiAffinity") or {}).get(
                "requiredDuringSchedulingIgnoredDuringExecution"):
            self.with_required_anti_affinity.add(key)
        self.pods_version += 1
        self._journal.append((None, pod))
        row = self.row_of.get(node)
        if row is not None:
            self._apply(row, entry, 1)

    def assume_pod(self, pod: Obj, node: str) -> None:
        """Count a pod on the node chosen for it before its binding is confirmed."""
        self.add_pod({**pod, "spec": {**(pod.get("spec") or {}), "nodeName": node}})

    def remove_pod(self, key: str) -> None:
        """Stop counting a pod (deleted, or an assumption forgotten after a failed bind)."""
        entry = self._pods.pop(key, None)
        if entry is None:
            return
        self._pods_on[entry.node].discard(key)
        self._in_namespace[key.partition("/")[0]].discard(key)
        self.with_affinity.discard(key)
        self.with_required_anti_affinity.discard(key)
        self.pods_version += 1
        self._journal.append((entry.pod, None))
        row = self.row_of.get(entry.node)
        if row is not None:
            self._apply(row, entry, -1)

    forget_pod = remove_pod

    def pod_changes_since(self, version: int) -> list[tuple[Obj | None, Obj | None]] | None:
        """The counted-pod changes after `pods_version` was `version`, oldest first, as
        (pod before, pod after): a replacement is a removal then an addition. None when
        the journal no longer reaches that far back: the caller counts afresh."""
        behind = self.pods_version - version
        if behind < 0 or behind > len(self._journal):
            return None
        return list(itertools.islice(self._journal, len(self._journal) - behind, None))

    def _apply(self, row: int, entry: _PodEntry, sign: int) -> None:
        self.requested[row] += sign * np.array(entry.requested, dtype=np.int64)
        self.non_zero_requested[row] += sign * np.array(entry.non_zero, dtype=np.int64)
        for resource, amount in entry.scalar.items():
            column = self._scalar_requested.get(resource)
            if column is not None:
                column[row] += sign * amount
        if sign > 0:
            self.ports[row].update(entry.ports)
        else:
            self.ports[row].subtract(entry.ports)
            self.ports[row] = +self.ports[row]
        self.ports_in_use[row] = bool(self.ports[row])

    def _recount(self, row: int, name: str) -> None:
        self.requested[row] = 0
        self.non_zero_requested[row] = 0
        self.ports_in_use[row] = False
        for column in self._scalar_requested.values():
            column[row] = 0
        for key in self._pods_on.get(name, ()):
            self._apply(row, self._pods[key], 1)

    def pods_on(self, name: str) -> set[str]:
        return set(self._pods_on.get(name, ()))

    def pod(self, key: str) -> Obj | None:
        """A counted pod as last given (spec.nodeName set), None if not counted."""
        entry = self._pods.get(key)
        return entry.pod if entry is not None else None

    def pods_on_row(self, row: int) -> list[Obj]:
        """The counted pods of the node in `row`."""
        return [self._pods[key].pod for key in self._pods_on.get(self.names[row], ())]

    def keys_in(self, namespaces: Iterable[str]) -> Iterator[str]:
        """Keys of the counted pods in `namespaces`."""
        for namespace in namespaces:
            yield from self._in_namespace.get(namespace, ())

    def assigned_pods(self, keys: Iterable[str] | None = None) -> Iterator[tuple[int, Obj]]:
        """(row, pod) of the counted pods (all, or those of `keys`) whose node has a row."""
        for key in self._pods if keys is None else keys:
            entry = self._pods.get(key)
            if entry is None:
                continue
            row = self.row_of.get(entry.node)
            if row is not None:
                yield row, entry.pod
