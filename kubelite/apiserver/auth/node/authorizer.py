"""`--authorization-mode=Node`: what a kubelet may do, as upstream's NodeAuthorizer
(plugin/pkg/auth/authorizer/node/node_authorizer.go, with AuthorizeNodeWithSelectors,
on since 1.32).

Only nodes (identity.py) get an opinion. For them:
- Secrets, ConfigMaps: get/list/watch of one named object its pods use;
- PVCs, PVs, ResourceClaims, VolumeAttachments: get of one related to the node
  (PVCs also update/patch of their status);
- serviceaccounts/token: create for an account one of its pods runs as;
- Leases: in kube-node-lease, its own (create is left to NodeRestriction);
- CSINodes: its own (create left to NodeRestriction);
- Nodes: get/list/watch of its own only (a list or watch named by the field selector
  metadata.name); create, update, patch and status updates of any, which
  NodeRestriction narrows to its own;
- Pods: get of its pods; list/watch only with the field selector
  spec.nodeName=<itself>; create/delete, status updates and evictions, which
  NodeRestriction narrows to its own pods;
- everything else: the rules of the `system:node` ClusterRole, which upstream binds
  to nobody and grants to every node here.

A refusal is NO_OPINION with upstream's reason, so the next authorizer (RBAC) may
still allow it and the 403 carries the reason: `... no relationship found between
node 'n1' and this object`. Decisions are index lookups (graph.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kubelite.apiserver.auth.attributes import Attributes, Decision
from kubelite.apiserver.auth.node import graph
from kubelite.apiserver.auth.node.graph import NodeGraph
from kubelite.apiserver.auth.node.identity import node_identity
from kubelite.apiserver.auth.rbac.rules import Rule, go_quote, rule_allows

NODE_LEASE_NAMESPACE = "kube-node-lease"

Answer = tuple[Decision, str]
NO_OPINION: Answer = (Decision.NO_OPINION, "")
ALLOW: Answer = (Decision.ALLOW, "")


def _no(reason: str) -> Answer:
    return Decision.NO_OPINION, reason


def selected(attrs: Attributes, field: str, value: str) -> bool:
    """Whether the request's field selector requires field == value."""
    return (field, "=", value) in attrs.field_selector


