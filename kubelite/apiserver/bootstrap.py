"""What exists from a cluster's first start: the system namespaces and the
`kubernetes` Service (pkg/controlplane/controller upstream). Idempotent: a restart
finds them and writes nothing."""

from __future__ import annotations

import logging

from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.machinery import errors

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_OPTS = WriteOptions(field_manager="kube-apiserver")


async def bootstrap(registry: Registry, host: str, port: int) -> None:
    namespaces = registry.store_for("", "namespaces")
    for name in SYSTEM_NAMESPACES:
        try:
            await namespaces.create("", {"apiVersion": "v1", "kind": "Namespace",
                                         "metadata": {"name": name}}, _OPTS)
        except errors.AlreadyExists:
            pass
    services = registry.store_for("", "services")
    try:
        await services.create("default", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "sessionAffinity": "None",
                     "clusterIP": registry.services.kubernetes_service_ip,
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                                "targetPort": port}]},
        }, _OPTS)
    except errors.AlreadyExists:
        pass
