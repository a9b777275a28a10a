"""Services (pkg/registry/core/service/strategy.go, SetDefaults_Service, ValidateService).

Defaults follow the v1 defaulter (type ClusterIP, sessionAffinity None, port protocol TCP,
targetPort = port, internalTrafficPolicy Cluster, externalTrafficPolicy Cluster for
NodePort/LoadBalancer, allocateLoadBalancerNodePorts for LoadBalancer) plus the IP family
fields the service REST layer fills (SingleStack, families from the allocated IPs,
IPv4 when none yet). Allocating clusterIP and nodePorts is not done here.

On update, an omitted clusterIP/clusterIPs/nodePort is taken from the stored object
before validation, as upstream's patchAllocatedValues does, so a client that PUTs back
its own manifest does not trip `field is immutable`.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.registry.strategy import DefaultStrategy, spec_of
from kubelite.machinery.errors import Cause
from kubelite.machinery.validation import is_dns1123_subdomain

from .causes import duplicate, forbidden, immutable, invalid, not_supported, path, required
from kubelite.machinery.validation import is_dns1123_label
from .names import dns1035_label
from .podvalidation import PROTOCOLS, is_valid_port_name, is_valid_port_num

Obj = dict[str, Any]

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
AFFINITIES = ("ClientIP", "None")


def default_service(svc: Obj) -> None:
    spec = spec_of(svc)
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
        if client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    kind = spec["type"]
    for port in spec.get("ports") or ():
        if not isinstance(port, dict):
            continue
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    externally_accessible = kind in ("NodePort", "LoadBalancer") or bool(spec.get("externalIPs"))
    if externally_accessible and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec["internalTrafficPolicy"] = "Cluster"
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    if kind != "ExternalName":
        if spec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]]
        if not spec.get("ipFamilyPolicy"):
            spec["ipFamilyPolicy"] = "SingleStack"
        if not spec.get("ipFamilies"):
            ips = [ip for ip in spec.get("clusterIPs") or () if ip and ip != "None"]
            spec["ipFamilies"] = ["IPv6" if ":" in ip else "IPv4" for ip in ips] or ["IPv4"]


class ServiceStrategy(DefaultStrategy):
    has_status = True
    initial_status = {"loadBalancer": {}}
    allow_create_on_update = True
    return_deleted_object = True

    def validate_name(self, name: str, prefix: bool = False) -> list[str]:
        # The name becomes a DNS label of its own: <service>.<namespace>.svc.
        return dns1035_label(name, prefix)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        _patch_allocated_values(new, old)
        _drop_type_dependent_fields(new, old)

    def default(self, svc: Obj) -> None:
        default_service(svc)

    def validate(self, svc: Obj) -> list[Cause]:
        return validate_service_spec(svc.get("spec") or {})

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        causes: list[Cause] = []
        if "ExternalName" not in (spec.get("type"), old_spec.get("type")):
            if old_spec.get("clusterIP") and spec.get("clusterIP") != old_spec.get("clusterIP"):
                causes.append(immutable("spec.clusterIP", spec.get("clusterIP", "")))
        return causes

    def selectable_fields(self, svc: Obj) -> dict[str, str]:
        spec = svc.get("spec") or {}
        return {"spec.clusterIP": spec.get("clusterIP") or "", "spec.type": spec.get("type") or ""}


def _patch_allocated_values(new: Obj, old: Obj) -> None:
    spec, old_spec = new.get("spec"), old.get("spec") or {}
    if not isinstance(spec, dict):
        return
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    if not spec.get("clusterIP") and old_spec.get("clusterIP"):
        spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        old_ports = {(p.get("port"), p.get("protocol") or "TCP"): p.get("nodePort")
                     for p in old_spec.get("ports") or () if isinstance(p, dict)}
        for port in spec.get("ports") or ():
            if isinstance(port, dict) and not port.get("nodePort"):
                node_port = old_ports.get((port.get("port"), port.get("protocol") or "TCP"))
                if node_port:
                    port["nodePort"] = node_port
        if not spec.get("healthCheckNodePort") and old_spec.get("healthCheckNodePort"):
            if spec.get("externalTrafficPolicy") == "Local":
                spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]


def _drop_type_dependent_fields(new: Obj, old: Obj) -> None:
    """A Service switched to a type that has no use for NodePorts loses the ones it
    carried over unchanged (dropTypeDependentFields upstream); a nodePort the user
    changed in the same request stays, so validation can reject it."""
    spec, old_spec = new.get("spec"), old.get("spec") or {}
    if not isinstance(spec, dict) or spec.get("type") in ("NodePort", "LoadBalancer"):
        return
    if old_spec.get("type") not in ("NodePort", "LoadBalancer"):
        return
    old_ports = {(p.get("port"), p.get("protocol") or "TCP"): p.get("nodePort")
                 for p in old_spec.get("ports") or () if isinstance(p, dict)}
    for port in spec.get("ports") or ():
        if isinstance(port, dict) and port.get("nodePort") and port["nodePort"] == \
                old_ports.get((port.get("port"), port.get("protocol") or "TCP")):
            del port["nodePort"]
    if spec.get("healthCheckNodePort") == old_spec.get("healthCheckNodePort"):
        spec.pop("healthCheckNodePort", None)


def validate_service_spec(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    kind = spec.get("type") or ""
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    if not ports and not headless and kind != "ExternalName":
        causes.append(required("spec.ports"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        port = port if isinstance(port, dict) else {}
        base = path("spec", "ports", i)
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            causes.append(required(path(base, "name")))
        elif name:
            causes.extend(invalid(path(base, "name"), name, m) for m in is_dns1123_label(name))
            if name in names:
                causes.append(duplicate(path(base, "name"), name))
            names.add(name)
        causes.extend(invalid(path(base, "port"), port.get("port"), m)
                      for m in is_valid_port_num(port.get("port")))
        protocol = port.get("protocol")
        if not protocol:
            causes.append(required(path(base, "protocol")))
        elif protocol not in PROTOCOLS:
            causes.append(not_supported(path(base, "protocol"), protocol, PROTOCOLS))
        target = port.get("targetPort")
        if isinstance(target, str):
            causes.extend(invalid(path(base, "targetPort"), target, m) for m in is_valid_port_name(target))
        elif target is not None:
            causes.extend(invalid(path(base, "targetPort"), target, m) for m in is_valid_port_num(target))
        if kind == "ClusterIP" and port.get("nodePort"):
            causes.append(forbidden(path(base, "nodePort"), "may not be used when `type` is 'ClusterIP'"))
    if kind not in SERVICE_TYPES:
        causes.append(not_supported("spec.type", kind, SERVICE_TYPES))
    affinity = spec.get("sessionAffinity") or ""
    if affinity not in AFFINITIES:
        causes.append(not_supported("spec.sessionAffinity", affinity, AFFINITIES))
    if kind == "ExternalName":
        external = spec.get("externalName") or ""
        if not external:
            causes.append(required("spec.externalName"))
        else:
            causes.extend(invalid("spec.externalName", external, m)
                          for m in is_dns1123_subdomain(external.rstrip(".")))
    return causes
