"""Volumes and storage.k8s.io: upstream's printPersistentVolume,
printPersistentVolumeClaim, printStorageClass, printCSIDriver, printCSINode,
printVolumeAttachment, printVolumeAttributesClass and printCSIStorageCapacity.

A claim shows capacity and access modes only once bound (spec.volumeName set); both
volumes and claims show "Terminating" while being deleted. The legacy
volume.beta.kubernetes.io/storage-class annotation wins over storageClassName.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.printers.age import since
from kubelite.apiserver.printers.cells import NONE, UNSET, get, meta, name_of, quantity
from kubelite.apiserver.printers.printer import AGE, NAME, Obj, Printer, column, name_cells_age

_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"
_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP"))


def access_modes(modes: list[str] | None) -> str:
    """helper.GetAccessModesAsString: fixed order, duplicates dropped."""
    present = set(modes or ())
    return ",".join(short for mode, short in _MODES if mode in present)


def _phase(obj: Obj) -> str:
    if meta(obj).get("deletionTimestamp"):
        return "Terminating"
    return get(obj, "status", "phase") or ""


def _or_unset(value: Any) -> str:
    return UNSET if value is None else value


def persistent_volume_cells(obj: Obj, now: int) -> list[Any]:
    m, spec = meta(obj), obj.get("spec") or {}
    claim = spec.get("claimRef")
    claim_text = f"{claim.get('namespace') or ''}/{claim.get('name') or ''}" if claim is not None else ""
    annotations = m.get("annotations") or {}
    storage_class = annotations[_BETA_CLASS] if _BETA_CLASS in annotations else spec.get("storageClassName") or ""
    return [
        m.get("name") or "",
        quantity(get(spec, "capacity", "storage")),
        access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy") or "",
        _phase(obj),
        claim_text,
        storage_class,
        _or_unset(spec.get("volumeAttributesClassName")),
        get(obj, "status", "reason") or "",
        since(m.get("creationTimestamp"), now),
        _or_unset(spec.get("volumeMode")),
    ]


PERSISTENT_VOLUME = Printer(
    columns=(
        NAME,
        column("Capacity", description="The persistent volume's resources and capacity."),
        column("Access Modes", description="All ways the volume can be mounted."),
        column("Reclaim Policy", description="What happens to a persistent volume when released from its claim."),
        column("Status", description="Phase indicates if a volume is available, bound to a claim, or released."),
        column("Claim", description="The claim bound to this volume."),
        column("StorageClass", description="StorageClass of the pv"),
        column("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
        column("Reason", description="A brief reason describing any failure."),
        AGE,
        column("VolumeMode", description="Whether the volume is a formatted filesystem or a raw block.", priority=1),
    ),
    cells=persistent_volume_cells,
)


def persistent_volume_claim_cells(obj: Obj, now: int) -> list[Any]:
    m, spec, status = meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    volume = spec.get("volumeName") or ""
    capacity = modes = ""
    if volume:
        modes = access_modes(status.get("accessModes"))
        capacity = quantity(get(status, "capacity", "storage"))
    annotations = m.get("annotations") or {}
    if _BETA_CLASS in annotations:
        storage_class = annotations[_BETA_CLASS]
    else:
        storage_class = spec.get("storageClassName") or ""
    return [
        m.get("name") or "",
        _phase(obj),
        volume,
        capacity,
        modes,
        storage_class,
        _or_unset(spec.get("volumeAttributesClassName")),
        since(m.get("creationTimestamp"), now),
        _or_unset(spec.get("volumeMode")),
    ]


PERSISTENT_VOLUME_CLAIM = Printer(
    columns=(
        NAME,
        column("Status", description="The current phase of the claim."),
        column("Volume", description="The binding reference to the volume backing this claim."),
        column("Capacity", description="The actual resources of the underlying volume."),
        column("Access Modes", description="The actual access modes the volume backing the claim has."),
        column("StorageClass", description="StorageClass of the pvc"),
        column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
        AGE,
        column("VolumeMode", description="What type of volume is required by the claim.", priority=1),
    ),
    cells=persistent_volume_claim_cells,
)

_DEFAULT_CLASS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")


def _storage_class_name(obj: Obj) -> str:
    annotations = meta(obj).get("annotations") or {}
    name = name_of(obj)
    if any(annotations.get(key) == "true" for key in _DEFAULT_CLASS):
        name += " (default)"
    return name


def storage_class_cells(obj: Obj, now: int) -> list[Any]:
    return [
        _storage_class_name(obj),
        obj.get("provisioner") or "",
        obj.get("reclaimPolicy") or "Delete",
        obj.get("volumeBindingMode") or "Immediate",
        bool(obj.get("allowVolumeExpansion")),
        since(meta(obj).get("creationTimestamp"), now),
    ]


STORAGE_CLASS = Printer(
    columns=(
        NAME,
        column("Provisioner", description="The type of the provisioner."),
        column("ReclaimPolicy", description="The reclaim policy of dynamically provisioned volumes."),
        column("VolumeBindingMode", description="How PersistentVolumeClaims should be provisioned and bound."),
        column("AllowVolumeExpansion", description="Whether the storage class allows volume expansion."),
        AGE,
    ),
    cells=storage_class_cells,
)


def _volume_attributes_class_name(obj: Obj) -> str:
    annotations = meta(obj).get("annotations") or {}
    name = name_of(obj)
    if annotations.get("storage.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    return name


VOLUME_ATTRIBUTES_CLASS = Printer(
    columns=(NAME, column("DriverName", description="The name of the CSI driver."), AGE),
    cells=lambda obj, now: [
        _volume_attributes_class_name(obj),
        obj.get("driverName") or "",
        since(meta(obj).get("creationTimestamp"), now),
    ],
)

VOLUME_ATTACHMENT = Printer(
    columns=(
        NAME,
        column("Attacher", description="The name of the volume driver that handles this request.", format_="name"),
        column("PV", description="Name of the persistent volume to attach."),
        column("Node", description="The node that the volume should be attached to."),
        column("Attached", "boolean", "Whether the volume is successfully attached."),
        AGE,
    ),
    cells=name_cells_age(
        lambda obj: get(obj, "spec", "attacher") or "",
        lambda obj: get(obj, "spec", "source", "persistentVolumeName") or "",
        lambda obj: get(obj, "spec", "nodeName") or "",
        lambda obj: bool(get(obj, "status", "attached")),
    ),
)

CSI_NODE = Printer(
    columns=(
        NAME,
        column("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
        AGE,
    ),
    cells=name_cells_age(lambda obj: len(get(obj, "spec", "drivers") or ())),
)


def csi_driver_cells(obj: Obj, now: int) -> list[Any]:
    spec = obj.get("spec") or {}
    attach = spec.get("attachRequired")
    token_requests = spec.get("tokenRequests")
    modes = ",".join(spec.get("volumeLifecycleModes") or ())
    return [
        name_of(obj),
        True if attach is None else bool(attach),
        bool(spec.get("podInfoOnMount")),
        bool(spec.get("storageCapacity")),
        UNSET if token_requests is None else ",".join(t.get("audience") or "" for t in token_requests),
        bool(spec.get("requiresRepublish")),
        modes or NONE,
        since(meta(obj).get("creationTimestamp"), now),
    ]


CSI_DRIVER = Printer(
    columns=(
        NAME,
        column("AttachRequired", "boolean", "Whether the driver requires an attach operation."),
        column("PodInfoOnMount", "boolean", "Whether the driver requires pod information on mount."),
        column("StorageCapacity", "boolean", "Whether the driver reports storage capacity."),
        column("TokenRequests", description="Audiences of service account tokens passed to the driver."),
        column("RequiresRepublish", "boolean", "Whether NodePublishVolume is called periodically."),
        column("Modes", description="Volume lifecycle modes the driver supports."),
        AGE,
    ),
    cells=csi_driver_cells,
)

CSI_STORAGE_CAPACITY = Printer(
    columns=(
        NAME,
        column("StorageClassName", description="The StorageClass this capacity applies to."),
        column("Capacity", description="The capacity reported by the driver."),
    ),
    cells=lambda obj, now: [
        name_of(obj),
        obj.get("storageClassName") or "",
        UNSET if obj.get("capacity") is None else quantity(obj.get("capacity")),
    ],
)

PRINTERS = {
    ("", "PersistentVolume"): PERSISTENT_VOLUME,
    ("", "PersistentVolumeClaim"): PERSISTENT_VOLUME_CLAIM,
    ("storage.k8s.io", "StorageClass"): STORAGE_CLASS,
    ("storage.k8s.io", "VolumeAttributesClass"): VOLUME_ATTRIBUTES_CLASS,
    ("storage.k8s.io", "VolumeAttachment"): VOLUME_ATTACHMENT,
    ("storage.k8s.io", "CSINode"): CSI_NODE,
    ("storage.k8s.io", "CSIDriver"): CSI_DRIVER,
    ("storage.k8s.io", "CSIStorageCapacity"): CSI_STORAGE_CAPACITY,
}
