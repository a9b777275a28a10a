"""What the EndpointSlice mirroring loop makes of one custom core/v1 Endpoints (upstream's
pkg/controller/endpointslicemirroring reconciler and utils, over plain dicts).

- Mirrored: Endpoints without the `endpointslice.kubernetes.io/skip-mirror: "true"`
  label and without a leader-election annotation (old-style locks are Endpoints too).
  Whether its Service exists without a selector is the loop's question.
- Per subset: its ports become EndpointSlice ports (name "" when unnamed, protocol TCP
  when unset); its addresses, ready ones first then not-ready ones, become endpoints
  with conditions.ready true or false, hostname, nodeName and targetRef copied. At
  most MAX_ENDPOINTS_PER_SUBSET valid addresses are taken from one subset; the rest
  are skipped, as are addresses that are not IPs.
- An address's type is its IP's family (an IPv4-mapped IPv6 address counts as IPv4,
  written in its IPv4 form, as Go's net.IP does): one Endpoints may give slices of
  both types.
- Slices carry the Endpoints' labels with kubernetes.io/service-name and
  endpointslice.kubernetes.io/managed-by set to this loop, the Endpoints' annotations
  but last-change-trigger-time and kubectl's last-applied-configuration, and the
  Endpoints as controller owner.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from kubelite.controllers.endpoint_rules import MANAGED_BY_LABEL, SERVICE_NAME_LABEL
from kubelite.controllers.endpoints_subsets import TRIGGER_TIME
from kubelite.controllers.endpointslice_reconcile import SliceOwner
from kubelite.controllers.pods import Obj, meta

MIRRORING_MANAGED_BY = "endpointslicemirroring-controller.k8s.io"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_ENDPOINTS_PER_SUBSET = 1000  # upstream's --mirroring-max-endpoints-per-subset default


def should_mirror(endpoints: Obj) -> bool:
    """Upstream's shouldMirror: not skipped by label, not a leader-election lock."""
    return (meta(endpoints).get("labels") or {}).get(SKIP_MIRROR_LABEL) != "true" \
        and LEADER_ANNOTATION not in (meta(endpoints).get("annotations") or {})


def mirrored_by_us(endpoint_slice: Obj) -> bool:
    return (meta(endpoint_slice).get("labels") or {}).get(MANAGED_BY_LABEL) == MIRRORING_MANAGED_BY


def slice_owner(endpoints: Obj) -> SliceOwner:
    name = str(meta(endpoints)["name"])
    labels = {**(meta(endpoints).get("labels") or {}), SERVICE_NAME_LABEL: name,
              MANAGED_BY_LABEL: MIRRORING_MANAGED_BY}
    annotations = {k: v for k, v in (meta(endpoints).get("annotations") or {}).items()
                   if k not in (TRIGGER_TIME, LAST_APPLIED)}
    owner = {"apiVersion": "v1", "kind": "Endpoints", "name": name,
             "uid": meta(endpoints).get("uid", ""), "controller": True, "blockOwnerDeletion": True}
    return SliceOwner(namespace=str(meta(endpoints).get("namespace") or ""),
                      generate_name=f"{name}-", labels=labels, owner=owner,
                      annotations=annotations)


def slice_ports(subset_ports: list[Obj]) -> list[Obj]:
    """Upstream's epPortsToEpsPorts."""
    out = []
    for port in subset_ports:
        mirrored: Obj = {"name": str(port.get("name") or ""), "port": port.get("port"),
                         "protocol": port.get("protocol") or "TCP"}
        if port.get("appProtocol"):
            mirrored["appProtocol"] = port["appProtocol"]
        out.append(mirrored)
    return out


def address_type_and_ip(ip: object) -> tuple[str, str] | None:
    """("IPv4" | "IPv6", the IP written canonically), or None when `ip` is not an IP."""
    try:
        parsed = ipaddress.ip_address(str(ip))
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return "IPv4", str(parsed.ipv4_mapped)
    return ("IPv4" if parsed.version == 4 else "IPv6"), str(parsed)


def address_endpoint(address: Obj, ip: str, ready: bool) -> Obj:
    """Upstream's addressToEndpoint."""
    endpoint: Obj = {"addresses": [ip], "conditions": {"ready": ready}}
    if address.get("hostname"):
        endpoint["hostname"] = address["hostname"]
    if address.get("nodeName"):
        endpoint["nodeName"] = address["nodeName"]
    if address.get("targetRef"):
        endpoint["targetRef"] = address["targetRef"]
    return endpoint


@dataclass(slots=True)
class Desired:
    by_type: dict[str, list[tuple[list[Obj], Obj]]] = field(default_factory=dict)
    invalid: int = 0  # addresses that are not IPs
    skipped: int = 0  # addresses left out: invalid ones and those over the limit


def desired_endpoints(endpoints: Obj, max_per_subset: int = MAX_ENDPOINTS_PER_SUBSET) -> Desired:
    """Every (ports, endpoint) to mirror, by address type."""
    desired = Desired()
    for subset in endpoints.get("subsets") or ():
        ports = slice_ports(list(subset.get("ports") or ()))
        listed = [(a, True) for a in subset.get("addresses") or ()] \
            + [(a, False) for a in subset.get("notReadyAddresses") or ()]
        added = 0
        for address, ready in listed:
            if added >= max_per_subset:
                break
            parsed = address_type_and_ip((address or {}).get("ip"))
            if parsed is None:
                desired.invalid += 1
                continue
            address_type, ip = parsed
            desired.by_type.setdefault(address_type, []).append(
                (ports, address_endpoint(address, ip, ready)))
            added += 1
        desired.skipped += len(listed) - added
    return desired


def address_identity(endpoint: Obj) -> str:
    """Mirrored endpoints are told apart by address: custom targetRefs need not be unique."""
    return str((endpoint.get("addresses") or [""])[0])
