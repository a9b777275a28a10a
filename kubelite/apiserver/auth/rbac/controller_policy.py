"""The controllers' roles, as data (upstream's bootstrappolicy/controller_policy.go).

Each control loop kubelite runs has the ClusterRole `system:controller:<account>`,
bound by the ClusterRoleBinding of the same name to the ServiceAccount
`kube-system/<account>`: the identity upstream's kube-controller-manager gives each
controller under `--use-service-account-credentials`.
"""

from __future__ import annotations

from kubelite.apiserver.auth.rbac.policy import (
    READ,
    Obj,
    cluster_role,
    cluster_role_binding,
    events_rule,
    rule,
    service_account,
)

PREFIX = "system:controller:"
_CRUD = ("get", "list", "watch", "create", "update", "patch", "delete")


def _controller_rules() -> dict[str, list[Obj]]:
    return {
        "clusterrole-aggregation-controller": [
            # escalate: the aggregated rules are ones it does not hold itself
            rule(("escalate", "get", "list", "watch", "update", "patch"),
                 "rbac.authorization.k8s.io", "clusterroles")],
        "cronjob-controller": [
            rule(("get", "list", "watch", "update"), "batch", "cronjobs"),
            rule(("get", "list", "watch", "create", "update", "delete", "patch"), "batch",
                 "jobs"),
            rule("update", "batch", "cronjobs/status"),
            rule("update", "batch", "cronjobs/finalizers"),
            rule(("list", "delete"), "", "pods"),
            events_rule()],
        "daemon-set-controller": [
            rule(READ, ("extensions", "apps"), "daemonsets"),
            rule("update", ("extensions", "apps"), "daemonsets/status"),
            rule("update", ("extensions", "apps"), "daemonsets/finalizers"),
            rule(("list", "watch"), "", "nodes"),
            rule(("list", "watch", "create", "delete", "patch"), "", "pods"),
            rule("create", "", "pods/binding"),
            rule(("get", "list", "watch", "create", "delete", "update", "patch"), "apps",
                 "controllerrevisions"),
            events_rule()],
        "deployment-controller": [
            rule(("get", "list", "watch", "update"), ("extensions", "apps"), "deployments"),
            rule("update", ("extensions", "apps"), "deployments/status"),
            rule("update", ("extensions", "apps"), "deployments/finalizers"),
            rule(_CRUD, ("extensions", "apps"), "replicasets"),
            rule(("get", "list", "watch", "update"), "", "pods"),
            events_rule()],
        "disruption-controller": [
            rule(READ, ("extensions", "apps"), "deployments"),
            rule(READ, ("extensions", "apps"), "replicasets"),
            rule(READ, "", "replicationcontrollers"),
            rule(READ, "policy", "poddisruptionbudgets"),
            rule(READ, "apps", "statefulsets"),
            rule("update", "policy", "poddisruptionbudgets/status"),
            rule("get", "*", "*/scale"),
            rule(("patch", "update"), "", "pods/status"),
            events_rule()],
        "endpoint-controller": [
            rule(READ, "", ("services", "pods")),
            rule(("get", "list", "create", "update", "delete"), "", "endpoints"),
            rule("create", "", "endpoints/restricted"),
            events_rule()],
        "endpointslice-controller": [
            rule(READ, "", ("services", "pods", "nodes")),
            rule("update", "", "services/finalizers"),
            rule(("get", "list", "create", "update", "delete"), "discovery.k8s.io",
                 "endpointslices"),
            events_rule()],
        "endpointslicemirroring-controller": [
            rule(READ, "", ("services", "endpoints")),
            rule("update", "", ("services/finalizers", "endpoints/finalizers")),
            rule(("get", "list", "create", "update", "delete"), "discovery.k8s.io",
                 "endpointslices"),
            events_rule()],
        "generic-garbage-collector": [
            rule(("get", "list", "watch", "patch", "update", "delete"), "*", "*")],
        "horizontal-pod-autoscaler": [
            rule(READ, "autoscaling", "horizontalpodautoscalers"),
            rule("update", "autoscaling", "horizontalpodautoscalers/status"),
            rule(("get", "update"), "*", "*/scale"),
            rule("list", "", "pods"),
            rule("list", "metrics.k8s.io", "pods"),
            rule(READ, "custom.metrics.k8s.io", "*"),
            rule(("get", "list"), "external.metrics.k8s.io", "*"),
            events_rule()],
        "job-controller": [
            rule(("get", "list", "watch", "update", "patch"), "batch", "jobs"),
            rule("update", "batch", "jobs/status"),
            rule("update", "batch", "jobs/finalizers"),
            rule(("list", "watch", "create", "delete", "patch"), "", "pods"),
            events_rule()],
        "namespace-controller": [
            rule(("get", "list", "watch", "delete"), "", "namespaces"),
            rule("update", "", ("namespaces/finalize", "namespaces/status")),
            rule(("get", "list", "delete", "deletecollection"), "*", "*")],
        "node-controller": [
            rule(("get", "list", "update", "delete", "patch"), "", "nodes"),
            rule(("patch", "update"), "", "nodes/status"),
            rule(("patch", "update"), "", "pods/status"),
            rule(("list", "delete"), "", "pods"),
            events_rule()],
        "persistent-volume-binder": [
            rule(("get", "list", "watch", "update", "create", "delete"), "",
                 "persistentvolumes"),
            rule("update", "", "persistentvolumes/status"),
            rule(("get", "list", "watch", "update"), "", "persistentvolumeclaims"),
            rule("update", "", "persistentvolumeclaims/status"),
            rule(("list", "watch", "get", "create", "delete"), "", "pods"),
            rule(("get", "create", "delete"), "", ("endpoints", "services")),
            rule("get", "", "secrets"),
            rule(READ, "storage.k8s.io", "storageclasses"),
            events_rule()],
        "pod-garbage-collector": [
            rule(("list", "watch", "delete"), "", "pods"),
            rule(("get", "list"), "", "nodes"),
            rule("patch", "", "pods/status")],
        "replicaset-controller": [
            rule(("get", "list", "watch", "update"), ("apps", "extensions"), "replicasets"),
            rule("update", ("apps", "extensions"), "replicasets/status"),
            rule("update", ("apps", "extensions"), "replicasets/finalizers"),
            rule(("list", "watch", "patch", "create", "delete"), "", "pods"),
            events_rule()],
        "replication-controller": [
            rule(("get", "list", "watch", "update"), "", "replicationcontrollers"),
            rule("update", "", "replicationcontrollers/status"),
            rule("update", "", "replicationcontrollers/finalizers"),
            rule(("list", "watch", "patch", "create", "delete"), "", "pods"),
            events_rule()],
        "resourcequota-controller": [
            rule(("list", "watch"), "*", "*"),
            rule("update", "", "resourcequotas/status"),
            events_rule()],
        "root-ca-cert-publisher": [
            rule(("create", "update"), "", "configmaps"),
            events_rule()],
        "service-account-controller": [
            rule("create", "", "serviceaccounts"),
            events_rule()],
        "statefulset-controller": [
            rule(("list", "watch"), "", "pods"),
            rule(READ, "apps", "statefulsets"),
            rule(("get", "create", "delete", "update", "patch"), "", "pods"),
            rule("update", "apps", "statefulsets/status"),
            rule("update", "apps", "statefulsets/finalizers"),
            rule(_CRUD, "apps", "controllerrevisions"),
            rule(("get", "create"), "", "persistentvolumeclaims"),
            rule(("update", "patch"), "", "persistentvolumeclaims"),
            events_rule()],
        "taint-eviction-controller": [
            rule(("patch", "update"), "", "pods/status"),
            rule(("list", "get", "watch", "delete"), "", "pods"),
            events_rule()],
        "ttl-after-finished-controller": [
            rule(("get", "list", "watch", "delete"), "batch", "jobs"),
            events_rule()],
    }


def controller_roles() -> list[Obj]:
    return [cluster_role(PREFIX + account, rules)
            for account, rules in _controller_rules().items()]


def controller_role_bindings() -> list[Obj]:
    return [cluster_role_binding(PREFIX + account, service_account("kube-system", account))
            for account in _controller_rules()]
