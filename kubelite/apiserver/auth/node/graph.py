"""What each node may reach: the objects its pods use, kept from the watch cache.

Upstream's Node authorizer (plugin/pkg/auth/authorizer/node/graph.go) keeps a graph
of vertices and edges fed by informers and walks it on each request:

    node <- pod <- secret | configmap | pvc | serviceaccount | resourceclaim
    node <- pod <- pvc <- pv <- secret
    node <- volumeattachment

kubelite keeps the same relations as indexes, so a decision is a few dictionary
lookups and never a walk or a scan:

    pods:     (namespace, pod)   -> the node it is bound to and what it references
    reach:    (kind, namespace, name) -> {node: how many of its pods reference it}
    pv_claim: pv name -> (namespace, claim) it is bound to (spec.claimRef)
    pv_secrets / secret_pvs: a PV's kubelet-visible Secrets, both ways
    attachments: volumeattachment name -> node

A pod counts from the moment it is bound (spec.nodeName) until it is deleted, as
upstream's populator keeps it. References in a pod's spec cannot change, so an
update is only looked at when the node or the resource claims in its status may have
changed. PVs count through the claim they are bound to, whatever pods use it.

The indexes are built from the cache on first use (the cache must have loaded) and
then follow its events synchronously, as the RBAC index does (auth/rbac/index.py): a
pod is reachable from the next request once the cache has it.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.api.pod_references import (
    pod_account_name,
    pod_claim_names,
    pod_configmap_names,
    pod_resource_claim_names,
    pod_secret_names,
)
from kubelite.apiserver.watchcache import Cache, CacheEvent, Entry

Obj = dict[str, Any]
Ref = tuple[str, str, str]  # (kind, namespace, name)

SECRET = "secret"
CONFIGMAP = "configmap"
PVC = "persistentvolumeclaim"
PV = "persistentvolume"
SERVICE_ACCOUNT = "serviceaccount"
RESOURCE_CLAIM = "resourceclaim"
POD = "pod"
VOLUME_ATTACHMENT = "volumeattachment"

_WATCHED = {("", "pods"): POD, ("", "persistentvolumes"): PV,
            ("storage.k8s.io", "volumeattachments"): VOLUME_ATTACHMENT}
# PV sources whose `secretRef` the kubelet reads (pvutil.VisitPVSecretNames)
_PV_SECRET_REF_SOURCES = ("cephfs", "cinder", "flexVolume", "rbd", "scaleIO", "iscsi",
                          "storageos")
_CSI_NODE_SECRETS = ("nodePublishSecretRef", "nodeStageSecretRef", "nodeExpandSecretRef")


class _Store(Protocol):
    prefix: str


class Stores(Protocol):
    def store_for(self, group: str, plural: str) -> _Store: ...


def _obj(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class BoundPod:
    node: str
    refs: frozenset[Ref]


def pod_references(pod: Obj) -> frozenset[Ref]:
    """The objects a bound pod gives its node (graph.go AddPod)."""
    meta = pod.get("metadata") or {}
    namespace = str(meta.get("namespace") or "")
    spec = _obj(pod.get("spec"))
    refs: set[Ref] = set()
    if account := pod_account_name(spec):
        refs.add((SERVICE_ACCOUNT, namespace, account))
    refs.update((SECRET, namespace, name) for name in pod_secret_names(spec) if name)
    refs.update((CONFIGMAP, namespace, name) for name in pod_configmap_names(spec) if name)
    refs.update((PVC, namespace, name) for name in pod_claim_names(pod) if name)
    refs.update((RESOURCE_CLAIM, namespace, name) for name in pod_resource_claim_names(pod))
    return frozenset(refs)


def pv_secret_refs(pv: Obj) -> Iterator[Ref]:
    """The Secrets a PV's kubelet reads, each in its namespace or the bound claim's."""
    spec = _obj(pv.get("spec"))
    claim_namespace = str((spec.get("claimRef") or {}).get("namespace") or "")
    for source in _PV_SECRET_REF_SOURCES:
        ref = _obj(spec.get(source)).get("secretRef")
        if isinstance(ref, dict) and ref.get("name"):
            yield SECRET, str(ref.get("namespace") or claim_namespace), str(ref["name"])
    azure = spec.get("azureFile")
    if isinstance(azure, dict) and azure.get("secretName"):
        yield SECRET, str(azure.get("secretNamespace") or claim_namespace), str(
            azure["secretName"])
    csi = spec.get("csi")
    for key in _CSI_NODE_SECRETS:
        ref = csi.get(key) if isinstance(csi, dict) else None
        if isinstance(ref, dict) and ref.get("name"):
            yield SECRET, str(ref.get("namespace") or ""), str(ref["name"])


class NodeGraph:
    def __init__(self, cache: Cache, stores: Stores) -> None:
        self.cache = cache
        self._kind_of: dict[str, str] = {}
        for (group, plural), kind in _WATCHED.items():
            try:
                self._kind_of[stores.store_for(group, plural).prefix] = kind
            except KeyError:  # a resource this server does not serve
                continue
        self._loaded = False
        self.pods: dict[tuple[str, str], BoundPod] = {}
        self.reach: dict[Ref, collections.Counter[str]] = {}
        self.pv_claim: dict[str, tuple[str, str]] = {}
        self.pv_secrets: dict[str, frozenset[Ref]] = {}
        self.secret_pvs: dict[Ref, set[str]] = collections.defaultdict(set)
        self.attachments: dict[str, str] = {}
        cache.add_listener(self._on_event)

    # -- deciding --------------------------------------------------------------------

    def related(self, node: str, kind: str, namespace: str, name: str) -> bool:
        """Whether the object leads to the node (upstream's hasPathFrom)."""
        self.ensure_loaded()
        if kind == POD:
            bound = self.pods.get((namespace, name))
            return bound is not None and bound.node == node
        if kind == VOLUME_ATTACHMENT:
            return self.attachments.get(name) == node
        if kind == PV:
            claim = self.pv_claim.get(name)
            return claim is not None and self._reaches(node, (PVC, *claim))
        ref = (kind, namespace, name)
        if self._reaches(node, ref):
            return True
        return kind == SECRET and any(self.related(node, PV, "", pv)
                                      for pv in self.secret_pvs.get(ref, ()))

    def _reaches(self, node: str, ref: Ref) -> bool:
        return node in self.reach.get(ref, ())

    # -- following the cache -----------------------------------------------------------

    def ensure_loaded(self) -> None:
        if self._loaded or not self.cache.ready.is_set():
            return
        self._loaded = True
        for prefix, kind in self._kind_of.items():
            for entry in list(self.cache.bucket(prefix).values()):
                self._put(kind, entry)

    def _on_event(self, ev: CacheEvent) -> None:
        if not self._loaded:
            return  # the first use reads the cache as it stands then
        kind = self._kind_of.get(Cache.prefix_of(ev.key))
        if kind is None:
            return
        if ev.type == "DELETED":
            self._drop(kind, ev.entry)
        elif not (kind == POD and ev.prev is not None and _same_binding(ev.prev, ev.entry)):
            self._put(kind, ev.entry)

    def _put(self, kind: str, entry: Entry) -> None:
        if kind == POD:
            self._drop_pod((entry.namespace, entry.name))
            node = entry.fields.get("spec.nodeName", "")
            if node:
                self._add_pod((entry.namespace, entry.name), node, pod_references(entry.obj))
        elif kind == PV:
            self._drop_pv(entry.name)
            self._add_pv(entry.name, entry.obj)
        else:
            node = str((entry.obj.get("spec") or {}).get("nodeName") or "")
            if node:
                self.attachments[entry.name] = node
            else:
                self.attachments.pop(entry.name, None)

    def _drop(self, kind: str, entry: Entry) -> None:
        if kind == POD:
            self._drop_pod((entry.namespace, entry.name))
        elif kind == PV:
            self._drop_pv(entry.name)
        else:
            self.attachments.pop(entry.name, None)

    def _add_pod(self, key: tuple[str, str], node: str, refs: frozenset[Ref]) -> None:
        self.pods[key] = BoundPod(node, refs)
        for ref in refs:
            self.reach.setdefault(ref, collections.Counter())[node] += 1

    def _drop_pod(self, key: tuple[str, str]) -> None:
        bound = self.pods.pop(key, None)
        if bound is None:
            return
        for ref in bound.refs:
            holders = self.reach.get(ref)
            if holders is None:
                continue
            holders[bound.node] -= 1
            if holders[bound.node] <= 0:
                del holders[bound.node]
            if not holders:
                del self.reach[ref]

    def _add_pv(self, name: str, pv: Obj) -> None:
        claim = (pv.get("spec") or {}).get("claimRef")
        if not isinstance(claim, dict) or not claim.get("name"):
            return  # unbound: no node reaches it, nor its Secrets through it
        self.pv_claim[name] = (str(claim.get("namespace") or ""), str(claim["name"]))
        secrets = frozenset(pv_secret_refs(pv))
        self.pv_secrets[name] = secrets
        for ref in secrets:
            self.secret_pvs[ref].add(name)

    def _drop_pv(self, name: str) -> None:
        self.pv_claim.pop(name, None)
        for ref in self.pv_secrets.pop(name, frozenset()):
            holders = self.secret_pvs.get(ref)
            if holders is not None:
                holders.discard(name)
                if not holders:
                    del self.secret_pvs[ref]


def _same_binding(prev: Entry, entry: Entry) -> bool:
    """An update that changes nothing the graph keeps: the same node, and no resource
    claim statuses (the one part of a pod's references outside its immutable spec)."""
    return (prev.fields.get("spec.nodeName", "") == entry.fields.get("spec.nodeName", "")
            and b"resourceClaimStatuses" not in prev.raw
            and b"resourceClaimStatuses" not in entry.raw)