class NodeAuthorizer:
    def __init__(self, index: NodeGraph, rules: Sequence[Rule]) -> None:
        self.graph = index
        self.rules = tuple(rules)
        self._by_resource: dict[tuple[str, str], Callable[[str, Attributes], Answer]] = {
            ("", "secrets"): lambda n, a: self._read_namespaced(n, graph.SECRET, a),
            ("", "configmaps"): lambda n, a: self._read_namespaced(n, graph.CONFIGMAP, a),
            ("", "persistentvolumeclaims"): self._claim,
            ("", "persistentvolumes"): lambda n, a: self._get(n, graph.PV, a),
            ("resource.k8s.io", "resourceclaims"):
                lambda n, a: self._get(n, graph.RESOURCE_CLAIM, a),
            ("storage.k8s.io", "volumeattachments"):
                lambda n, a: self._get(n, graph.VOLUME_ATTACHMENT, a),
            ("", "serviceaccounts"): self._token,
            ("coordination.k8s.io", "leases"): self._lease,
            ("storage.k8s.io", "csinodes"): self._csi_node,
            ("", "nodes"): self._node,
            ("", "pods"): self._pod,
        }

    async def authorize(self, attrs: Attributes) -> Answer:
        return self.decide(attrs)

    def decide(self, attrs: Attributes) -> Answer:
        node = node_identity(attrs.user)
        if node is None:
            return NO_OPINION
        if not node:
            return _no(f"unknown node for user {go_quote(attrs.user.name)}")
        if attrs.resource_request:
            decide = self._by_resource.get((attrs.api_group, attrs.resource))
            if decide is not None:
                return decide(node, attrs)
        return self._static(attrs)

    def _static(self, attrs: Attributes) -> Answer:
        """The system:node rules, for what the node authorizer does not subdivide."""
        if any(rule_allows(attrs, rule) for rule in self.rules):
            return ALLOW
        return NO_OPINION

    def _related(self, node: str, kind: str, attrs: Attributes) -> Answer:
        """upstream's authorize: the named object must lead to the node."""
        if not attrs.name:
            return _no("No Object name found")
        if self.graph.related(node, kind, attrs.namespace, attrs.name):
            return ALLOW
        return _no(f"no relationship found between node '{node}' and this object")

    def _read_namespaced(self, node: str, kind: str, attrs: Attributes) -> Answer:
        if attrs.verb not in ("get", "list", "watch"):
            return _no("can only read resources of this type")
        if attrs.subresource:
            return _no("cannot read subresource")
        if not attrs.namespace:
            return _no("can only read namespaced object of this type")
        return self._related(node, kind, attrs)

    def _get(self, node: str, kind: str, attrs: Attributes) -> Answer:
        if attrs.verb != "get":
            return _no("can only get individual resources of this type")
        if attrs.subresource:
            return _no("cannot get subresource")
        return self._related(node, kind, attrs)

    def _claim(self, node: str, attrs: Attributes) -> Answer:
        if attrs.subresource != "status":
            return self._get(node, graph.PVC, attrs)
        if attrs.verb not in ("update", "patch"):
            return _no("can only get/update/patch this type")
        return self._related(node, graph.PVC, attrs)

    def _token(self, node: str, attrs: Attributes) -> Answer:
        if attrs.verb != "create" or not attrs.name:
            return _no("can only create tokens for individual service accounts")
        if attrs.subresource != "token":
            return _no("can only create token subresource of serviceaccount")
        return self._related(node, graph.SERVICE_ACCOUNT, attrs)

    def _lease(self, node: str, attrs: Attributes) -> Answer:
        if attrs.verb not in ("get", "create", "update", "patch", "delete"):
            return _no("can only get, create, update, patch, or delete a node lease")
        if attrs.namespace != NODE_LEASE_NAMESPACE:
            return _no(f"can only access leases in the {go_quote(NODE_LEASE_NAMESPACE)} "
                       f"system namespace")
        # a create names no object yet: NodeRestriction checks the Lease's own name
        if attrs.verb != "create" and attrs.name != node:
            return _no("can only access node lease with the same name as the requesting node")
        return ALLOW

    def _csi_node(self, node: str, attrs: Attributes) -> Answer:
        if attrs.verb not in ("get", "create", "update", "patch", "delete"):
            return _no("can only get, create, update, patch, or delete a CSINode")
        if attrs.subresource:
            return _no("cannot authorize CSINode subresources")
        if attrs.verb != "create" and attrs.name != node:
            return _no("can only access CSINode with the same name as the requesting node")
        return ALLOW

    def _node(self, node: str, attrs: Attributes) -> Answer:
        if not attrs.subresource:
            if attrs.verb in ("create", "update", "patch"):
                return ALLOW  # NodeRestriction: only its own
            if attrs.verb in ("get", "list", "watch"):
                # by name, not through the graph: a kubelet reads its Node before
                # registering it
                if attrs.name == node:
                    return ALLOW
                if not attrs.name:
                    return _no(f"node '{node}' cannot read all nodes, only its own Node object")
                return _no(f"node '{node}' cannot read '{attrs.name}', "
                           f"only its own Node object")
        elif attrs.subresource == "status" and attrs.verb in ("update", "patch"):
            return ALLOW  # NodeRestriction: only its own
        return NO_OPINION

    def _pod(self, node: str, attrs: Attributes) -> Answer:
        if not attrs.subresource:
            if attrs.verb == "get":
                return self._get(node, graph.POD, attrs)
            if attrs.verb in ("list", "watch"):
                if selected(attrs, "spec.nodeName", node):
                    return ALLOW
                if attrs.name:
                    return self._related(node, graph.POD, attrs)
                return _no("can only list/watch pods with spec.nodeName field selector")
            if attrs.verb in ("create", "delete"):
                return ALLOW  # mirror pods; NodeRestriction: only bound to itself
        elif attrs.subresource == "status" and attrs.verb in ("update", "patch"):
            return ALLOW  # NodeRestriction: only its own pods
        elif attrs.subresource == "eviction" and attrs.verb == "create":
            return ALLOW  # NodeRestriction: only its own pods
        return NO_OPINION
