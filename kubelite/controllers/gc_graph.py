"""The garbage collector's ownerReference graph (upstream's
pkg/controller/garbagecollector/graph.go and graph_builder.go).

One node per object uid. A node knows its identity (apiVersion, kind, namespace, name,
uid), the ownerReferences it was last seen with, and its dependents (the nodes whose
references name its uid). Informer events of every monitored resource reach `observe`
and `observe_deleted`; the graph changes at once (all in one event loop, so no locks),
and it tells the collector what to look at through two callbacks taking a uid:

- `attempt_to_delete`: a node whose owners may all be gone, an owner deleting its
  dependents in the foreground (to see whether it may drop its finalizer), or a
  *virtual* node: an owner some reference names but no informer has shown yet. The
  collector checks a virtual node with a live GET and, when it is absent (or its uid
  differs), calls `virtual_delete`, which removes it as a delete event would.
- `attempt_to_orphan`: an owner being deleted with the `orphan` finalizer.

When a node goes, its dependents are queued for deletion (their owner may be the last
one) and its owners that wait for their dependents (foreground) are queued to look
again. The uids of owners known to be absent are kept in `absent` (bounded, as
upstream's absentOwnerCache) so a thousand dependents of one deleted owner cost one GET.

Level-triggered: queueing a uid twice costs nothing (the work queue collapses repeats),
so transitions are queued whenever they hold, not only when they begin.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
Enqueue = Callable[[str], None]

ORPHAN = "orphan"  # metav1.FinalizerOrphanDependents
FOREGROUND = "foregroundDeletion"  # metav1.FinalizerDeleteDependents
ABSENT_CACHE_SIZE = 500  # upstream's absentOwnerCache size


@dataclass(frozen=True, slots=True)
class Identity:
    """Who an object is: an ownerReference's coordinates plus the namespace."""
    api_version: str
    kind: str
    name: str
    uid: str
    namespace: str = ""

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name} (uid {self.uid})"


def owner_identity(ref: Obj, namespace: str) -> Identity:
    """The owner a reference names; a namespaced owner lives in its dependent's namespace."""
    return Identity(str(ref.get("apiVersion") or ""), str(ref.get("kind") or ""),
                    str(ref.get("name") or ""), str(ref.get("uid") or ""), namespace)


def object_identity(obj: Obj, api_version: str, kind: str) -> Identity:
    meta = obj.get("metadata") or {}
    return Identity(api_version, kind, str(meta.get("name") or ""), str(meta.get("uid") or ""),
                    str(meta.get("namespace") or ""))


def owner_references(obj: Obj) -> list[Obj]:
    return [ref for ref in (obj.get("metadata") or {}).get("ownerReferences") or []
            if isinstance(ref, dict) and ref.get("uid")]


def finalizers(obj: Obj) -> list[str]:
    return list((obj.get("metadata") or {}).get("finalizers") or [])


