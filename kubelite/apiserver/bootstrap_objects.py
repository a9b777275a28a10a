"""Objects kube-apiserver keeps in every cluster, as data.

- the system PriorityClasses (pkg/apis/scheduling: SystemPriorityClasses),
- the `kubernetes` Service and its Endpoints and EndpointSlice, pointing at the API,
- k3s's default StorageClass `local-path` (its manifests/local-storage.yaml), served by
  the controller manager's local-path-provisioner loop.

The default RBAC policy is data of its own: auth/rbac/policy.py.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def priority_classes() -> list[Obj]:
    return [{
        "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": name}, "value": value, "globalDefault": False,
        "description": description, "preemptionPolicy": "PreemptLowerPriority",
    } for name, value, description in (
        ("system-node-critical", 2000001000,
         "Used for system critical pods that must not be moved from their current node."),
        ("system-cluster-critical", 2000000000,
         "Used for system critical pods that must run in the cluster, but can be moved to "
         "another node if necessary."),
    )]


def local_storage_class() -> Obj:
    """The default class: hostPath volumes under the data dir, made on the node the
    scheduler picks for the first pod using the claim."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "local-path",
                         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer"}


def kubernetes_endpoints(ip: str, port: int) -> tuple[Obj, Obj]:
    """Endpoints and EndpointSlice of the `kubernetes` Service: the API server itself."""
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": "kubernetes",
                              "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                 "subsets": [{"addresses": [{"ip": ip}],
                              "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]}
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes",
                     "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}
    return endpoints, endpoint_slice
