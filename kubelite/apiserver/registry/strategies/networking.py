"""Ingresses, IngressClasses and NetworkPolicies (networking.k8s.io/v1).

Ingress paths need a pathType (and an absolute path for Exact/Prefix) and a backend;
NetworkPolicy defaults its policyTypes from which rule lists it has and its ports'
protocol to TCP. Ingresses and NetworkPolicies track generation upstream.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.registry.strategy import DefaultStrategy, spec_of
from kubelite.machinery.errors import Cause

from .causes import invalid, not_supported, path, required

Obj = dict[str, Any]
PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")


class IngressStrategy(DefaultStrategy):
    has_status = True
    tracks_generation = True
    initial_status = {"loadBalancer": {}}

    def validate(self, ingress: Obj) -> list[Cause]:
        spec = ingress.get("spec") or {}
        causes: list[Cause] = []
        if not spec.get("rules") and not spec.get("defaultBackend"):
            causes.append(invalid("spec.rules", spec.get("rules") or [],
                                  "either `defaultBackend` or `rules` must be specified"))
        for i, rule in enumerate(spec.get("rules") or []):
            for j, item in enumerate(((rule or {}).get("http") or {}).get("paths") or []):
                base = path("spec", "rules", i, "http", "paths", j)
                causes += _validate_path(item or {}, base)
        return causes


def _validate_path(item: Obj, base: str) -> list[Cause]:
    causes: list[Cause] = []
    path_type = item.get("pathType")
    value = item.get("path") or ""
    if not path_type:
        causes.append(required(path(base, "pathType"), "pathType must be specified"))
    elif path_type not in PATH_TYPES:
        causes.append(not_supported(path(base, "pathType"), path_type, PATH_TYPES))
    elif path_type in ("Exact", "Prefix") and not value.startswith("/"):
        causes.append(invalid(path(base, "path"), value, "must be an absolute path"))
    backend = item.get("backend") or {}
    if not backend.get("service") and not backend.get("resource"):
        causes.append(invalid(path(base, "backend"), backend, "one backend must be specified"))
    service = backend.get("service")
    if isinstance(service, dict):
        port = service.get("port") or {}
        if not port.get("name") and not port.get("number"):
            causes.append(required(path(base, "backend", "service", "port"),
                                   "port name or number is required"))
    return causes


class NetworkPolicyStrategy(DefaultStrategy):
    tracks_generation = True

    def default(self, policy: Obj) -> None:
        spec = spec_of(policy)
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or ():
                for port in (rule or {}).get("ports") or ():
                    if isinstance(port, dict) and not port.get("protocol"):
                        port["protocol"] = "TCP"
        if not spec.get("policyTypes"):
            types = ["Ingress"]
            if spec.get("egress"):
                types.append("Egress")
            spec["policyTypes"] = types
