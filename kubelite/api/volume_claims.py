"""What a PersistentVolume and a PersistentVolumeClaim say about each other: the facts
both the volume binder (kubelite/controllers) and the scheduler's VolumeBinding read
(upstream's component-helpers/storage/volume pv_helpers.go and the bind helpers of
pv_controller.go).

- A claim's class is its beta annotation when present, else spec.storageClassName; the
  same for a volume.
- A volume is bound to a claim when its claimRef names the claim (and the claim's uid,
  when the ref has one).
- A claim waits for its first consumer when its class says WaitForFirstConsumer; no class,
  or a class not found, means Immediate.
- `claim_ref` and `bind_volume_to_claim` return new objects (or None when nothing needs
  writing): listers hand out shared ones.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.machinery.labels import selector_from_label_selector
from kubelite.machinery.quantity import parse_json

Obj = dict[str, Any]

ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"

NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner"


def meta(obj: Mapping[str, Any]) -> Obj:
    out: Obj = obj.get("metadata") or {}
    return out


def spec(obj: Mapping[str, Any]) -> Obj:
    out: Obj = obj.get("spec") or {}
    return out


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("annotations") or {})


def phase(obj: Mapping[str, Any]) -> str:
    return str((obj.get("status") or {}).get("phase") or "")


def claim_key(claim: Mapping[str, Any]) -> str:
    return f"{meta(claim).get('namespace', '')}/{meta(claim).get('name', '')}"


def claim_ref_key(volume: Mapping[str, Any]) -> str:
    ref = spec(volume).get("claimRef") or {}
    return f"{ref.get('namespace', '')}/{ref.get('name', '')}"


def claim_class(claim: Mapping[str, Any]) -> str:
    """GetPersistentVolumeClaimClass: the beta annotation wins over storageClassName."""
    beta = annotations_of(claim).get(ANN_BETA_STORAGE_CLASS)
    return beta if beta is not None else str(spec(claim).get("storageClassName") or "")


def volume_class(volume: Mapping[str, Any]) -> str:
    beta = annotations_of(volume).get(ANN_BETA_STORAGE_CLASS)
    return beta if beta is not None else str(spec(volume).get("storageClassName") or "")


@functools.lru_cache(maxsize=4096)
def _bytes(value: str | int | float) -> int:
    """A quantity's value; cached, since a claim's sync reads every PV's capacity."""
    return parse_json(value).value()


def storage_request(claim: Mapping[str, Any]) -> int:
    value = ((spec(claim).get("resources") or {}).get("requests") or {}).get("storage")
    return _bytes(value) if value is not None else 0


def storage_capacity(volume: Mapping[str, Any]) -> int:
    """The PV's storage capacity; 0 (too small for any claim) when it is not a quantity."""
    value = (spec(volume).get("capacity") or {}).get("storage")
    try:
        return _bytes(value) if value is not None and not isinstance(value, bool) else 0
    except ValueError:
        return 0


def volume_mode(obj: Mapping[str, Any]) -> str:
    return str(spec(obj).get("volumeMode") or "Filesystem")


def is_bound_to_claim(volume: Mapping[str, Any], claim: Mapping[str, Any]) -> bool:
    """IsVolumeBoundToClaim: claimRef names the claim, and its uid when it has one."""
    ref = spec(volume).get("claimRef")
    if not ref:
        return False
    m = meta(claim)
    if ref.get("name") != m.get("name") or ref.get("namespace") != m.get("namespace"):
        return False
    return not ref.get("uid") or ref.get("uid") == m.get("uid")


def is_delay_binding(claim: Mapping[str, Any], storage_class: Mapping[str, Any] | None) -> bool:
    """IsDelayBindingMode: no class, or a class not found, means Immediate."""
    if not claim_class(claim) or storage_class is None:
        return False
    return storage_class.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER


def access_modes_fit(claim: Mapping[str, Any], volume: Mapping[str, Any]) -> bool:
    return set(spec(claim).get("accessModes") or ()) <= set(spec(volume).get("accessModes") or ())


def claim_ref(claim: Mapping[str, Any]) -> Obj:
    """GetReference of a claim, as a PV's claimRef holds it."""
    m = meta(claim)
    return {"kind": "PersistentVolumeClaim", "namespace": m.get("namespace"),
            "name": m.get("name"), "uid": m.get("uid"), "apiVersion": "v1",
            "resourceVersion": m.get("resourceVersion")}


def bind_volume_to_claim(volume: Obj, claim: Obj) -> Obj | None:
    """GetBindVolumeToClaim: a copy of the PV naming the claim, marked bound by the
    controller unless the user had pre-bound it; None when it says so already."""
    ref = spec(volume).get("claimRef") or {}
    m = meta(claim)
    wants_ref = (ref.get("name"), ref.get("namespace"), ref.get("uid")) != (
        m.get("name"), m.get("namespace"), m.get("uid"))
    by_controller = not is_bound_to_claim(volume, claim) and \
        ANN_BOUND_BY_CONTROLLER not in annotations_of(volume)
    if not wants_ref and not by_controller:
        return None
    out = {**volume, "metadata": dict(meta(volume)), "spec": dict(spec(volume))}
    if wants_ref:
        out["spec"]["claimRef"] = claim_ref(claim)
    if by_controller:
        out["metadata"]["annotations"] = {**annotations_of(volume), ANN_BOUND_BY_CONTROLLER: "yes"}
    return out


def is_fully_bound(claim: Mapping[str, Any]) -> bool:
    """A claim naming its volume and marked bind-completed."""
    return bool(spec(claim).get("volumeName")) and ANN_BIND_COMPLETED in annotations_of(claim)


def candidate_volumes(pvc: Obj, volumes: Iterable[Obj]) -> tuple[list[Obj], bool]:
    """The PVs that could serve the claim, smallest first (name breaks ties), and whether
    the first is already bound to the claim (then it is the only one): upstream's
    FindMatchingVolume tests that do not depend on a node (claimRef, size, volume mode,
    deletion, phase Available, selector, class, access modes)."""
    request = storage_request(pvc)
    wanted_class = claim_class(pvc)
    label_selector = spec(pvc).get("selector")
    selector = selector_from_label_selector(label_selector) if label_selector is not None else None
    wanted_modes = set(spec(pvc).get("accessModes") or ())
    found: list[tuple[int, str, Obj]] = []
    for pv in volumes:
        if spec(pv).get("claimRef") and not is_bound_to_claim(pv, pvc):
            continue
        size = storage_capacity(pv)
        if size < request or volume_mode(pv) != volume_mode(pvc):
            continue
        if meta(pv).get("deletionTimestamp"):
            continue
        if is_bound_to_claim(pv, pvc):
            return [pv], True
        if (pv.get("status") or {}).get("phase") != "Available":
            continue  # volumes not yet Available would likely fail to bind now
        if selector is not None and not selector.matches(meta(pv).get("labels") or {}):
            continue
        if volume_class(pv) != wanted_class or not wanted_modes <= set(spec(pv).get("accessModes") or ()):
            continue
        found.append((size, str(meta(pv).get("name", "")), pv))
    found.sort(key=lambda item: (item[0], item[1]))
    return [pv for _, _, pv in found], False
