"""The default RBAC policy, as data (upstream's plugin/pkg/auth/authorizer/rbac/
bootstrappolicy/policy.go and namespace_policy.go; the controllers' roles are in
controller_policy.py).

Every object carries the label `kubernetes.io/bootstrapping=rbac-defaults` and the
annotation `rbac.authorization.kubernetes.io/autoupdate=true`; reconcile.py puts them in
the store on every start. admin, edit and view are aggregated ClusterRoles: their rules
are gathered by the clusterrole-aggregation loop from the ClusterRoles labelled
`rbac.authorization.k8s.io/aggregate-to-<name>=true` (system:aggregate-to-admin, -edit,
-view and whatever users add), edit aggregates into admin and view into edit.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

RBAC_API_VERSION = "rbac.authorization.k8s.io/v1"
RBAC_GROUP = "rbac.authorization.k8s.io"
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}

READ = ("get", "list", "watch")
WRITE = ("create", "delete", "deletecollection", "patch", "update")
READ_WRITE = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
READ_UPDATE = ("get", "list", "watch", "update", "patch")


def rule(verbs: tuple[str, ...] | str, groups: tuple[str, ...] | str = (),
         resources: tuple[str, ...] | str = (), names: tuple[str, ...] | str = (),
         urls: tuple[str, ...] | str = ()) -> Obj:
    """A PolicyRule (upstream's rbacv1helpers.NewRule builder)."""
    def listed(value: tuple[str, ...] | str) -> list[str]:
        return [value] if isinstance(value, str) else list(value)
    out: Obj = {"verbs": listed(verbs)}
    if urls:
        out["nonResourceURLs"] = listed(urls)
        return out
    out["apiGroups"] = listed(groups)
    out["resources"] = listed(resources)
    if names:
        out["resourceNames"] = listed(names)
    return out


def events_rule() -> Obj:
    return rule(("create", "update", "patch"), ("", "events.k8s.io"), "events")


def aggregate_label(target: str) -> str:
    return f"{RBAC_GROUP}/aggregate-to-{target}"


def cluster_role(name: str, rules: list[Obj], *, labels: dict[str, str] | None = None,
                 aggregates: str = "") -> Obj:
    role: Obj = {"apiVersion": RBAC_API_VERSION, "kind": "ClusterRole",
                 "metadata": {"name": name, "labels": {**(labels or {}), **BOOTSTRAP_LABELS},
                              "annotations": {AUTOUPDATE: "true"}},
                 "rules": rules}
    if aggregates:
        role["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {aggregate_label(aggregates): "true"}}]}
    return role


def role(namespace: str, name: str, rules: list[Obj]) -> Obj:
    return {"apiVersion": RBAC_API_VERSION, "kind": "Role",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(BOOTSTRAP_LABELS),
                         "annotations": {AUTOUPDATE: "true"}},
            "rules": rules}


def users(*names: str) -> list[Obj]:
    return [{"apiGroup": RBAC_GROUP, "kind": "User", "name": n} for n in names]


def groups(*names: str) -> list[Obj]:
    return [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": n} for n in names]


def service_account(namespace: str, name: str) -> list[Obj]:
    return [{"kind": "ServiceAccount", "namespace": namespace, "name": name}]


def cluster_role_binding(name: str, subjects: list[Obj], role_name: str = "") -> Obj:
    return {"apiVersion": RBAC_API_VERSION, "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": dict(BOOTSTRAP_LABELS),
                         "annotations": {AUTOUPDATE: "true"}},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole",
                        "name": role_name or name},
            "subjects": subjects}


def role_binding(namespace: str, name: str, role_name: str, subjects: list[Obj]) -> Obj:
    return {"apiVersion": RBAC_API_VERSION, "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(BOOTSTRAP_LABELS),
                         "annotations": {AUTOUPDATE: "true"}},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": role_name},
            "subjects": subjects}


_HEALTH = ("/healthz", "/livez", "/readyz")


