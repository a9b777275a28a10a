"""Core (v1) kinds other than pods, events and volumes: upstream's printService,
printNode, printEndpoints, printReplicationController and the small ones.

Fields the upstream decoder would have defaulted (a Service's type, a port's protocol,
a controller's replicas) fall back to those defaults, so an object that has not been
through defaulting still prints as it would upstream.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.printers.age import since
from kubelite.apiserver.printers.cells import (
    NONE,
    format_labels,
    get,
    int_of,
    meta,
    ports_host,
    quantity,
)
from kubelite.apiserver.printers.printer import (
    AGE,
    NAME,
    Obj,
    Printer,
    column,
    containers_column,
    replica_cells,
    images_column,
    name_cells_age,
    selector_column,
)

_LOAD_BALANCER_WIDTH = 16  # only applies to non-wide output, which the server never makes


REPLICATION_CONTROLLER = Printer(
    columns=(
        NAME,
        column("Desired", "integer", "Number of desired pods."),
        column("Current", "integer", "Number of pods the controller has created."),
        column("Ready", "integer", "Number of ready pods."),
        AGE,
        containers_column(),
        images_column(),
        selector_column("Label query over pods that should match the replicas count."),
    ),
    cells=replica_cells(format_labels),
)


def load_balancer_status(status: Obj | None) -> str:
    """loadBalancerStatusStringer (wide): sorted, de-duplicated IPs or hostnames."""
    found: set[str] = set()
    for ingress in get(status, "ingress") or ():
        value = ingress.get("ip") or ingress.get("hostname")
        if value:
            found.add(value)
    return ",".join(sorted(found))


def _external_ip(spec: Obj, status: Obj) -> str:
    """getServiceExternalIP."""
    type_ = spec.get("type") or "ClusterIP"
    external_ips = spec.get("externalIPs") or []
    if type_ in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) if external_ips else NONE
    if type_ == "LoadBalancer":
        lb_ips = load_balancer_status(status.get("loadBalancer"))
        if external_ips:
            return ",".join((lb_ips.split(",") if lb_ips else []) + list(external_ips))
        return lb_ips or "<pending>"
    if type_ == "ExternalName":
        return spec.get("externalName") or ""
    return "<unknown>"


def _port_string(ports: list[Obj]) -> str:
    """makePortString: "80/TCP", "80:30080/TCP"."""
    pieces = []
    for port in ports:
        protocol = port.get("protocol") or "TCP"
        node_port = int_of(port.get("nodePort"))
        if node_port > 0:
            pieces.append(f"{int_of(port.get('port'))}:{node_port}/{protocol}")
        else:
            pieces.append(f"{int_of(port.get('port'))}/{protocol}")
    return ",".join(pieces)


def service_cells(obj: Obj, now: int) -> list[Any]:
    m, spec, status = meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    # v1 clusterIP is authoritative over clusterIPs[0] (upstream's v1 conversion).
    cluster_ips = spec.get("clusterIPs") or ()
    internal_ip = spec.get("clusterIP") or (cluster_ips[0] if cluster_ips else "") or NONE
    return [
        m.get("name") or "",
        spec.get("type") or "ClusterIP",
        internal_ip,
        _external_ip(spec, status),
        _port_string(spec.get("ports") or []) or NONE,
        since(m.get("creationTimestamp"), now),
        format_labels(spec.get("selector")),
    ]


SERVICE = Printer(
    columns=(
        NAME,
        column("Type", description="How the Service is exposed."),
        column("Cluster-IP", description="The IP address of the service."),
        column("External-IP", description="IP addresses for which nodes also accept traffic for this service."),
        column("Port(s)", description="The ports exposed by this service."),
        AGE,
        selector_column("Route service traffic to pods with label keys and values matching this selector."),
    ),
    cells=service_cells,
)


def format_endpoints(subsets: list[Obj]) -> str:
    """formatEndpoints(endpoints, nil): up to three "ip:port", then "+ N more..."."""
    if not subsets:
        return NONE
    shown: list[str] = []
    limit = 3
    more = False
    count = 0
    for subset in subsets:
        addresses = subset.get("addresses") or ()
        ports = subset.get("ports") or ()
        if not ports:
            # Headless services may have no ports.
            count += len(addresses)
            for address in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(address.get("ip") or "")
            continue
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(ports_host(address.get("ip") or "", int_of(port.get("port"))))
    text = ",".join(shown)
    if more:
        return f"{text} + {count - limit} more..."
    return text


ENDPOINTS = Printer(
    columns=(NAME, column("Endpoints", description="The set of all endpoints."), AGE),
    cells=name_cells_age(lambda obj: format_endpoints(obj.get("subsets") or [])),
)

_ROLE_PREFIX = "node-role.kubernetes.io/"
_ROLE_LABEL = "kubernetes.io/role"


def node_roles(labels: dict[str, str] | None) -> list[str]:
    """findNodeRoles: from node-role.kubernetes.io/<role> keys and kubernetes.io/role values."""
    roles: set[str] = set()
    for key, value in (labels or {}).items():
        if key.startswith(_ROLE_PREFIX):
            if role := key[len(_ROLE_PREFIX) :]:
                roles.add(role)
        elif key == _ROLE_LABEL and value:
            roles.add(value)
    return sorted(roles)


def _node_address(addresses: list[Obj], type_: str) -> str:
    for address in addresses:
        if address.get("type") == type_:
            return address.get("address") or ""
    return NONE


def node_cells(obj: Obj, now: int) -> list[Any]:
    m, spec, status = meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    ready = None
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Ready":
            ready = condition  # the last one wins, as in upstream's condition map
    states = []
    if ready is not None:
        states.append("Ready" if ready.get("status") == "True" else "NotReady")
    else:
        states.append("Unknown")
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []
    return [
        m.get("name") or "",
        ",".join(states),
        ",".join(node_roles(m.get("labels"))) or NONE,
        since(m.get("creationTimestamp"), now),
        info.get("kubeletVersion") or "",
        _node_address(addresses, "InternalIP"),
        _node_address(addresses, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


NODE = Printer(
    columns=(
        NAME,
        column("Status", description="The status of the node"),
        column("Roles", description="The roles of the node"),
        AGE,
        column("Version", description="Kubelet Version reported by the node."),
        column("Internal-IP", description="List of addresses reachable to the node.", priority=1),
        column("External-IP", description="List of addresses reachable to the node.", priority=1),
        column("OS-Image", description="OS Image reported by the node.", priority=1),
        column("Kernel-Version", description="Kernel Version reported by the node.", priority=1),
        column("Container-Runtime", description="ContainerRuntime Version reported by the node.", priority=1),
    ),
    cells=node_cells,
)


NAMESPACE = Printer(
    columns=(NAME, column("Status", description="The status of the namespace"), AGE),
    cells=name_cells_age(lambda obj: get(obj, "status", "phase") or ""),
)

SECRET = Printer(
    columns=(
        NAME,
        column("Type", description="Used to facilitate programmatic handling of secret data."),
        column("Data", description="The number of keys in the secret's data."),
        AGE,
    ),
    cells=name_cells_age(lambda obj: obj.get("type") or "", lambda obj: len(obj.get("data") or ())),
)

SERVICE_ACCOUNT = Printer(
    columns=(NAME, column("Secrets", description="The secrets of this service account."), AGE),
    cells=name_cells_age(lambda obj: len(obj.get("secrets") or ())),
)

CONFIG_MAP = Printer(
    columns=(NAME, column("Data", description="The number of keys in data and binaryData."), AGE),
    cells=name_cells_age(lambda obj: len(obj.get("data") or ()) + len(obj.get("binaryData") or ())),
)


def resource_quota_cells(obj: Obj, now: int) -> list[Any]:
    m, status = meta(obj), obj.get("status") or {}
    hard = status.get("hard") or {}
    used = status.get("used") or {}
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        pieces = resource.split(".")
        target = limits if len(pieces) > 1 and pieces[0] == "limits" else requests
        target.append(f"{resource}: {quantity(used.get(resource))}/{quantity(hard[resource])}")
    return [m.get("name") or "", ", ".join(requests), ", ".join(limits), since(m.get("creationTimestamp"), now)]


RESOURCE_QUOTA = Printer(
    columns=(
        NAME,
        column(
            "Request",
            description="Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        column(
            "Limit",
            description="Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node.",
        ),
        AGE,
    ),
    cells=resource_quota_cells,
)


def component_status_cells(obj: Obj, now: int) -> list[Any]:
    status, message, error = "Unknown", "", ""
    for condition in obj.get("conditions") or ():
        if condition.get("type") == "Healthy":
            status = "Healthy" if condition.get("status") == "True" else "Unhealthy"
            message = condition.get("message") or ""
            error = condition.get("error") or ""
            break
    return [meta(obj).get("name") or "", status, message, error]


COMPONENT_STATUS = Printer(
    columns=(
        NAME,
        column("Status", description="Status of the component conditions"),
        column("Message", description="Message of the component conditions"),
        column("Error", description="Error of the component conditions"),
    ),
    cells=component_status_cells,
)

PRINTERS = {
    ("", "ReplicationController"): REPLICATION_CONTROLLER,
    ("", "Service"): SERVICE,
    ("", "Endpoints"): ENDPOINTS,
    ("", "Node"): NODE,
    ("", "Namespace"): NAMESPACE,
    ("", "Secret"): SECRET,
    ("", "ServiceAccount"): SERVICE_ACCOUNT,
    ("", "ConfigMap"): CONFIG_MAP,
    ("", "ResourceQuota"): RESOURCE_QUOTA,
    ("", "ComponentStatus"): COMPONENT_STATUS,
}
