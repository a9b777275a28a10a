"""Nominated pods: pods that preemption promised a node to, until they are bound or
deleted (upstream's nominator in pkg/scheduler/backend/queue/nominator.go).

Filters for other pods must count a nominated pod on its node, or the room preemption
made would be taken by the next pod in line. A pod is nominated to at most one node.

`add(pod, node_name)`: with a node name, nominate there (preemption just decided);
without, follow the pod's `status.nominatedNodeName` (an informer event). `update`
keeps an in-memory nomination when neither the old nor the new object carries one,
because the update event may predate the status write that will record it.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def pod_key(pod: Obj) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _nominated_node_name(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("nominatedNodeName") or "")


class Nominator:
    def __init__(self) -> None:
        self._node_of: dict[str, str] = {}
        self._pods_on: dict[str, dict[str, Obj]] = {}  # node -> key -> pod, in nomination order

    def add(self, pod: Obj, node_name: str | None = None) -> None:
        self.delete(pod)  # never two nominations for one pod
        node = node_name if node_name is not None else _nominated_node_name(pod)
        if not node:
            return
        key = pod_key(pod)
        self._node_of[key] = node
        self._pods_on.setdefault(node, {})[key] = pod

    def delete(self, pod: Obj) -> None:
        key = pod_key(pod)
        node = self._node_of.pop(key, None)
        if node is None:
            return
        pods = self._pods_on[node]
        del pods[key]
        if not pods:
            del self._pods_on[node]

    def update(self, old: Obj, new: Obj) -> None:
        kept: str | None = None
        if not _nominated_node_name(old) and not _nominated_node_name(new):
            kept = self._node_of.get(pod_key(old))
        self.delete(old)
        self.add(new, kept)

    def node_of(self, pod: Obj) -> str | None:
        return self._node_of.get(pod_key(pod))

    def nominated_nodes(self) -> list[str]:
        """Nodes with at least one pod nominated to them."""
        return list(self._pods_on)

    def pods_for_node(self, node_name: str) -> list[Obj]:
        return list(self._pods_on.get(node_name, {}).values())
