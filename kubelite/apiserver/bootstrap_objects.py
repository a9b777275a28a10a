"""Objects kube-apiserver keeps in every cluster, as data.

- the system PriorityClasses (pkg/apis/scheduling: SystemPriorityClasses),
- the default RBAC policy's user-facing roles and the bindings that make them work
  (plugin/pkg/auth/authorizer/rbac/bootstrappolicy): cluster-admin, admin, edit, view,
  discovery and the public-info viewer,
- the `kubernetes` Service and its Endpoints and EndpointSlice, pointing at the API,
- k3s's default StorageClass `local-path` (its manifests/local-storage.yaml), served by
  the controller manager's local-path-provisioner loop.

kubelite does not authorize requests yet; the roles are here because charts and
operators bind to them by name and expect them to exist.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

_RBAC = "rbac.authorization.k8s.io/v1"
_BOOTSTRAP_META: Obj = {
    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
}


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


_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_VIEW_RESOURCES: list[tuple[str, list[str]]] = [
    ("", ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "replicationcontrollers",
          "replicationcontrollers/scale", "serviceaccounts", "services", "bindings", "events",
          "limitranges", "namespaces", "pods/status", "resourcequotas", "services/status"]),
    ("apps", ["controllerrevisions", "daemonsets", "deployments", "deployments/scale",
              "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]),
    ("autoscaling", ["horizontalpodautoscalers"]),
    ("batch", ["cronjobs", "jobs"]),
    ("discovery.k8s.io", ["endpointslices"]),
    ("networking.k8s.io", ["ingresses", "networkpolicies"]),
    ("policy", ["poddisruptionbudgets"]),
]
_EDIT_RESOURCES: list[tuple[str, list[str]]] = [
    ("", ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "replicationcontrollers",
          "replicationcontrollers/scale", "secrets", "serviceaccounts", "services"]),
    ("apps", ["daemonsets", "deployments", "deployments/scale", "replicasets",
              "replicasets/scale", "statefulsets", "statefulsets/scale"]),
    ("autoscaling", ["horizontalpodautoscalers"]),
    ("batch", ["cronjobs", "jobs"]),
    ("networking.k8s.io", ["ingresses", "networkpolicies"]),
    ("policy", ["poddisruptionbudgets"]),
]


def _role(name: str, rules: list[Obj], aggregate_to: tuple[str, ...] = ()) -> Obj:
    meta: Obj = {"name": name, **_BOOTSTRAP_META}
    if aggregate_to:
        meta["labels"] = {**meta["labels"], **{
            f"rbac.authorization.k8s.io/aggregate-to-{target}": "true"
            for target in aggregate_to}}
    return {"apiVersion": _RBAC, "kind": "ClusterRole", "metadata": meta, "rules": rules}


def _rules(resources: list[tuple[str, list[str]]], verbs: list[str]) -> list[Obj]:
    return [{"apiGroups": [group], "resources": names, "verbs": verbs}
            for group, names in resources]


def cluster_roles() -> list[Obj]:
    view = _rules(_VIEW_RESOURCES, _READ)
    edit = _rules(_EDIT_RESOURCES, _WRITE) + [
        {"apiGroups": [""], "resources": ["pods/attach", "pods/exec", "pods/portforward",
                                          "pods/proxy", "secrets", "services/proxy"],
         "verbs": _READ},
        {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]}]
    admin = [{"apiGroups": ["rbac.authorization.k8s.io"],
              "resources": ["rolebindings", "roles"], "verbs": _READ + _WRITE},
             {"apiGroups": ["authorization.k8s.io"],
              "resources": ["localsubjectaccessreviews"], "verbs": ["create"]}]
    return [
        _role("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                                {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        _role("admin", admin + edit + view),
        _role("edit", edit + view, aggregate_to=("admin",)),
        _role("view", view, aggregate_to=("edit",)),
        _role("system:discovery", [{"nonResourceURLs": [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
            "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        _role("system:public-info-viewer", [{"nonResourceURLs": [
            "/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        _role("system:basic-user", [{"apiGroups": ["authorization.k8s.io"], "resources": [
            "selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]}]),
    ]


def cluster_role_bindings() -> list[Obj]:
    def binding(name: str, group: str) -> Obj:
        return {"apiVersion": _RBAC, "kind": "ClusterRoleBinding",
                "metadata": {"name": name, **_BOOTSTRAP_META},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": name},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                              "name": group}]}
    return [binding("cluster-admin", "system:masters"),
            binding("system:discovery", "system:authenticated"),
            binding("system:basic-user", "system:authenticated"),
            binding("system:public-info-viewer", "system:unauthenticated")]


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
