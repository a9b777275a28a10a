"""Coordination, dynamic resource allocation and API server internals: upstream's
printLease, printLeaseCandidate, printDeviceClass, printResourceClaim,
printResourceClaimTemplate, printResourceSlice and printStorageVersion.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.printers.cells import UNSET, get, list_with_more, meta
from kubelite.apiserver.printers.printer import AGE, NAME, Obj, Printer, column, name_cells_age

LEASE = Printer(
    columns=(NAME, column("Holder", description="The identity of the holder of a current lease."), AGE),
    cells=name_cells_age(lambda obj: get(obj, "spec", "holderIdentity") or ""),
)

LEASE_CANDIDATE = Printer(
    columns=(
        NAME,
        column("LeaseName", description="The name of the lease the candidate runs for."),
        column("BinaryVersion", description="The binary version of the candidate."),
        column("EmulationVersion", description="The emulation version of the candidate."),
        AGE,
    ),
    cells=name_cells_age(
        lambda obj: get(obj, "spec", "leaseName") or "",
        lambda obj: get(obj, "spec", "binaryVersion") or "",
        lambda obj: get(obj, "spec", "emulationVersion") or "",
    ),
)

DEVICE_CLASS = Printer(columns=(NAME, AGE), cells=name_cells_age())
RESOURCE_CLAIM_TEMPLATE = Printer(columns=(NAME, AGE), cells=name_cells_age())


def resource_claim_state(obj: Obj) -> str:
    """resourceClaimState: "pending", "allocated,reserved", "deleted,allocated", ..."""
    states: list[str] = []
    deleting = bool(meta(obj).get("deletionTimestamp"))
    if deleting:
        states.append("deleted")
    if get(obj, "status", "allocation") is None:
        if not deleting:
            states.append("pending")
    else:
        states.append("allocated")
        if get(obj, "status", "reservedFor"):
            states.append("reserved")
    return ",".join(states)


RESOURCE_CLAIM = Printer(
    columns=(
        NAME,
        column("State", description="A summary of the current state (allocated, pending, reserved, etc.)."),
        AGE,
    ),
    cells=name_cells_age(resource_claim_state),
)

RESOURCE_SLICE = Printer(
    columns=(
        NAME,
        column("Node", description="The node providing the resources."),
        column("Driver", description="The DRA driver providing the resources."),
        column("Pool", description="The pool this slice belongs to."),
        AGE,
    ),
    cells=name_cells_age(
        lambda obj: get(obj, "spec", "nodeName") or "",
        lambda obj: get(obj, "spec", "driver") or "",
        lambda obj: get(obj, "spec", "pool", "name") or "",
    ),
)


def _storage_versions(obj: Obj) -> str:
    versions = get(obj, "status", "storageVersions") or []
    shown: list[str] = []
    for version in versions[:3]:
        shown.append(f"{version.get('apiServerID') or ''}={version.get('encodingVersion') or ''}")
    return list_with_more(shown, len(versions) > 3, len(versions), 3)


def _common_encoding(obj: Obj) -> Any:
    value = get(obj, "status", "commonEncodingVersion")
    return UNSET if value is None else value


STORAGE_VERSION = Printer(
    columns=(
        NAME,
        column("CommonEncodingVersion", description="The encoding version all API servers agree on."),
        column("StorageVersions", description="The encoding version each API server uses."),
        AGE,
    ),
    cells=name_cells_age(_common_encoding, _storage_versions),
)

PRINTERS = {
    ("coordination.k8s.io", "Lease"): LEASE,
    ("coordination.k8s.io", "LeaseCandidate"): LEASE_CANDIDATE,
    ("resource.k8s.io", "DeviceClass"): DEVICE_CLASS,
    ("resource.k8s.io", "ResourceClaim"): RESOURCE_CLAIM,
    ("resource.k8s.io", "ResourceClaimTemplate"): RESOURCE_CLAIM_TEMPLATE,
    ("resource.k8s.io", "ResourceSlice"): RESOURCE_SLICE,
    ("internal.apiserver.k8s.io", "StorageVersion"): STORAGE_VERSION,
}
