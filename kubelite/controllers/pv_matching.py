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

from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.api.volume_claims import (
    candidate_volumes,
    ANN_BIND_COMPLETED,
    ANN_BOUND_BY_CONTROLLER,
    access_modes_fit,
    annotations_of,
    claim_class,
    meta,
    spec,
    storage_capacity,
    storage_request,
    volume_class,
    volume_mode,
)

Obj = dict[str, Any]


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
    Available one that satisfies it, else None. A claim waiting for its first consumer
    gets only a PV already bound to it: the scheduler binds the others, on its node."""
    candidates, bound = candidate_volumes(claim, volumes)
    if bound or (candidates and not delay_binding):
        return candidates[0]
    return None


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
