"""Which PersistentVolume a claim may bind, as plain rules over PV and PVC dicts
(upstream's pkg/controller/volume/persistentvolume/index.go findMatchingVolume,
component-helpers/storage/volume pv_helpers.go and the bind/unbind helpers of
pv_controller.go).

- A PV whose claimRef names the claim (namespace, name, and uid when it has one) is the
  claim's whatever else it says: pre-binding by the user, or a volume a provisioner made
  for the claim, wins over every other rule.
- Otherwise a PV qualifies when it is Available, not reserved for another claim, not
  being deleted, at least as large as the request, of the same volumeMode and class,
  offers every access mode the claim asks for and carries the labels the claim's selector
  wants. The smallest that qualifies is chosen (name breaks ties, so the choice is stable).
- A claim whose class waits for its first consumer is never matched here without a node:
  only a PV already bound to it is, since the scheduler picks the others.
- `claim_ref`, `bind_volume_to_claim` and `bind_claim_to_volume` return changed copies
  (or None when nothing needs writing): listers hand out shared objects.
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


def mismatch(volume: Mapping[str, Any], claim: Mapping[str, Any]) -> str:
    """checkVolumeSatisfyClaim, for a claim naming the volume: why it cannot have it ("" if
    it can), in upstream's words (the VolumeMismatch Event)."""
    if storage_capacity(volume) < storage_request(claim):
        return "requested PV is too small"
    if volume_class(volume) != claim_class(claim):
        return "storageClassName does not match"
    if volume_mode(volume) != volume_mode(claim):
        return "incompatible volumeMode"
    if not access_modes_fit(claim, volume):
        return "incompatible accessMode"
    return ""


def find_best_match(claim: Obj, volumes: Iterable[Obj], *, delay_binding: bool) -> Obj | None:
    """findBestMatchForClaim without a node: the PV bound to the claim, else the smallest
    Available one that satisfies it, else None."""
    request = storage_request(claim)
    wanted_class = claim_class(claim)
    raw_selector = spec(claim).get("selector")
    selector = selector_from_label_selector(raw_selector) if raw_selector is not None else None
    best: tuple[int, str] | None = None
    chosen: Obj | None = None
    for volume in volumes:
        # cheap tests first: most PVs of a busy cluster are bound to other claims
        ref = spec(volume).get("claimRef")
        bound = bool(ref) and is_bound_to_claim(volume, claim)
        if ref and not bound:
            continue
        if not bound and (delay_binding  # the scheduler binds the others, on its node
                          or phase(volume) != "Available" or volume_class(volume) != wanted_class):
            continue
        size = storage_capacity(volume)
        if size < request or volume_mode(volume) != volume_mode(claim):
            continue
        if meta(volume).get("deletionTimestamp"):
            continue
        if bound:
            return volume  # pre-bound (or provisioned) for this claim: the exact match
        if selector is not None and not selector.matches(meta(volume).get("labels") or {}):
            continue
        if not access_modes_fit(claim, volume):
            continue
        rank = (size, str(meta(volume).get("name", "")))
        if best is None or rank < best:
            best, chosen = rank, volume
    return chosen


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


def bind_claim_to_volume(claim: Obj, volume: Obj) -> Obj | None:
    """bindClaimToVolume: a copy of the claim naming the volume, with bind-completed (and
    bound-by-controller when the controller chose the volume); None when nothing changes."""
    name = meta(volume).get("name")
    should_bind = spec(claim).get("volumeName") != name
    wanted = annotations_of(claim)
    if should_bind:
        wanted.setdefault(ANN_BOUND_BY_CONTROLLER, "yes")
    wanted.setdefault(ANN_BIND_COMPLETED, "yes")
    if not should_bind and wanted == annotations_of(claim):
        return None
    out = {**claim, "metadata": {**meta(claim), "annotations": wanted}, "spec": dict(spec(claim))}
    out["spec"]["volumeName"] = name
    return out


def unbind_volume(volume: Obj) -> Obj:
    """unbindVolume: a PV the controller bound loses its claimRef and the marker; one the
    user pre-bound keeps its claimRef without the uid, staying reserved for that claim."""
    out = {**volume, "metadata": dict(meta(volume)), "spec": dict(spec(volume))}
    if ANN_BOUND_BY_CONTROLLER in annotations_of(volume):
        out["spec"].pop("claimRef", None)
        kept = {k: v for k, v in annotations_of(volume).items() if k != ANN_BOUND_BY_CONTROLLER}
        if kept:
            out["metadata"]["annotations"] = kept
        else:
            out["metadata"].pop("annotations", None)
    else:
        out["spec"]["claimRef"] = {k: v for k, v in (spec(volume).get("claimRef") or {}).items()
                                   if k != "uid"}
    return out


def pod_claim_keys(pod: Mapping[str, Any]) -> list[str]:
    """`namespace/claim` of every claim a pod uses: its persistentVolumeClaim volumes and
    the `<pod>-<volume>` claims of its generic ephemeral volumes (upstream's PodPVCIndexFunc)."""
    m = meta(pod)
    namespace = m.get("namespace", "")
    keys = []
    for volume in spec(pod).get("volumes") or ():
        if source := volume.get("persistentVolumeClaim"):
            keys.append(f"{namespace}/{source.get('claimName', '')}")
        elif volume.get("ephemeral") is not None:
            keys.append(f"{namespace}/{m.get('name', '')}-{volume.get('name', '')}")
    return keys


def wait_for_consumer_event(claim_pods: Iterable[Mapping[str, Any]]) -> tuple[str, str]:
    """emitEventForUnboundDelayBindingClaim: the reason and message for a claim waiting
    for its first consumer, naming the pods that use it and are not scheduled yet."""
    waiting = sorted(str(meta(p).get("name", "")) for p in claim_pods if not spec(p).get("nodeName"))
    if not waiting:
        return "WaitForFirstConsumer", "waiting for first consumer to be created before binding"
    if len(waiting) == 1:
        return "WaitForPodScheduled", f"waiting for pod {waiting[0]} to be scheduled"
    return "WaitForPodScheduled", f"waiting for pods {','.join(waiting)} to be scheduled"
