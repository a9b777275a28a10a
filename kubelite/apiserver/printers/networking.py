"""networking.k8s.io and discovery.k8s.io: upstream's printIngress, printIngressClass,
printNetworkPolicy, printEndpointSlice, printServiceCIDR and printIPAddress.

Lists in a cell stop after three entries and say how many more there are
("a,b,c + 2 more..."), as upstream does.
"""

from __future__ import annotations

from kubelite.apiserver.printers.cells import NONE, format_label_selector, get, list_with_more
from kubelite.apiserver.printers.core import load_balancer_status
from kubelite.apiserver.printers.printer import AGE, NAME, Obj, Printer, column, name_cells_age

_MAX = 3


def format_hosts(rules: list[Obj]) -> str:
    """formatHosts: up to three hosts; "+ N more..." counts rules, hostless ones too."""
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == _MAX:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    text = ",".join(hosts)
    if more:
        return f"{text} + {len(rules) - _MAX} more..."
    return text


def _ingress_class(obj: Obj) -> str:
    name = get(obj, "spec", "ingressClassName")
    return NONE if name is None else name


INGRESS = Printer(
    columns=(
        NAME,
        column("Class", description="The IngressClass that configures this ingress."),
        column("Hosts", description="Hosts that incoming requests are matched against before the ingress rule"),
        column("Address", description="Address is a list containing ingress points for the load-balancer"),
        column("Ports", description="Ports of TLS configurations that open"),
        AGE,
    ),
    cells=name_cells_age(
        _ingress_class,
        lambda obj: format_hosts(get(obj, "spec", "rules") or []),
        lambda obj: load_balancer_status(get(obj, "status", "loadBalancer")),
        lambda obj: "80, 443" if get(obj, "spec", "tls") else "80",
    ),
)


def _parameters(obj: Obj) -> str:
    params = get(obj, "spec", "parameters")
    if params is None:
        return NONE
    text = params.get("kind") or ""
    if params.get("apiGroup") is not None:
        text += "." + params["apiGroup"]
    return text + "/" + (params.get("name") or "")


INGRESS_CLASS = Printer(
    columns=(
        NAME,
        column("Controller", description="Controller that is responsible for handling this class"),
        column("Parameters", description="A reference to a resource with additional parameters"),
        AGE,
    ),
    cells=name_cells_age(lambda obj: get(obj, "spec", "controller") or "", _parameters),
)

NETWORK_POLICY = Printer(
    columns=(NAME, column("Pod-Selector", description="Selects the pods to which this policy applies."), AGE),
    cells=name_cells_age(lambda obj: format_label_selector(get(obj, "spec", "podSelector") or {})),
)


def format_discovery_ports(ports: list[Obj]) -> str:
    shown: list[str] = []
    more = False
    for port in ports:
        if len(shown) < _MAX:
            if port.get("port") is not None:
                shown.append(str(port["port"]))
            elif port.get("name") is not None:
                shown.append(port["name"])
            else:
                shown.append("*")
        elif len(shown) == _MAX:
            more = True
    return list_with_more(shown, more, len(ports), _MAX)


def format_discovery_endpoints(endpoints: list[Obj]) -> str:
    shown: list[str] = []
    more = False
    count = 0
    for endpoint in endpoints:
        for address in endpoint.get("addresses") or ():
            if len(shown) < _MAX:
                shown.append(address)
            elif len(shown) == _MAX:
                more = True
            count += 1
    return list_with_more(shown, more, count, _MAX)


ENDPOINT_SLICE = Printer(
    columns=(
        NAME,
        column("AddressType", description="The type of address carried by this EndpointSlice."),
        column("Ports", description="The network ports exposed by each endpoint in this slice."),
        column("Endpoints", description="A list of unique endpoints in this slice."),
        AGE,
    ),
    cells=name_cells_age(
        lambda obj: obj.get("addressType") or "",
        lambda obj: format_discovery_ports(obj.get("ports") or []),
        lambda obj: format_discovery_endpoints(obj.get("endpoints") or []),
    ),
)

SERVICE_CIDR = Printer(
    columns=(NAME, column("CIDRs", description="The IP ranges in CIDR notation."), AGE),
    cells=name_cells_age(lambda obj: ",".join(get(obj, "spec", "cidrs") or ())),
)


def _parent_ref(obj: Obj) -> str:
    ref = get(obj, "spec", "parentRef")
    if ref is None:
        return NONE
    group, resource = ref.get("group") or "", ref.get("resource") or ""
    text = (f"{resource}.{group}" if group else resource).lower()
    if ref.get("namespace"):
        text += "/" + ref["namespace"]
    return text + "/" + (ref.get("name") or "")


# Upstream declares no Age column here yet appends an age cell; kubectl ignores the
# extra cell, and the Table carries it all the same.
IP_ADDRESS = Printer(
    columns=(NAME, column("ParentRef", description="The object this IP address is assigned to.")),
    cells=name_cells_age(_parent_ref),
)

PRINTERS: dict[tuple[str, str], Printer] = {
    ("networking.k8s.io", "Ingress"): INGRESS,
    ("networking.k8s.io", "IngressClass"): INGRESS_CLASS,
    ("networking.k8s.io", "NetworkPolicy"): NETWORK_POLICY,
    ("networking.k8s.io", "ServiceCIDR"): SERVICE_CIDR,
    ("networking.k8s.io", "IPAddress"): IP_ADDRESS,
    ("discovery.k8s.io", "EndpointSlice"): ENDPOINT_SLICE,
}