def is_deleting(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


@dataclass(eq=False, slots=True)
class Node:
    identity: Identity
    owners: list[Obj] = field(default_factory=list)
    dependents: set[Node] = field(default_factory=set)
    observed: bool = False  # False: virtual, known only from a reference to it
    being_deleted: bool = False
    deleting_dependents: bool = False  # deletionTimestamp and the foregroundDeletion finalizer

    @property
    def uid(self) -> str:
        return self.identity.uid

    def blocking_dependents(self) -> list[Node]:
        """Dependents whose reference to this node sets blockOwnerDeletion: a foreground
        deletion waits for them."""
        return [dep for dep in self.dependents
                if any(ref["uid"] == self.uid and ref.get("blockOwnerDeletion") is True
                       for ref in dep.owners)]


class Graph:
    def __init__(self, attempt_to_delete: Enqueue, attempt_to_orphan: Enqueue,
                 absent_cache_size: int = ABSENT_CACHE_SIZE) -> None:
        self.nodes: dict[str, Node] = {}
        self.attempt_to_delete = attempt_to_delete
        self.attempt_to_orphan = attempt_to_orphan
        self._absent: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._absent_size = absent_cache_size

    # -- absent owners --------------------------------------------------------------

    def mark_absent(self, uid: str, namespace: str) -> None:
        self._absent[(uid, namespace)] = None
        self._absent.move_to_end((uid, namespace))
        while len(self._absent) > self._absent_size:
            self._absent.popitem(last=False)

    def known_absent(self, uid: str, namespace: str) -> bool:
        return (uid, namespace) in self._absent

    # -- informer events --------------------------------------------------------------

    def observe(self, obj: Obj, api_version: str, kind: str) -> None:
        """An object added or updated (processGraphChanges for add and update)."""
        identity = object_identity(obj, api_version, kind)
        if not identity.uid:
            return
        owners = owner_references(obj)
        node = self.nodes.get(identity.uid)
        if node is None:
            node = self.nodes[identity.uid] = Node(identity, owners, observed=True)
            self._add_to_owners(node, owners)
        else:
            if not node.observed:
                node.observed = True
                if node.identity != identity:
                    # a reference named this uid with other coordinates: let its
                    # dependents look again with the real object in hand
                    for dep in node.dependents:
                        self.attempt_to_delete(dep.uid)
                node.identity = identity
            self._update_owners(node, owners)
        node.being_deleted = is_deleting(obj)
        self._transitions(node, obj)

    def observe_deleted(self, obj: Obj, api_version: str, kind: str) -> None:
        identity = object_identity(obj, api_version, kind)
        node = self.nodes.get(identity.uid)
        if node is not None:
            self._remove(node)

    def virtual_delete(self, identity: Identity) -> None:
        """The collector found `identity` absent (or holding another uid): remove its node
        as a delete event would, unless an informer has shown a real object under that
        uid with other coordinates (its own delete event will come)."""
        node = self.nodes.get(identity.uid)
        if node is None:
            return
        if node.observed and node.identity != identity:
            return
        self._remove(node)

    # -- the rules --------------------------------------------------------------------

    def _transitions(self, node: Node, obj: Obj) -> None:
        held = finalizers(obj)
        if node.being_deleted and ORPHAN in held:
            self.attempt_to_orphan(node.uid)
        node.deleting_dependents = node.being_deleted and FOREGROUND in held
        if node.deleting_dependents:
            for dep in node.dependents:
                self.attempt_to_delete(dep.uid)
            self.attempt_to_delete(node.uid)

    def _add_to_owners(self, node: Node, refs: list[Obj]) -> None:
        for ref in refs:
            owner = self.nodes.get(ref["uid"])
            if owner is None:
                owner = self.nodes[ref["uid"]] = Node(
                    owner_identity(ref, node.identity.namespace))
                # the collector confirms or refutes a virtual owner with a live GET
                self.attempt_to_delete(owner.uid)
            owner.dependents.add(node)
            if owner.deleting_dependents:
                self.attempt_to_delete(node.uid)

    def _update_owners(self, node: Node, refs: list[Obj]) -> None:
        old = {ref["uid"]: ref for ref in node.owners}
        new = {ref["uid"]: ref for ref in refs}
        node.owners = refs
        self._add_to_owners(node, [ref for uid, ref in new.items() if uid not in old])
        for uid, ref in old.items():
            owner = self.nodes.get(uid)
            if owner is None:
                continue
            if uid not in new:
                owner.dependents.discard(node)
            elif new[uid].get("blockOwnerDeletion") is ref.get("blockOwnerDeletion"):
                continue
            # a dependent stopped blocking (or left): a foreground owner may be done
            if owner.deleting_dependents:
                self.attempt_to_delete(uid)

    def _remove(self, node: Node) -> None:
        self.nodes.pop(node.uid, None)
        for ref in node.owners:
            owner = self.nodes.get(ref["uid"])
            if owner is None:
                continue
            owner.dependents.discard(node)
            if owner.deleting_dependents:
                # let the owner see whether it still waits for anything
                self.attempt_to_delete(owner.uid)
        if node.dependents:
            self.mark_absent(node.uid, node.identity.namespace)
        for dep in node.dependents:
            self.attempt_to_delete(dep.uid)
