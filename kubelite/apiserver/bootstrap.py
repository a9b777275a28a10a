"""What exists from a cluster's first start: the system namespaces, the `kubernetes`
Service with its endpoints, the system PriorityClasses, the default RBAC policy
(pkg/controlplane/controller upstream; the policy is reconciled on every start by
auth/rbac/reconcile.py, as storage_rbac.go does) and, as k3s ships it,
the default `local-path` StorageClass. Idempotent: a restart
finds them and writes nothing, and never overwrites what a user changed."""

from __future__ import annotations

import logging
from typing import Any

from kubelite.apiserver import bootstrap_objects
from kubelite.apiserver.auth.rbac.reconcile import reconcile_policy
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.machinery import errors

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_OPTS = WriteOptions(field_manager="kube-apiserver")


async def _ensure(registry: Registry, group: str, plural: str, obj: dict[str, Any],
                  namespace: str = "") -> None:
    store = registry.store_for(group, plural)
    if registry.cache.get(store.key(namespace, obj["metadata"]["name"])) is not None:
        return
    try:
        await store.create(namespace, obj, _OPTS)
    except errors.AlreadyExists:
        pass


async def bootstrap(registry: Registry, host: str, port: int) -> None:
    for name in SYSTEM_NAMESPACES:
        await _ensure(registry, "", "namespaces",
                      {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    await _ensure(registry, "", "services", {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "sessionAffinity": "None",
                 "clusterIP": registry.services.kubernetes_service_ip,
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                            "targetPort": port}]},
    }, "default")
    endpoints, endpoint_slice = bootstrap_objects.kubernetes_endpoints(host, port)
    await _ensure(registry, "", "endpoints", endpoints, "default")
    await _ensure(registry, "discovery.k8s.io", "endpointslices", endpoint_slice, "default")
    for priority_class in bootstrap_objects.priority_classes():
        await _ensure(registry, "scheduling.k8s.io", "priorityclasses", priority_class)
    await reconcile_policy(registry, _OPTS)
    await _ensure(registry, "storage.k8s.io", "storageclasses", bootstrap_objects.local_storage_class())
