"""PersistentVolumes, PersistentVolumeClaims, StorageClasses.

PVs default to reclaim policy Retain and volume mode Filesystem and start Pending (with
lastPhaseTransitionTime, GA upstream since 1.31, which a status write that changes the
phase moves to now unless the writer set a new one); PVCs default to Filesystem and start
Pending. A claim's spec is immutable after creation except for resources.requests
(expansion), volumeAttributesClassName, and binding a claim that has no volumeName yet.
StorageClasses default to Delete/Immediate and freeze provisioner, parameters and
reclaim policy.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.registry.strategy import DefaultStrategy, StatusStrategy, Strategy, spec_of
from kubelite.machinery.errors import Cause
from kubelite.machinery.timestamps import now_rfc3339

from .causes import forbidden, not_supported, path, required

Obj = dict[str, Any]
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
_PV_SOURCES = ("gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs", "nfs",
               "rbd", "quobyte", "iscsi", "cinder", "cephfs", "fc", "flocker", "flexVolume",
               "azureFile", "vsphereVolume", "azureDisk", "photonPersistentDisk",
               "portworxVolume", "scaleIO", "local", "storageos", "csi")


def _access_mode_causes(modes: Any, field: str, detail: str = "") -> list[Cause]:
    if not modes:
        return [required(field, detail)]
    return [not_supported(field, m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES]


def _default_volume(obj: Obj) -> None:
    """What PVs and PVCs both default: a Filesystem volume mode and a Pending phase."""
    spec = spec_of(obj)
    if spec.get("volumeMode") is None:
        spec["volumeMode"] = "Filesystem"
    status = obj.get("status")
    if isinstance(status, dict) and not status.get("phase"):
        status["phase"] = "Pending"


class PersistentVolumeStrategy(DefaultStrategy):
    has_status = True
    return_deleted_object = True

    def prepare_for_create(self, pv: Obj) -> None:
        super().prepare_for_create(pv)
        pv["status"] = {"phase": "Pending", "lastPhaseTransitionTime": now_rfc3339()}

    def default(self, pv: Obj) -> None:
        spec = spec_of(pv)
        if not spec.get("persistentVolumeReclaimPolicy"):
            spec["persistentVolumeReclaimPolicy"] = "Retain"
        _default_volume(pv)

    def validate(self, pv: Obj) -> list[Cause]:
        spec = pv.get("spec") or {}
        causes = _access_mode_causes(spec.get("accessModes"), "spec.accessModes")
        if not spec.get("capacity"):
            causes.append(required("spec.capacity"))
        elif "storage" not in spec["capacity"]:
            causes.append(not_supported("spec.capacity", list(spec["capacity"]), ["storage"]))
        policy = spec.get("persistentVolumeReclaimPolicy")
        if policy not in RECLAIM_POLICIES:
            causes.append(not_supported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES))
        sources = [s for s in _PV_SOURCES if spec.get(s) is not None]
        if not sources:
            causes.append(required("spec", "must specify a volume type"))
        elif len(sources) > 1:
            causes.append(forbidden(path("spec", sources[1]), "may not specify more than 1 volume type"))
        return causes

    def selectable_fields(self, pv: Obj) -> dict[str, str]:
        return {"name": (pv.get("metadata") or {}).get("name") or ""}

    def subresource_strategies(self) -> dict[str, Strategy]:
        return {"status": PersistentVolumeStatusStrategy(self)}


class PersistentVolumeStatusStrategy(StatusStrategy):
    """upstream's persistentvolumeStatusStrategy: a phase change stamps
    lastPhaseTransitionTime, unless the writer gave one of its own."""

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        status, old_status = new.get("status"), old.get("status") or {}
        if not isinstance(status, dict):
            return
        given = status.get("lastPhaseTransitionTime")
        if status.get("phase") == old_status.get("phase"):
            if given is None:
                status["lastPhaseTransitionTime"] = old_status.get("lastPhaseTransitionTime")
                if status["lastPhaseTransitionTime"] is None:
                    del status["lastPhaseTransitionTime"]
        elif given is None or given == old_status.get("lastPhaseTransitionTime"):
            status["lastPhaseTransitionTime"] = now_rfc3339()


class PersistentVolumeClaimStrategy(DefaultStrategy):
    has_status = True
    return_deleted_object = True
    initial_status = {"phase": "Pending"}

    def default(self, pvc: Obj) -> None:
        _default_volume(pvc)

    def validate(self, pvc: Obj) -> list[Cause]:
        spec = pvc.get("spec") or {}
        causes = _access_mode_causes(spec.get("accessModes"), "spec.accessModes",
                                     "at least 1 access mode is required")
        requests = (spec.get("resources") or {}).get("requests") or {}
        if "storage" not in requests:
            causes.append(required("spec.resources[storage]"))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        def frozen(pvc: Obj) -> Obj:
            spec = dict(pvc.get("spec") or {})
            spec.pop("volumeAttributesClassName", None)
            resources = dict(spec.get("resources") or {})
            resources.pop("requests", None)
            spec["resources"] = resources
            if not (old.get("spec") or {}).get("volumeName"):
                spec.pop("volumeName", None)
            return spec
        if frozen(new) != frozen(old):
            return [forbidden("spec", "spec is immutable after creation except resources.requests "
                              "and volumeAttributesClassName for bound claims")]
        return []


class StorageClassStrategy(DefaultStrategy):
    return_deleted_object = True

    def default(self, sc: Obj) -> None:
        if not sc.get("reclaimPolicy"):
            sc["reclaimPolicy"] = "Delete"
        if not sc.get("volumeBindingMode"):
            sc["volumeBindingMode"] = "Immediate"

    def validate(self, sc: Obj) -> list[Cause]:
        causes = [] if sc.get("provisioner") else [required("provisioner")]
        if sc.get("reclaimPolicy") not in ("Delete", "Retain"):
            causes.append(not_supported("reclaimPolicy", sc.get("reclaimPolicy"), ["Delete", "Retain"]))
        if sc.get("volumeBindingMode") not in ("Immediate", "WaitForFirstConsumer"):
            causes.append(not_supported("volumeBindingMode", sc.get("volumeBindingMode"),
                                        ["Immediate", "WaitForFirstConsumer"]))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = []
        for key in ("parameters", "provisioner", "reclaimPolicy"):
            if new.get(key) != old.get(key):
                causes.append(forbidden(key, f"updates to {key} are forbidden."))
        if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
            causes.append(forbidden("volumeBindingMode", "field is immutable"))
        return causes


class CSIStrategy(DefaultStrategy):
    """CSIDrivers, CSINodes and VolumeAttachments: what is special about them here is
    only that their stores answer a DELETE with the object (their storage.go files)."""

    return_deleted_object = True