def _view_rules() -> list[Obj]:
    return [
        rule(READ, "", ("pods", "replicationcontrollers", "replicationcontrollers/scale",
                        "serviceaccounts", "services", "services/status", "endpoints",
                        "persistentvolumeclaims", "persistentvolumeclaims/status",
                        "configmaps")),
        rule(READ, "", ("limitranges", "resourcequotas", "bindings", "events", "pods/status",
                        "resourcequotas/status", "namespaces/status",
                        "replicationcontrollers/status", "pods/log")),
        # Reading namespaces at namespace scope means reading *this* namespace.
        rule(READ, "", "namespaces"),
        rule(READ, "discovery.k8s.io", "endpointslices"),
        rule(READ, "apps", ("controllerrevisions", "statefulsets", "statefulsets/status",
                            "statefulsets/scale", "daemonsets", "daemonsets/status",
                            "deployments", "deployments/status", "deployments/scale",
                            "replicasets", "replicasets/status", "replicasets/scale")),
        rule(READ, "autoscaling", ("horizontalpodautoscalers",
                                   "horizontalpodautoscalers/status")),
        rule(READ, "batch", ("jobs", "cronjobs", "cronjobs/status", "jobs/status")),
        rule(READ, "extensions", ("daemonsets", "daemonsets/status", "deployments",
                                  "deployments/scale", "deployments/status", "ingresses",
                                  "ingresses/status", "replicasets", "replicasets/scale",
                                  "replicasets/status", "replicationcontrollers/scale",
                                  "networkpolicies")),
        rule(READ, "policy", ("poddisruptionbudgets", "poddisruptionbudgets/status")),
        rule(READ, "networking.k8s.io", ("networkpolicies", "ingresses", "ingresses/status")),
    ]


def _edit_rules() -> list[Obj]:
    return [
        rule("impersonate", "", "serviceaccounts"),
        rule(WRITE, "", ("pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward")),
        rule("create", "", "pods/eviction"),
        rule(WRITE, "", ("replicationcontrollers", "replicationcontrollers/scale",
                         "serviceaccounts", "services", "services/proxy",
                         "persistentvolumeclaims", "configmaps", "secrets", "events")),
        rule("create", "", "serviceaccounts/token"),
        rule(WRITE, "apps", ("statefulsets", "statefulsets/scale", "daemonsets", "deployments",
                             "deployments/scale", "deployments/rollback", "replicasets",
                             "replicasets/scale")),
        rule(WRITE, "autoscaling", "horizontalpodautoscalers"),
        rule(WRITE, "batch", ("jobs", "cronjobs")),
        rule(WRITE, "extensions", ("daemonsets", "deployments", "deployments/scale",
                                   "deployments/rollback", "ingresses", "replicasets",
                                   "replicasets/scale", "replicationcontrollers/scale",
                                   "networkpolicies")),
        rule(WRITE, "policy", "poddisruptionbudgets"),
        rule(WRITE, "networking.k8s.io", ("networkpolicies", "ingresses")),
        rule(WRITE, "coordination.k8s.io", "leases"),
    ]


def _node_rules() -> list[Obj]:
    return [
        rule("create", "authentication.k8s.io", "tokenreviews"),
        rule("create", "authorization.k8s.io", ("subjectaccessreviews",
                                                "localsubjectaccessreviews")),
        rule(READ, "", "services"),
        rule(("create", "get", "list", "watch"), "", "nodes"),
        rule(("update", "patch"), "", "nodes/status"),
        rule(("update", "patch"), "", "nodes"),
        rule(("create", "update", "patch"), "", "events"),
        rule(READ, "", "pods"),
        rule(("create", "delete"), "", "pods"),
        rule(("update", "patch"), "", "pods/status"),
        rule("create", "", "pods/eviction"),
        rule(READ, "", ("secrets", "configmaps")),
        rule("get", "", ("persistentvolumeclaims", "persistentvolumes")),
        rule("get", "", "endpoints"),
        rule(("create", "get", "list", "watch"), "certificates.k8s.io",
             "certificatesigningrequests"),
        rule(("get", "create", "update", "patch", "delete"), "coordination.k8s.io", "leases"),
        rule("get", "storage.k8s.io", "volumeattachments"),
        rule("create", "", "serviceaccounts/token"),
        rule(("get", "update", "patch"), "", "persistentvolumeclaims/status"),
        rule(("get", "watch", "list"), "storage.k8s.io", "csidrivers"),
        rule(("get", "create", "update", "patch", "delete"), "storage.k8s.io", "csinodes"),
        rule(READ, "node.k8s.io", "runtimeclasses"),
    ]


NODE_ROUTES_ROLE = "system:kubelite-node-routes"


def node_rules() -> list[Obj]:
    """system:node's rules: upstream binds that role to nobody, and the Node
    authorizer grants them to every node itself (bootstrappolicy.NodeRules)."""
    return _node_rules()


def _approver(name: str, signer: str) -> Obj:
    return cluster_role(f"system:certificates.k8s.io:{name}", [
        rule("approve", "certificates.k8s.io", "signers", names=signer)])


