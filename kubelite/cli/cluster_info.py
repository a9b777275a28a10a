"""What a server publishes so nodes can join with a bootstrap token, as `kubeadm init`
does in its bootstrap-token phase:

- kube-public/cluster-info: a kubeconfig with the server's address and CA, which the
  bootstrap signer loop signs for each signing token (controllers/bootstrapsigner.py);
- a Role letting system:anonymous get that one ConfigMap (a joining node does not
  trust the server yet, so it cannot show credentials to it; the API server lets
  anonymous requests reach that path, apiserver/auth/authn.py);
- ClusterRoleBindings for the bootstrap token's group: create CSRs
  (system:node-bootstrapper), have node client CSRs approved (nodeclient), and let
  nodes renew their own (selfnodeclient, for system:nodes);
- kube-system/extension-apiserver-authentication with the client CA (`client-ca-file`,
  as kube-apiserver publishes it), which nodes may read: a joined kubelet takes from
  it the CA of the API server's client certificate.

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


# kube-apiserver's own: who its client certificates come from, for servers it calls
# (aggregated APIs, and here kubelets, which verify the API server's certificate)
AUTHENTICATION_CONFIGMAP = "extension-apiserver-authentication"
CLIENT_CA_KEY = "client-ca-file"


def node_client_ca_reader() -> tuple[str, Obj]:
    """Nodes may read the client CA (upstream's extension-apiserver-authentication-reader
    role): a joined kubelet learns from it which client certificates to accept."""
    return ("rolebindings", {
        "apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
        "metadata": {"name": "kubelite:node-client-ca-reader", "namespace": "kube-system"},
        "roleRef": {"apiGroup": RBAC, "kind": "Role",
                    "name": "extension-apiserver-authentication-reader"},
        "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": "system:nodes"}]})


async def publish(client: Client, server_url: str, ca_pem: bytes,
                  client_ca_pem: bytes | None = None) -> None:
    if client_ca_pem is not None:
        await _ensure_data(client, "kube-system", AUTHENTICATION_CONFIGMAP,
                           {CLIENT_CA_KEY: client_ca_pem.decode()})
    for resource, obj in [*join_rbac(), node_client_ca_reader()]:
        try:
            await client.create(resource, obj, namespace=obj["metadata"].get("namespace"))
        except errors.AlreadyExists:
            pass
    await _ensure_data(client, CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_NAME,
                       {KUBECONFIG_KEY: cluster_info_kubeconfig(server_url, ca_pem)})


async def _ensure_data(client: Client, namespace: str, name: str, data: dict[str, str]) -> None:
    """The ConfigMap holds `data` under those keys (others it has are kept)."""
    try:
        await client.create("configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": data},
            namespace=namespace)
    except errors.AlreadyExists:
        current = await client.get("configmaps", name, namespace=namespace)
        have = current.get("data") or {}
        if any(have.get(k) != v for k, v in data.items()):
            current["data"] = {**have, **data}
            await client.update("configmaps", current, namespace=namespace)
