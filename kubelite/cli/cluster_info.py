"""What a server publishes so nodes can join with a bootstrap token, as `kubeadm init`
does in its bootstrap-token phase:

- kube-public/cluster-info: a kubeconfig with the server's address and CA, which the
  bootstrap signer loop signs for each signing token (controllers/bootstrapsigner.py);
- a Role letting system:anonymous get that one ConfigMap (a joining node does not
  trust the server yet, so it cannot show credentials to it; the API server lets
  anonymous requests reach that path, apiserver/auth/authn.py);
- ClusterRoleBindings for the bootstrap token's group: create CSRs
  (system:node-bootstrapper), have node client CSRs approved (nodeclient), and let
  nodes renew their own (selfnodeclient, for system:nodes).

Written through the API like any client; made once, never overwritten, except that
cluster-info's kubeconfig follows the server's address and CA.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

from kubelite.api.bootstrap_token import (
    CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, KUBECONFIG_KEY)
from kubelite.client.rest import Client
from kubelite.machinery import errors

Obj = dict[str, Any]

# kubelite token create's default group (cli/bootstrap_tokens.py), kubeadm's in kind
NODE_TOKEN_GROUP = "system:bootstrappers:kubelite:default-node-token"
RBAC = "rbac.authorization.k8s.io"


def cluster_info_kubeconfig(server_url: str, ca_pem: bytes) -> str:
    """The kubeconfig cluster-info holds: one cluster, no users (kubeadm's shape)."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "", "cluster": {
            "server": server_url,
            "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "contexts": [], "current-context": "", "users": [],
    }, sort_keys=True)


def _binding(name: str, role: str, kind: str, subject: str) -> Obj:
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": RBAC, "kind": kind, "name": subject}]}


def join_rbac() -> list[tuple[str, Obj]]:
    """(resource, object) pairs, kubeadm's objects under kubelite's names."""
    reader = "kubelite:bootstrap-signer-clusterinfo"
    return [
        ("roles", {"apiVersion": f"{RBAC}/v1", "kind": "Role",
                   "metadata": {"name": reader, "namespace": CLUSTER_INFO_NAMESPACE},
                   "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                              "resourceNames": [CLUSTER_INFO_NAME]}]}),
        ("rolebindings", {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
                          "metadata": {"name": reader, "namespace": CLUSTER_INFO_NAMESPACE},
                          "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": reader},
                          "subjects": [{"apiGroup": RBAC, "kind": "User",
                                        "name": "system:anonymous"}]}),
        ("clusterrolebindings", _binding("kubelite:kubelet-bootstrap", "system:node-bootstrapper",
                                         "Group", NODE_TOKEN_GROUP)),
        ("clusterrolebindings", _binding(
            "kubelite:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "Group",
            NODE_TOKEN_GROUP)),
        ("clusterrolebindings", _binding(
            "kubelite:node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "Group",
            "system:nodes")),
    ]


async def publish(client: Client, server_url: str, ca_pem: bytes) -> None:
    for resource, obj in join_rbac():
        try:
            await client.create(resource, obj, namespace=obj["metadata"].get("namespace"))
        except errors.AlreadyExists:
            pass
    content = cluster_info_kubeconfig(server_url, ca_pem)
    try:
        await client.create("configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CLUSTER_INFO_NAME, "namespace": CLUSTER_INFO_NAMESPACE},
            "data": {KUBECONFIG_KEY: content}}, namespace=CLUSTER_INFO_NAMESPACE)
    except errors.AlreadyExists:
        current = await client.get("configmaps", CLUSTER_INFO_NAME, namespace=CLUSTER_INFO_NAMESPACE)
        if (current.get("data") or {}).get(KUBECONFIG_KEY) != content:
            current.setdefault("data", {})[KUBECONFIG_KEY] = content
            await client.update("configmaps", current, namespace=CLUSTER_INFO_NAMESPACE)