def cluster_roles() -> list[Obj]:
    return [
        cluster_role("cluster-admin", [rule("*", "*", "*"), rule("*", urls="*")]),
        cluster_role("system:discovery", [rule("get", urls=(
            *_HEALTH, "/version", "/version/", "/openapi", "/openapi/*",
            "/api", "/api/*", "/apis", "/apis/*"))]),
        cluster_role("system:monitoring", [rule("get", urls=(
            "/metrics", "/metrics/slis", *_HEALTH, "/livez/*", "/readyz/*", "/healthz/*"))]),
        cluster_role("system:basic-user", [
            rule("create", "authorization.k8s.io", ("selfsubjectaccessreviews",
                                                    "selfsubjectrulesreviews")),
            rule("create", "authentication.k8s.io", "selfsubjectreviews")]),
        cluster_role("system:public-info-viewer", [rule("get", urls=(
            *_HEALTH, "/version", "/version/"))]),
        cluster_role("admin", [], aggregates="admin"),
        cluster_role("edit", [], labels={aggregate_label("admin"): "true"}, aggregates="edit"),
        cluster_role("view", [], labels={aggregate_label("edit"): "true"}, aggregates="view"),
        cluster_role("system:aggregate-to-admin", [
            rule("create", "authorization.k8s.io", "localsubjectaccessreviews"),
            rule(READ_WRITE, RBAC_GROUP, ("roles", "rolebindings"))],
            labels={aggregate_label("admin"): "true"}),
        cluster_role("system:aggregate-to-edit", _edit_rules(),
                     labels={aggregate_label("edit"): "true"}),
        cluster_role("system:aggregate-to-view", _view_rules(),
                     labels={aggregate_label("view"): "true"}),
        cluster_role("system:heapster", [
            rule(READ, "", ("events", "namespaces", "nodes", "pods")),
            rule(READ, "extensions", "deployments")]),
        cluster_role("system:node", _node_rules()),
        # Not upstream's: what a node's host-gw routes read (cli/node.py's route loop),
        # as k3s gives its flannel system:k3s-controller. Every Node's podCIDR and
        # InternalIP; list and watch only, so a node still cannot get another by name.
        cluster_role(NODE_ROUTES_ROLE, [rule(("list", "watch"), "", "nodes")]),
        cluster_role("system:node-problem-detector", [
            rule("get", "", "nodes"), rule("patch", "", "nodes/status"), events_rule()]),
        cluster_role("system:kubelet-api-admin", [
            rule(READ, "", "nodes"), rule("proxy", "", "nodes"),
            rule("*", "", ("nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log"))]),
        cluster_role("system:node-bootstrapper", [
            rule(("create", "get", "list", "watch"), "certificates.k8s.io",
                 "certificatesigningrequests")]),
        cluster_role("system:auth-delegator", [
            rule("create", "authentication.k8s.io", "tokenreviews"),
            rule("create", "authorization.k8s.io", "subjectaccessreviews")]),
        cluster_role("system:kube-aggregator", [rule(READ, "", ("services", "endpoints"))]),
        cluster_role("system:kube-controller-manager", [
            events_rule(),
            rule("create", "coordination.k8s.io", "leases"),
            rule(("get", "update"), "coordination.k8s.io", "leases",
                 names="kube-controller-manager"),
            rule("create", "", "endpoints"),
            rule(("get", "update"), "", "endpoints", names="kube-controller-manager"),
            rule("create", "", ("secrets", "serviceaccounts")),
            rule("delete", "", "secrets"),
            rule("get", "", ("namespaces", "secrets", "serviceaccounts", "configmaps")),
            rule("update", "", ("secrets", "serviceaccounts")),
            rule("create", "authentication.k8s.io", "tokenreviews"),
            rule("create", "authorization.k8s.io", "subjectaccessreviews"),
            rule(("list", "watch"), "*", "*"),
            rule("create", "", "serviceaccounts/token")]),
        cluster_role("system:kube-dns", [rule(("list", "watch"), "", ("endpoints", "services"))]),
        cluster_role("system:persistent-volume-provisioner", [
            rule(("get", "list", "watch", "create", "delete"), "", "persistentvolumes"),
            rule(("get", "list", "watch", "update"), "", "persistentvolumeclaims"),
            rule(READ, "storage.k8s.io", "storageclasses"),
            rule("watch", "", "events"),
            events_rule()]),
        cluster_role("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [
            rule("create", "certificates.k8s.io", "certificatesigningrequests/nodeclient")]),
        cluster_role("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [
            rule("create", "certificates.k8s.io",
                 "certificatesigningrequests/selfnodeclient")]),
        cluster_role("system:volume-scheduler", [
            rule(READ_UPDATE, "", "persistentvolumes"),
            rule(READ, "storage.k8s.io", "storageclasses"),
            rule(READ_UPDATE, "", "persistentvolumeclaims")]),
        _approver("legacy-unknown-approver", "kubernetes.io/legacy-unknown"),
        _approver("kubelet-serving-approver", "kubernetes.io/kubelet-serving"),
        _approver("kube-apiserver-client-approver", "kubernetes.io/kube-apiserver-client"),
        _approver("kube-apiserver-client-kubelet-approver",
                  "kubernetes.io/kube-apiserver-client-kubelet"),
        cluster_role("system:service-account-issuer-discovery", [rule("get", urls=(
            "/.well-known/openid-configuration", "/.well-known/openid-configuration/",
            "/openid/v1/jwks", "/openid/v1/jwks/"))]),
        cluster_role("system:node-proxier", [
            rule(("list", "watch"), "", ("services", "endpoints")),
            rule(READ, "", "nodes"),
            events_rule(),
            rule(("list", "watch"), "discovery.k8s.io", "endpointslices")]),
        cluster_role("system:kube-scheduler", [
            events_rule(),
            rule("create", "coordination.k8s.io", "leases"),
            rule(("get", "update"), "coordination.k8s.io", "leases", names="kube-scheduler"),
            rule("create", "", "endpoints"),
            rule(("get", "update"), "", "endpoints", names="kube-scheduler"),
            rule(READ, "", "nodes"),
            rule(("get", "list", "watch", "delete"), "", "pods"),
            rule("create", "", ("pods/binding", "bindings")),
            rule(("patch", "update"), "", "pods/status"),
            rule(READ, "", ("services", "replicationcontrollers")),
            rule(READ, ("apps", "extensions"), "replicasets"),
            rule(READ, "apps", "statefulsets"),
            rule(READ, "policy", "poddisruptionbudgets"),
            rule(READ, "", ("persistentvolumeclaims", "persistentvolumes")),
            rule("create", "authentication.k8s.io", "tokenreviews"),
            rule("create", "authorization.k8s.io", "subjectaccessreviews"),
            rule(READ, "storage.k8s.io", "csinodes"),
            rule(READ, "", "namespaces"),
            rule(READ, "storage.k8s.io", "csidrivers"),
            rule(READ, "storage.k8s.io", "csistoragecapacities")]),
    ]


