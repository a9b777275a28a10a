"""NodeRestriction (plugin/pkg/admission/noderestriction upstream): a kubelet writes
only what is its own.

The Node authorizer lets every node create and update Nodes, create and delete pods,
update pod status, evict pods, create leases, CSINodes and token requests, because
it cannot see the object being written; this plugin, which can, refuses a node
(`system:node:<name>` in `system:nodes`) anything that is not its own:

- Nodes: only its own; not created with a configSource or labels outside the
  kubelet's set (kubernetes.io/hostname, kubernetes.io/os and /arch, the topology
  and instance-type labels, *.kubelet.kubernetes.io/*, *.node.kubernetes.io/*; never
  node-restriction.kubernetes.io/*); on update, no change to its taints nor to labels
  outside that set (so no node-role.kubernetes.io/* label);
- pods: creates only of mirror pods bound to itself, owned by its Node (uid checked)
  and referencing no account, Secret, ConfigMap, PVC or ClusterTrustBundle; deletes,
  status updates and evictions only of pods bound to it; no label changes through
  status;
- PVCs: only status.capacity / conditions / allocated resources through pods' claims'
  status;
- serviceaccounts/token: only bound to a pod of its own, by uid;
- Leases and CSINodes: only its own (the lease in kube-node-lease);
- CertificateSigningRequests for the kubelet signers: only with CN=system:node:<itself>.

It is a mutating plugin as upstream's (Admit), so it sees deletes and runs before
the kind's strategy, on the object as the node sent it. Refusals are upstream's
Forbidden messages. Everyone who is not a node passes untouched.
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any, ClassVar

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.service_account import MIRROR_POD
from kubelite.apiserver.admission.stores import Stores
from kubelite.apiserver.auth.node.identity import node_identity
from kubelite.apiserver.auth.user import NODE_USER_PREFIX
from kubelite.machinery import errors
from kubelite.pki.certs import InvalidRequest
from kubelite.pki.requests import parse_request
from kubelite.api.pod_references import (
    pod_account_name,
    pod_configmap_names,
    pod_secret_names,
)

Obj = dict[str, Any]

NODE_LEASE_NAMESPACE = "kube-node-lease"
KUBELET_SIGNERS = ("kubernetes.io/kubelet-serving",
                   "kubernetes.io/kube-apiserver-client-kubelet")
NODE_RESTRICTION_NAMESPACE = "node-restriction.kubernetes.io"
# pkg/kubelet/apis: the labels a kubelet may set on its own Node
KUBELET_LABELS = frozenset({
    "kubernetes.io/hostname", "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
    "kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch"})
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
# what a node may change in a claim's status (admitPVCStatus, with RecoverVolumeExpansionFailure)
_PVC_STATUS_FIELDS = ("capacity", "conditions", "allocatedResourceStatuses",
                      "allocatedResources")


def _in_namespace(namespace: str, domain: str) -> bool:
    return namespace == domain or namespace.endswith("." + domain)


def label_namespace(key: str) -> str:
    return key.split("/", 1)[0] if "/" in key else ""


def is_kubelet_label(key: str) -> bool:
    """kubeletapis.IsKubeletLabel."""
    return key in KUBELET_LABELS or any(_in_namespace(label_namespace(key), allowed)
                                        for allowed in KUBELET_LABEL_NAMESPACES)


def forbidden_labels(modified: set[str]) -> list[str]:
    """The labels a node may not add, remove or change (getForbiddenLabels), sorted."""
    out = set()
    for key in modified:
        namespace = label_namespace(key)
        if _in_namespace(namespace, NODE_RESTRICTION_NAMESPACE):
            out.add(key)
        kubernetes = _in_namespace(namespace, "kubernetes.io") or _in_namespace(namespace,
                                                                                 "k8s.io")
        if kubernetes and not is_kubelet_label(key):
            out.add(key)
    return sorted(out)


def modified_labels(new: dict[str, str], old: dict[str, str]) -> set[str]:
    return {k for k in new.keys() | old.keys() if new.get(k) != old.get(k)}


def _labels(obj: Obj | None) -> dict[str, str]:
    labels = ((obj or {}).get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def _spec(obj: Obj | None) -> Obj:
    spec = (obj or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def _node_of(pod: Obj | None) -> str:
    return str(_spec(pod).get("nodeName") or "")


def _semantic(value: Any) -> Any:
    """apiequality.Semantic's view: an empty list or object is the same as none."""
    return None if value in (None, [], {}) else value


