"""The PV binder's reads and writes (upstream's pv_controller.go bind, unbindVolume,
updateClaimStatus, updateVolumePhase and their event variants, and the controller's own
cache of what it wrote).

Reads go to the informers' listers through a small overlay of the objects this loop
wrote itself: until the informer shows a version at least as new, the written one is the
truth, so a claim synced right after a bind does not take the same PV again from a stale
cache (upstream's storeVolumeUpdate / storeClaimUpdate). Every write is a PUT carrying
the resourceVersion read, so a write over a changed object fails with Conflict and the
sync is retried over fresh state.

`bind` is idempotent: each of its four steps (PV claimRef, PV phase, claim volumeName
and annotations, claim status) writes only what differs, so a bind interrupted half-way
is finished by the next sync of either object.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubelite.client.events import EventRecorder
from kubelite.client.rest import Client
from kubelite.client.store import Lister
from kubelite.api import volume_claims as vc
from kubelite.controllers import pv_matching as pvm
from kubelite.controllers.pv_matching import Obj

PV = "persistentvolumes"
PVC = "persistentvolumeclaims"


def resource_version(obj: Obj) -> int:
    try:
        return int(vc.meta(obj).get("resourceVersion") or 0)
    except ValueError:
        return 0


class Binder:
    def __init__(self, *, client: Client, recorder: EventRecorder, volumes: Lister,
                 claims: Lister) -> None:
        self.client = client
        self.recorder = recorder
        self._volumes = volumes
        self._claims = claims
        self._written: dict[tuple[str, str], Obj] = {}  # (resource, key) -> what we wrote

    # --- reads ------------------------------------------------------------------------

    def _newest(self, resource: str, key: str, cached: Obj | None) -> Obj | None:
        written = self._written.get((resource, key))
        if written is None:
            return cached
        if cached is None or resource_version(cached) >= resource_version(written):
            del self._written[(resource, key)]  # the informer caught up (or saw it go)
            return cached
        return written

    def volume(self, name: str) -> Obj | None:
        return self._newest(PV, name, self._volumes.get("", name))

    def claim(self, namespace: str, name: str) -> Obj | None:
        return self._newest(PVC, f"{namespace}/{name}", self._claims.get(namespace, name))

    def volumes(self) -> Iterator[Obj]:
        if not self._written:  # the common case: nothing of ours the informer lacks
            yield from self._volumes.list()
            return
        for cached in self._volumes.list():
            newest = self.volume(str(vc.meta(cached).get("name", "")))
            if newest is not None:
                yield newest

    def _remember(self, resource: str, key: str, obj: Obj) -> Obj:
        self._written[(resource, key)] = obj
        return obj

    def forget(self, resource: str, key: str) -> None:
        self._written.pop((resource, key), None)

    # --- writes -----------------------------------------------------------------------

    async def update_volume(self, volume: Obj) -> Obj:
        written = await self.client.update(PV, volume)
        return self._remember(PV, str(vc.meta(written).get("name")), written)

    async def update_claim(self, claim: Obj) -> Obj:
        written = await self.client.update(PVC, claim, namespace=vc.meta(claim).get("namespace"))
        return self._remember(PVC, vc.claim_key(written), written)

    async def volume_phase(self, volume: Obj, phase: str, message: str = "") -> Obj:
        """updateVolumePhase: write status.phase (and message) when they differ."""
        status = volume.get("status") or {}
        if status.get("phase") == phase and (status.get("message") or "") == message:
            return volume
        new_status = {k: v for k, v in status.items() if k != "message"}
        new_status["phase"] = phase
        if message:
            new_status["message"] = message
        written = await self.client.update_status(PV, {**volume, "status": new_status})
        return self._remember(PV, str(vc.meta(written).get("name")), written)

    async def volume_phase_with_event(self, volume: Obj, phase: str, type_: str, reason: str,
                                      message: str) -> Obj:
        """updateVolumePhaseWithEvent: the Event only when the phase really changes."""
        if vc.phase(volume) == phase:
            return volume
        written = await self.volume_phase(volume, phase, message)
        self.recorder.event(written, type_, reason, message)
        return written

    async def claim_status(self, claim: Obj, phase: str, volume: Obj | None) -> Obj:
        """updateClaimStatus: phase, and the bound volume's access modes and capacity
        (cleared without a volume); written only when something differs."""
        status = dict(claim.get("status") or {})
        wanted = dict(status, phase=phase)
        if volume is None:
            wanted.pop("accessModes", None)
            wanted.pop("capacity", None)
        else:
            wanted["accessModes"] = list(vc.spec(volume).get("accessModes") or [])
            capacity = vc.spec(volume).get("capacity") or {}
            if "storage" not in capacity:
                raise ValueError(f'PersistentVolume "{vc.meta(volume).get("name")}" is '
                                 "without a storage capacity")
            if vc.storage_capacity(volume) != _status_capacity(status):
                wanted["capacity"] = dict(capacity)
        if wanted == status:
            return claim
        written = await self.client.update_status(
            PVC, {**claim, "status": wanted}, namespace=vc.meta(claim).get("namespace"))
        return self._remember(PVC, vc.claim_key(written), written)

    async def claim_status_with_event(self, claim: Obj, phase: str, volume: Obj | None,
                                      type_: str, reason: str, message: str) -> Obj:
        if vc.phase(claim) == phase:
            return claim
        written = await self.claim_status(claim, phase, volume)
        self.recorder.event(written, type_, reason, message)
        return written

    async def bind(self, volume: Obj, claim: Obj) -> None:
        """bind: the PV names the claim and is Bound; the claim names the PV, carries
        bind-completed, and is Bound with the PV's access modes and capacity."""
        changed = vc.bind_volume_to_claim(volume, claim)
        if changed is not None:
            volume = await self.update_volume(changed)
        volume = await self.volume_phase(volume, "Bound")
        bound = pvm.bind_claim_to_volume(claim, volume)
        if bound is not None:
            claim = await self.update_claim(bound)
        await self.claim_status(claim, "Bound", volume)

    async def unbind(self, volume: Obj) -> None:
        """unbindVolume, then the PV is Available again."""
        written = await self.update_volume(pvm.unbind_volume(volume))
        await self.volume_phase(written, "Available")


def _status_capacity(status: Obj) -> int | None:
    value = (status.get("capacity") or {}).get("storage")
    return vc.storage_capacity({"spec": {"capacity": {"storage": value}}}) if value else None