def cluster_role_bindings() -> list[Obj]:
    return [
        cluster_role_binding("cluster-admin", groups("system:masters")),
        cluster_role_binding("system:monitoring", groups("system:monitoring")),
        cluster_role_binding("system:discovery", groups("system:authenticated")),
        cluster_role_binding("system:basic-user", groups("system:authenticated")),
        cluster_role_binding("system:public-info-viewer",
                             groups("system:authenticated", "system:unauthenticated")),
        cluster_role_binding("system:node-proxier", users("system:kube-proxy")),
        cluster_role_binding("system:kube-controller-manager",
                             users("system:kube-controller-manager")),
        cluster_role_binding("system:kube-dns", service_account("kube-system", "kube-dns")),
        cluster_role_binding("system:kube-scheduler", users("system:kube-scheduler")),
        cluster_role_binding("system:volume-scheduler", users("system:kube-scheduler")),
        # No subjects: nodes are authorized by the Node authorizer upstream; the binding
        # exists so it can be edited, as upstream keeps it.
        cluster_role_binding("system:node", []),
        cluster_role_binding(NODE_ROUTES_ROLE, groups("system:nodes")),
        cluster_role_binding("system:service-account-issuer-discovery",
                             groups("system:serviceaccounts")),
        # Not upstream's bootstrap policy but what a cluster installer adds (k3s's
        # kube-apiserver-kubelet-admin, kubeadm's certificate group): the API server's
        # kubelet client certificate may use every kubelet API (logs, exec, stats).
        cluster_role_binding("kube-apiserver-kubelet-admin",
                             users("kube-apiserver-kubelet-client"),
                             "system:kubelet-api-admin"),
    ]


def namespace_roles() -> list[Obj]:
    """namespace_policy.go: what the control plane reads in kube-system."""
    return [
        role("kube-system", "extension-apiserver-authentication-reader", [
            rule(READ, "", "configmaps", names="extension-apiserver-authentication")]),
        role("kube-system", "system::leader-locking-kube-controller-manager", [
            rule("watch", "", "configmaps"),
            rule(("get", "update"), "", "configmaps", names="kube-controller-manager")]),
        role("kube-system", "system::leader-locking-kube-scheduler", [
            rule("watch", "", "configmaps"),
            rule(("get", "update"), "", "configmaps", names="kube-scheduler")]),
    ]


def namespace_role_bindings() -> list[Obj]:
    return [
        role_binding("kube-system", "system::extension-apiserver-authentication-reader",
                     "extension-apiserver-authentication-reader",
                     users("system:kube-controller-manager", "system:kube-scheduler")),
        role_binding("kube-system", "system::leader-locking-kube-controller-manager",
                     "system::leader-locking-kube-controller-manager",
                     service_account("kube-system", "kube-controller-manager")
                     + users("system:kube-controller-manager")),
        role_binding("kube-system", "system::leader-locking-kube-scheduler",
                     "system::leader-locking-kube-scheduler",
                     service_account("kube-system", "kube-scheduler")
                     + users("system:kube-scheduler")),
    ]