class NodeRestriction:
    name: ClassVar[str] = "NodeRestriction"

    def __init__(self, *, stores: Stores) -> None:
        self.stores = stores

    def handles(self, attrs: Attributes) -> bool:
        return node_identity(attrs.user) is not None

    async def admit(self, attrs: Attributes) -> None:
        node = node_identity(attrs.user)
        if node is None:
            return
        if not node:
            user = attrs.user.name if attrs.user is not None else ""
            raise attrs.forbidden(f'could not determine node from user "{user}"')
        resource = (attrs.resource.group, attrs.resource.plural)
        if resource == ("", "pods"):
            await self._pod(node, attrs)
        elif resource == ("", "nodes"):
            self._node(node, attrs)
        elif resource == ("", "persistentvolumeclaims"):
            if attrs.subresource != "status":
                raise attrs.forbidden("may only update PVC status")
            self._claim_status(node, attrs)
        elif resource == ("", "serviceaccounts"):
            await self._token(node, attrs)
        elif resource == ("coordination.k8s.io", "leases"):
            if attrs.namespace != NODE_LEASE_NAMESPACE:
                raise attrs.forbidden(f'can only access leases in the "{NODE_LEASE_NAMESPACE}" '
                                      f'system namespace')
            self._own_name(node, attrs, "node lease")
        elif resource == ("storage.k8s.io", "csinodes"):
            self._own_name(node, attrs, "CSINode")
        elif resource == ("certificates.k8s.io", "certificatesigningrequests"):
            self._csr(node, attrs)

    # -- pods ----------------------------------------------------------------------------

    async def _pod(self, node: str, attrs: Attributes) -> None:
        if attrs.subresource == "status":
            self._pod_status(node, attrs)
        elif attrs.subresource == "eviction":
            await self._eviction(node, attrs)
        elif attrs.subresource:
            raise attrs.forbidden(f'unexpected pod subresource "{attrs.subresource}", '
                                  f"only 'status' and 'eviction' are allowed")
        elif attrs.operation is Operation.CREATE:
            await self._mirror_pod(node, attrs)
        elif attrs.operation is Operation.DELETE:
            if _node_of(attrs.old) != node:
                raise attrs.forbidden(
                    f'node "{node}" can only delete pods with spec.nodeName set to itself')
        else:
            raise attrs.forbidden(f'unexpected operation "{attrs.operation.value}", node '
                                  f'"{node}" can only create and delete mirror pods')

    async def _mirror_pod(self, node: str, attrs: Attributes) -> None:
        pod = attrs.obj
        meta = pod.get("metadata") or {}
        if MIRROR_POD not in (meta.get("annotations") or {}):
            raise attrs.forbidden(f'pod does not have "{MIRROR_POD}" annotation, node '
                                  f'"{node}" can only create mirror pods')
        if _node_of(pod) != node:
            raise attrs.forbidden(
                f'node "{node}" can only create pods with spec.nodeName set to itself')
        owners = [o for o in meta.get("ownerReferences") or () if isinstance(o, dict)]
        if len(owners) > 1:
            raise attrs.forbidden(f'node "{node}" can only create pods with a single owner '
                                  f'reference set to itself')
        if not owners:
            raise attrs.forbidden(
                f'node "{node}" can only create pods with an owner reference set to itself')
        owner = owners[0]
        if (owner.get("apiVersion"), owner.get("kind"), owner.get("name")) != ("v1", "Node", node):
            raise attrs.forbidden(
                f'node "{node}" can only create pods with an owner reference set to itself')
        if owner.get("controller") is not True:
            raise attrs.forbidden(f'node "{node}" can only create pods with a controller '
                                  f'owner reference set to itself')
        if owner.get("blockOwnerDeletion") is True:
            raise attrs.forbidden(
                f'node "{node}" must not set blockOwnerDeletion on an owner reference')
        entry = await self.stores.store_for("", "nodes").cached_entry("", node)
        if entry is None:
            raise errors.not_found("", "nodes", node)
        uid = (entry.obj.get("metadata") or {}).get("uid") or ""
        if owner.get("uid") != uid:
            raise attrs.forbidden(f"node {node} UID mismatch: expected {uid} "
                                  f"got {owner.get('uid') or ''}")
        self._references_nothing(node, attrs, _spec(pod))

    @staticmethod
    def _references_nothing(node: str, attrs: Attributes, spec: Obj) -> None:
        """A mirror pod may not name other API objects: its node could read them."""
        if pod_account_name(spec):
            raise attrs.forbidden(
                f'node "{node}" can not create pods that reference a service account')
        if next(pod_secret_names(spec), None) is not None:
            raise attrs.forbidden(f'node "{node}" can not create pods that reference secrets')
        if next(pod_configmap_names(spec), None) is not None:
            raise attrs.forbidden(
                f'node "{node}" can not create pods that reference configmaps')
        volumes = [v for v in spec.get("volumes") or () if isinstance(v, dict)]
        for volume in volumes:
            sources = (volume.get("projected") or {}).get("sources") or ()
            if any(isinstance(s, dict) and s.get("clusterTrustBundle") is not None
                   for s in sources):
                raise attrs.forbidden(f'node "{node}" can not create pods that reference '
                                      f'clustertrustbundles')
        if any(v.get("persistentVolumeClaim") is not None for v in volumes):
            raise attrs.forbidden(f'node "{node}" can not create pods that reference '
                                  f'persistentvolumeclaims')

    @staticmethod
    def _pod_status(node: str, attrs: Attributes) -> None:
        if attrs.operation is not Operation.UPDATE:
            raise attrs.forbidden(f'unexpected operation "{attrs.operation.value}"')
        if _node_of(attrs.old) != node:
            raise attrs.forbidden(f'node "{node}" can only update pod status for pods with '
                                  f'spec.nodeName set to itself')
        if _labels(attrs.obj) != _labels(attrs.old):
            raise attrs.forbidden(f'node "{node}" cannot update labels through pod status')
        if _claim_statuses(attrs.obj) != _claim_statuses(attrs.old):
            raise attrs.forbidden(f'node "{node}" cannot update resource claim statues')

    async def _eviction(self, node: str, attrs: Attributes) -> None:
        if attrs.operation is not Operation.CREATE:
            raise attrs.forbidden(f"unexpected operation {attrs.operation.value}")
        name = attrs.name or str((attrs.obj.get("metadata") or {}).get("name") or "")
        if not name:
            raise attrs.forbidden("could not determine pod from request data")
        pod = await self._pod_named(attrs.namespace, name)
        if _node_of(pod) != node:
            raise attrs.forbidden(
                f"node {node} can only evict pods with spec.nodeName set to itself")

    async def _pod_named(self, namespace: str, name: str) -> Obj:
        entry = await self.stores.store_for("", "pods").cached_entry(namespace, name)
        if entry is None:
            raise errors.not_found("", "pods", name)
        return entry.obj

    # -- nodes, claims, tokens, leases, CSRs -----------------------------------------------

    @staticmethod
    def _node(node: str, attrs: Attributes) -> None:
        if attrs.name != node:
            raise attrs.forbidden(f'node "{node}" is not allowed to modify node "{attrs.name}"')
        spec = _spec(attrs.obj)
        if attrs.operation is Operation.CREATE:
            if spec.get("configSource") is not None:
                raise attrs.forbidden(f'node "{node}" is not allowed to create pods with a '
                                      f'non-nil configSource')
            bad = forbidden_labels(modified_labels(_labels(attrs.obj), {}))
            if bad:
                raise attrs.forbidden(f'node "{node}" is not allowed to set the following '
                                      f'labels: {", ".join(bad)}')
        elif attrs.operation is Operation.UPDATE:
            old_spec = _spec(attrs.old)
            if spec.get("configSource") is not None and \
                    spec.get("configSource") != old_spec.get("configSource"):
                raise attrs.forbidden(f'node "{node}" is not allowed to update configSource '
                                      f'to a new non-nil configSource')
            if _semantic(spec.get("taints")) != _semantic(old_spec.get("taints")):
                raise attrs.forbidden(f'node "{node}" is not allowed to modify taints')
            bad = forbidden_labels(modified_labels(_labels(attrs.obj), _labels(attrs.old)))
            if bad:
                raise attrs.forbidden(f"is not allowed to modify labels: {', '.join(bad)}")

    @staticmethod
    def _claim_status(node: str, attrs: Attributes) -> None:
        if attrs.operation is not Operation.UPDATE:
            raise attrs.forbidden(f'unexpected operation "{attrs.operation.value}"')
        new, old = _comparable_claim(attrs.obj), _comparable_claim(attrs.old or {})
        if new != old:
            changed = sorted(k for k in new.keys() | old.keys() if new.get(k) != old.get(k))
            raise attrs.forbidden(f'node "{node}" is not allowed to update fields other than '
                                  f'status.quantity and status.conditions: {", ".join(changed)}')

    async def _token(self, node: str, attrs: Attributes) -> None:
        if attrs.operation is not Operation.CREATE or attrs.subresource != "token":
            return
        ref = _spec(attrs.obj).get("boundObjectRef")
        if not isinstance(ref, dict) or ref.get("apiVersion") != "v1" or \
                ref.get("kind") != "Pod" or not ref.get("name"):
            raise attrs.forbidden("node requested token not bound to a pod")
        if not ref.get("uid"):
            raise attrs.forbidden("node requested token with a pod binding without a uid")
        pod = await self._pod_named(attrs.namespace, str(ref["name"]))
        if ref["uid"] != (pod.get("metadata") or {}).get("uid"):
            raise attrs.forbidden(
                f"the UID in the bound object reference ({ref['uid']}) does not match the UID "
                f"in record. The object might have been deleted and then recreated")
        if _node_of(pod) != node:
            raise attrs.forbidden(
                "node requested token bound to a pod scheduled on a different node")

    @staticmethod
    def _own_name(node: str, attrs: Attributes, what: str) -> None:
        """A lease or CSINode: a create is checked by the object's name (the request has
        none yet), anything else by the request's."""
        name = attrs.name
        if attrs.operation is Operation.CREATE:
            name = str((attrs.obj.get("metadata") or {}).get("name") or "")
        if name != node:
            raise attrs.forbidden(f"can only access {what} with the same name as the "
                                  f"requesting node")

    @staticmethod
    def _csr(node: str, attrs: Attributes) -> None:
        if attrs.operation is not Operation.CREATE or attrs.subresource:
            return
        spec = _spec(attrs.obj)
        if spec.get("signerName") not in KUBELET_SIGNERS:
            return
        try:
            request = parse_request(base64.b64decode(spec.get("request") or "", validate=True))
        except (InvalidRequest, binascii.Error, ValueError) as err:
            raise attrs.forbidden(f"unable to parse csr: {err}") from None
        if request.subject.common_name != NODE_USER_PREFIX + node:
            raise attrs.forbidden(f"can only create a node CSR with CN={NODE_USER_PREFIX}{node}")


def _claim_statuses(pod: Obj | None) -> list[tuple[str, Any]]:
    status = (pod or {}).get("status")
    entries = status.get("resourceClaimStatuses") if isinstance(status, dict) else None
    return [(str(e.get("name") or ""), e.get("resourceClaimName"))
            for e in entries or () if isinstance(e, dict)]


def _comparable_claim(claim: Obj) -> Obj:
    """The claim without what a node may change and what says nothing (its
    resourceVersion, managedFields), flattened to top-level parts for the message."""
    out = copy.deepcopy(claim)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("resourceVersion", None)
        meta.pop("managedFields", None)
    status = out.get("status")
    if isinstance(status, dict):
        for field in _PVC_STATUS_FIELDS:
            status.pop(field, None)
    flat: Obj = {}
    for part, value in out.items():
        if isinstance(value, dict) and part in ("metadata", "spec", "status"):
            flat.update({f"{part}.{k}": _semantic(v) for k, v in value.items()})
        else:
            flat[part] = _semantic(value)
    return {k: v for k, v in flat.items() if v is not None}
