"""Which pods are a Service's endpoints and how each one is described: the rules the
EndpointSlice and Endpoints loops share (upstream's staging/src/k8s.io/endpointslice
util and pkg/controller/util/endpoint, over plain dicts).

- A pod counts when it has an IP and is not terminal (Succeeded/Failed); the Endpoints
  loop also leaves out terminating pods unless the Service publishes not-ready addresses.
- Conditions: serving = pod Ready; terminating = being deleted; ready = serving and not
  terminating, or always when the Service sets publishNotReadyAddresses.
- Ports: every Service port resolved against the pod; a named targetPort is the
  containerPort of the container port with that name and protocol (sidecar init
  containers included), a port that does not resolve is left out for that pod.
- hostname: the pod's spec.hostname when its subdomain names the Service.
"""

from __future__ import annotations

from typing import Any

from kubelite.controllers.pods import Obj, is_ready, meta

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
ZONE_LABEL = "topology.kubernetes.io/zone"


def has_selector(service: Obj) -> bool:
    return bool((service.get("spec") or {}).get("selector"))


def is_headless(service: Obj) -> bool:
    return (service.get("spec") or {}).get("clusterIP") == "None"


def publishes_not_ready(service: Obj) -> bool:
    return bool((service.get("spec") or {}).get("publishNotReadyAddresses"))


def is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def pod_ips(pod: Obj) -> list[str]:
    status = pod.get("status") or {}
    ips = [str(entry.get("ip")) for entry in status.get("podIPs") or ()
           if isinstance(entry, dict) and entry.get("ip")]
    if not ips and status.get("podIP"):
        ips = [str(status["podIP"])]
    return ips


def should_be_in_endpoints(pod: Obj, include_terminating: bool) -> bool:
    """Upstream's ShouldPodBeInEndpoints."""
    if is_terminal(pod) or not pod_ips(pod):
        return False
    return include_terminating or not meta(pod).get("deletionTimestamp")


def address_of(pod: Obj, address_type: str) -> str | None:
    """The pod's IP of the family `address_type` (IPv4 or IPv6)."""
    for ip in pod_ips(pod):
        if (":" in ip) == (address_type == "IPv6"):
            return ip
    return None


def conditions(pod: Obj, service: Obj) -> dict[str, bool]:
    serving = is_ready(pod)
    terminating = bool(meta(pod).get("deletionTimestamp"))
    ready = publishes_not_ready(service) or (serving and not terminating)
    return {"ready": ready, "serving": serving, "terminating": terminating}


def hostname_for(pod: Obj, service: Obj) -> str | None:
    spec = pod.get("spec") or {}
    hostname = spec.get("hostname")
    if hostname and spec.get("subdomain") == meta(service).get("name") \
            and meta(pod).get("namespace") == meta(service).get("namespace"):
        return str(hostname)
    return None


def find_port(pod: Obj, service_port: Obj) -> int | None:
    """The pod's port for a Service port (upstream's podutil.FindPort)."""
    target: Any = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    sidecars = [c for c in spec.get("initContainers") or ()
                if isinstance(c, dict) and c.get("restartPolicy") == "Always"]
    for container in [*(spec.get("containers") or ()), *sidecars]:
        for port in (container or {}).get("ports") or ():
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return int(port.get("containerPort") or 0)
    return None


def endpoint_ports(service: Obj, pod: Obj) -> list[Obj]:
    """The EndpointSlice ports of one pod: every Service port that resolves."""
    out = []
    for service_port in (service.get("spec") or {}).get("ports") or ():
        number = find_port(pod, service_port)
        if number is None:
            continue
        port: Obj = {"name": str(service_port.get("name") or ""), "port": number,
                     "protocol": service_port.get("protocol") or "TCP"}
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        out.append(port)
    return out


def service_labels(service: Obj) -> dict[str, str]:
    """The labels an EndpointSlice or Endpoints of the Service carries: the Service's
    own, plus the headless marker."""
    out = {k: v for k, v in (meta(service).get("labels") or {}).items()
           if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL)}
    if is_headless(service):
        out[HEADLESS_LABEL] = ""
    return out
