"""The environment variables a pod gets for Services (pkg/kubelet/envvars/envvars.go,
kubelet_pods.go getServiceEnvVarMap): docker-link style variables for every Service of
the pod's namespace with a cluster IP (unless the pod sets enableServiceLinks: false),
and always for `kubernetes` in `default` (a Service of that name in the pod's own
namespace takes its place when links are on).

For a Service `redis-primary` with cluster IP 10.43.0.11 and port 6379/TCP named `db`:
REDIS_PRIMARY_SERVICE_HOST=10.43.0.11, REDIS_PRIMARY_SERVICE_PORT=6379,
REDIS_PRIMARY_SERVICE_PORT_DB=6379, REDIS_PRIMARY_PORT=tcp://10.43.0.11:6379,
REDIS_PRIMARY_PORT_6379_TCP=tcp://10.43.0.11:6379, ..._TCP_PROTO=tcp,
..._TCP_PORT=6379, ..._TCP_ADDR=10.43.0.11.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]

MASTER_NAMESPACE = "default"
MASTER_SERVICES = ("kubernetes",)


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def _ip_set(service: Obj) -> bool:
    ip = (service.get("spec") or {}).get("clusterIP") or ""
    return ip not in ("", "None")


def services_for_pod(pod: Obj, services: Iterable[Obj]) -> list[Obj]:
    """The Services whose variables the pod gets, by name (getServiceEnvVarMap)."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    links = (pod.get("spec") or {}).get("enableServiceLinks") is not False
    master: dict[str, Obj] = {}
    chosen: dict[str, Obj] = {}
    for service in services:
        meta = service.get("metadata") or {}
        name, ns = meta.get("name") or "", meta.get("namespace") or ""
        if not _ip_set(service):
            continue
        if ns == MASTER_NAMESPACE and name in MASTER_SERVICES:
            master[name] = service
        elif ns == namespace and links:
            chosen[name] = service
    chosen = {**master, **chosen}
    return [chosen[name] for name in sorted(chosen)]


def service_env(services: Iterable[Obj]) -> dict[str, str]:
    env: dict[str, str] = {}
    for service in services:
        name = _env_name(service["metadata"]["name"])
        spec = service.get("spec") or {}
        ip = spec["clusterIP"]
        ports = [p for p in spec.get("ports") or () if isinstance(p, dict)]
        env[f"{name}_SERVICE_HOST"] = ip
        if not ports:
            continue
        env[f"{name}_SERVICE_PORT"] = str(ports[0].get("port"))
        for port in ports:
            if port.get("name"):
                env[f"{name}_SERVICE_PORT_{_env_name(port['name'])}"] = str(port.get("port"))
        for index, port in enumerate(ports):
            protocol = str(port.get("protocol") or "TCP")
            prefix = f"{name}_PORT_{port.get('port')}_{protocol.upper()}"
            url = f"{protocol.lower()}://{ip}:{port.get('port')}"
            if index == 0:
                env[f"{name}_PORT"] = url
            env[prefix] = url
            env[f"{prefix}_PROTO"] = protocol.lower()
            env[f"{prefix}_PORT"] = str(port.get("port"))
            env[f"{prefix}_ADDR"] = ip
    return env
