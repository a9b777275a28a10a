"""From a Service's desired endpoints and its current EndpointSlices to the fewest
writes (a simple form of upstream's reconciler.go in staging/src/k8s.io/endpointslice).

Endpoints are grouped by their port set (pods whose named ports resolve differently
land in different slices). Per group:
    1. a kept slice keeps its endpoints that are still desired (in their new form) and
       drops the rest; it is updated only if that changed anything
    2. new endpoints fill kept slices with room first, then slices left empty (deleted
       if none are left for them), then new slices of at most MAX_ENDPOINTS_PER_SLICE
Slices of a port set no longer wanted are deleted. A Service with no endpoints keeps
one placeholder slice with neither endpoints nor ports, as upstream does. Labels, the
owner (and annotations, for an owner that sets them) are put right on every slice kept.

What the slices of one owner carry is a `SliceOwner`: the Service's for the
EndpointSlice loop (`service_slice_owner`), the Endpoints' for the mirroring loop, which
reconciles through `reconcile_slices` with its own limit and endpoint identity.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from kubelite.controllers.endpoint_rules import (
    MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, service_labels)
from kubelite.controllers.pods import Obj, meta

MAX_ENDPOINTS_PER_SLICE = 100  # upstream's --max-endpoints-per-slice default


@dataclass(slots=True)
class Plan:
    create: list[Obj] = field(default_factory=list)
    update: list[Obj] = field(default_factory=list)
    delete: list[Obj] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SliceOwner:
    """What every slice of one owner carries."""
    namespace: str
    generate_name: str
    labels: dict[str, str]
    owner: Obj  # the controller ownerReference
    annotations: dict[str, str] | None = None  # None: annotations are not this loop's


def ports_key(ports: list[Obj]) -> str:
    return json.dumps(sorted(ports, key=lambda p: (p.get("name", ""), p.get("protocol", ""),
                                                    p.get("port", 0))), sort_keys=True)


def endpoint_identity(endpoint: Obj) -> str:
    ref = endpoint.get("targetRef") or {}
    return str(ref.get("uid") or ref.get("name") or (endpoint.get("addresses") or [""])[0])


def slice_labels(service: Obj) -> dict[str, str]:
    return {**service_labels(service), SERVICE_NAME_LABEL: meta(service)["name"],
            MANAGED_BY_LABEL: MANAGED_BY}


def owner_reference(service: Obj) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "name": meta(service)["name"],
            "uid": meta(service).get("uid", ""), "controller": True,
            "blockOwnerDeletion": True}


def service_slice_owner(service: Obj) -> SliceOwner:
    return SliceOwner(namespace=str(meta(service).get("namespace") or ""),
                      generate_name=f"{meta(service)['name'][:62]}-",
                      labels=slice_labels(service), owner=owner_reference(service))


def _put_metadata(endpoint_slice: Obj, owner: SliceOwner) -> None:
    metadata = endpoint_slice["metadata"]
    metadata["labels"] = dict(owner.labels)
    metadata["ownerReferences"] = [owner.owner]
    if owner.annotations is None:
        return
    if owner.annotations:
        metadata["annotations"] = dict(owner.annotations)
    else:
        metadata.pop("annotations", None)


def new_owned_slice(owner: SliceOwner, address_type: str, ports: list[Obj],
                    endpoints: list[Obj]) -> Obj:
    created: Obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"generateName": owner.generate_name, "namespace": owner.namespace},
                    "addressType": address_type, "endpoints": endpoints, "ports": ports}
    _put_metadata(created, owner)
    return created


def new_slice(service: Obj, address_type: str, ports: list[Obj], endpoints: list[Obj]) -> Obj:
    return new_owned_slice(service_slice_owner(service), address_type, ports, endpoints)


def _chunks(items: list[Obj], size: int) -> list[list[Obj]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def reconcile(service: Obj, address_type: str, desired: list[tuple[list[Obj], Obj]],
              existing: list[Obj], max_per_slice: int = MAX_ENDPOINTS_PER_SLICE) -> Plan:
    """The writes that turn `existing` (this Service's managed slices) into slices
    holding exactly `desired` ((ports, endpoint) pairs)."""
    owner = service_slice_owner(service)
    if not desired:
        return _placeholder(owner, address_type, existing)
    return reconcile_slices(owner, address_type, desired, existing, max_per_slice)


def reconcile_slices(owner: SliceOwner, address_type: str, desired: list[tuple[list[Obj], Obj]],
                     existing: list[Obj], max_per_slice: int = MAX_ENDPOINTS_PER_SLICE,
                     identity: Callable[[Obj], str] = endpoint_identity) -> Plan:
    """The writes that turn `existing` (one owner's slices) into slices of
    `address_type` holding exactly `desired`, endpoints told apart by `identity`; no
    desired endpoints: every existing slice deleted."""
    plan = Plan()
    groups: dict[str, tuple[list[Obj], dict[str, Obj]]] = {}
    for ports, endpoint in desired:
        groups.setdefault(ports_key(ports), (ports, {}))[1][identity(endpoint)] = endpoint
    by_group: dict[str, list[Obj]] = {}
    for current in existing:
        key = ports_key(list(current.get("ports") or []))
        if key in groups and current.get("addressType") == address_type:
            by_group.setdefault(key, []).append(current)
        else:
            plan.delete.append(current)
    for key, (ports, wanted) in groups.items():
        unplaced = dict(wanted)
        kept: list[tuple[Obj, bool]] = []  # (slice, changed)
        emptied: list[Obj] = []
        for current in by_group.get(key, []):
            endpoints = [unplaced.pop(identity(e)) for e in current.get("endpoints") or ()
                         if identity(e) in unplaced]
            updated = copy.deepcopy(current)
            updated["endpoints"] = endpoints
            _put_metadata(updated, owner)
            if endpoints:
                kept.append((updated, updated != current))
            else:
                emptied.append(updated)
        rest = list(unplaced.values())
        for updated, changed in kept:
            room = max_per_slice - len(updated["endpoints"])
            if rest and room > 0:
                updated["endpoints"] = [*updated["endpoints"], *rest[:room]]
                rest = rest[room:]
                changed = True
            if changed:
                plan.update.append(updated)
        for updated in emptied:  # an emptied slice (a placeholder, say) takes new ones
            if rest:
                updated["endpoints"], rest = rest[:max_per_slice], rest[max_per_slice:]
                plan.update.append(updated)
            else:
                plan.delete.append(updated)
        plan.create.extend(new_owned_slice(owner, address_type, ports, chunk)
                           for chunk in _chunks(rest, max_per_slice))
    return plan


def _placeholder(owner: SliceOwner, address_type: str, existing: list[Obj]) -> Plan:
    plan = Plan()
    keep = next((s for s in existing if not s.get("endpoints") and not s.get("ports")
                 and s.get("addressType") == address_type), None)
    plan.delete = [s for s in existing if s is not keep]
    if keep is None:
        plan.create.append(new_owned_slice(owner, address_type, [], []))
    elif (meta(keep).get("labels"), meta(keep).get("ownerReferences")) != (owner.labels, [owner.owner]):
        updated = copy.deepcopy(keep)
        _put_metadata(updated, owner)
        plan.update.append(updated)
    return plan
