"""The PersistentVolume binder: claims bound to volumes, volumes' phases and reclaim
policies (upstream's pkg/controller/volume/persistentvolume/pv_controller.go,
`persistentvolume-binder`).

    claims informer  ─► claim queue  ─► sync_claim: unbound ─► match a PV (pv_matching)
                                                              ─► bind (pv_writes.Binder)
                                                              ─► or ask its class's
                                                                 provisioner (annotations)
                                                    bound   ─► keep Bound, or Lost
    volumes informer ─► volume queue ─► sync_volume: Available / Bound / Released,
                                                     then the reclaim policy

A claim waiting for its first consumer says so on each sync (WaitForFirstConsumer, or
WaitForPodScheduled naming the unscheduled pods that use it, from a pods index).

Two queues with one worker each, as upstream: one claim sync at a time means no two
claims are given one PV from the same cache. Claims waiting for their first consumer are
left to the scheduler (VolumeBinding writes the PV's claimRef, or the claim's
`volume.kubernetes.io/selected-node`); once a node is selected, or at once for an
Immediate class, a claim no PV fits gets `volume.kubernetes.io/storage-provisioner`
(and the beta annotation) naming its class's provisioner, which then makes a PV whose
claimRef names the claim; the next claim sync binds it.

Reclaim: Retain leaves a Released PV alone; Delete leaves a provisioned PV
(`pv.kubernetes.io/provisioned-by`) to its provisioner, which deletes the data and the PV;
a PV no provisioner made cannot be deleted by kubelite (there are no in-tree volume
plugins) and goes Failed, as upstream's does without a deleter plugin. Recycle is not
supported and fails the same way.

Beyond upstream: a PV becoming free (Available, no claimRef) enqueues the claims still
waiting for one, so a static PV binds at once rather than at the next periodic resync (kept, at
upstream's 15 s, for everything else).
"""

from __future__ import annotations

import asyncio

from kubelite.client.controller import Controller
from kubelite.api import volume_claims as vc
from kubelite.controllers import pv_matching as pvm
from kubelite.controllers.context import LoopContext
from kubelite.controllers.pv_matching import Obj
from kubelite.controllers.pv_writes import Binder
from kubelite.machinery import errors

RESYNC_SECONDS = 15.0  # upstream's --pvclaimbinder-sync-period
COMPONENT = "persistentvolume-controller"
POD_CLAIMS_INDEX = "persistentvolume-binder/claims"  # namespace/claim of each claim a pod uses


class PersistentVolumeBinderLoop:
    name = "persistentvolume-binder"

    def __init__(self, ctx: LoopContext, *, resync: float = RESYNC_SECONDS) -> None:
        self.client = ctx.client
        self.recorder = ctx.recorder(COMPONENT)
        self.volumes = ctx.informers.informer("persistentvolumes")
        self.claims = ctx.informers.informer("persistentvolumeclaims")
        self.classes = ctx.informers.informer("storageclasses.storage.k8s.io")
        self.pods = ctx.informers.informer("pods", indexers={POD_CLAIMS_INDEX: pvm.pod_claim_keys})
        self.binder = Binder(client=ctx.client, recorder=self.recorder,
                             volumes=self.volumes.lister, claims=self.claims.lister)
        self.claim_queue: Controller[str] = Controller(f"{self.name}-claims", self.sync_claim)
        self.volume_queue: Controller[str] = Controller(f"{self.name}-volumes", self.sync_volume)
        self.claim_queue.enqueue_every(resync, lambda: [vc.claim_key(c) for c in self.claims.lister.list()])
        self.volume_queue.enqueue_every(resync, lambda: [_name(v) for v in self.volumes.lister.list()])
        self.claims.add_event_handler(on_add=self._claim_changed,
                                      on_update=lambda _old, new: self._claim_changed(new),
                                      on_delete=self._claim_deleted)
        self.volumes.add_event_handler(on_add=self._volume_changed,
                                       on_update=lambda _old, new: self._volume_changed(new),
                                       on_delete=self._volume_deleted)

    async def run(self) -> None:
        await asyncio.gather(self.claim_queue.run(), self.volume_queue.run())

    # --- handlers: keys only ----------------------------------------------------------

    def _claim_changed(self, claim: Obj) -> None:
        self.claim_queue.enqueue(vc.claim_key(claim))

    def _claim_deleted(self, claim: Obj) -> None:
        self.binder.forget("persistentvolumeclaims", vc.claim_key(claim))
        if volume := vc.spec(claim).get("volumeName"):
            self.volume_queue.enqueue(str(volume))  # its PV is Released now

    def _volume_changed(self, volume: Obj) -> None:
        self.volume_queue.enqueue(_name(volume))
        if not vc.spec(volume).get("claimRef") and vc.phase(volume) == "Available":
            for claim in self.claims.lister.list():
                if not vc.spec(claim).get("volumeName"):
                    self.claim_queue.enqueue(vc.claim_key(claim))

    def _volume_deleted(self, volume: Obj) -> None:
        self.binder.forget("persistentvolumes", _name(volume))
        if vc.spec(volume).get("claimRef"):
            self.claim_queue.enqueue(vc.claim_ref_key(volume))  # a bound claim is Lost now

    # --- claims -----------------------------------------------------------------------

    async def sync_claim(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        claim = self.binder.claim(namespace, name)
        if claim is None:
            return
        if vc.ANN_BIND_COMPLETED in vc.annotations_of(claim):
            await self._sync_bound_claim(claim)
        else:
            await self._sync_unbound_claim(claim)

    async def _sync_unbound_claim(self, claim: Obj) -> None:
        wanted = vc.spec(claim).get("volumeName")
        if not wanted:
            class_name = vc.claim_class(claim)
            storage_class = self.classes.lister.get("", class_name) if class_name else None
            delay = vc.is_delay_binding(claim, storage_class)
            volume = pvm.find_best_match(claim, self.binder.volumes(), delay_binding=delay)
            if volume is not None:
                await self.binder.bind(volume, claim)
            elif delay and vc.ANN_SELECTED_NODE not in vc.annotations_of(claim):
                reason, message = pvm.wait_for_consumer_event(
                    self.pods.indexer.by_index(POD_CLAIMS_INDEX, vc.claim_key(claim)))
                self.recorder.event(claim, "Normal", reason, message)
            elif class_name:
                await self._provision(claim, class_name, storage_class)
            else:
                self.recorder.event(claim, "Normal", "FailedBinding", "no persistent volumes "
                                    "available for this claim and no storage class is set")
                await self.binder.claim_status(claim, "Pending", None)
            return
        volume = self.binder.volume(str(wanted))
        if volume is None:  # asked for a PV that does not exist (yet)
            await self.binder.claim_status(claim, "Pending", None)
        elif not vc.spec(volume).get("claimRef"):
            if reason := pvm.mismatch(volume, claim):
                self.recorder.event(claim, "Warning", "VolumeMismatch", reason)
                await self.binder.claim_status(claim, "Pending", None)
            else:
                await self.binder.bind(volume, claim)
        elif vc.is_bound_to_claim(volume, claim):
            await self.binder.bind(volume, claim)  # finish the binding: the claim's uid
        elif vc.ANN_BOUND_BY_CONTROLLER not in vc.annotations_of(claim):
            await self.binder.claim_status(claim, "Pending", None)  # wait for the user's PV
        else:
            raise RuntimeError(f'Invalid binding of claim "{vc.claim_key(claim)}" to volume '
                                 f'"{wanted}": volume already claimed by "{vc.claim_ref_key(volume)}"')

    async def _provision(self, claim: Obj, class_name: str, storage_class: Obj | None) -> None:
        """provisionClaim for an external provisioner: name it on the claim and wait."""
        if storage_class is None:
            self.recorder.event(claim, "Warning", "ProvisioningFailed",
                                f'storageclass.storage.k8s.io "{class_name}" not found')
            await self.binder.claim_status(claim, "Pending", None)
            return
        provisioner = str(storage_class.get("provisioner") or "")
        names = vc.annotations_of(claim)
        if names.get(vc.ANN_STORAGE_PROVISIONER) != provisioner or \
                names.get(vc.ANN_BETA_STORAGE_PROVISIONER) != provisioner:
            names[vc.ANN_STORAGE_PROVISIONER] = names[vc.ANN_BETA_STORAGE_PROVISIONER] = provisioner
            claim = await self.binder.update_claim(
                {**claim, "metadata": {**vc.meta(claim), "annotations": names}})
        self.recorder.event(
            claim, "Normal", "ExternalProvisioning",
            f"Waiting for a volume to be created either by the external provisioner '{provisioner}' "
            "or manually by the system administrator. If volume creation is delayed, please "
            "verify that the provisioner is running and correctly registered.")

    async def _sync_bound_claim(self, claim: Obj) -> None:
        wanted = vc.spec(claim).get("volumeName")
        if not wanted:
            await self.binder.claim_status_with_event(
                claim, "Lost", None, "Warning", "ClaimLost",
                "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
            return
        volume = self.binder.volume(str(wanted))
        if volume is None:
            await self.binder.claim_status_with_event(
                claim, "Lost", None, "Warning", "ClaimLost",
                "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
        elif not vc.spec(volume).get("claimRef") or \
                (vc.spec(volume).get("claimRef") or {}).get("uid") == vc.meta(claim).get("uid"):
            await self.binder.bind(volume, claim)  # all is well, or the PV came unbound: fix
        else:
            await self.binder.claim_status_with_event(
                claim, "Lost", None, "Warning", "ClaimMisbound",
                "Two claims are bound to the same volume, this one is bound incorrectly")

    # --- volumes ----------------------------------------------------------------------

    async def sync_volume(self, name: str) -> None:
        volume = self.binder.volume(name)
        if volume is None:
            return
        ref = vc.spec(volume).get("claimRef")
        if not ref or not ref.get("uid"):  # unused, or reserved for a claim not bound yet
            await self.binder.volume_phase(volume, "Available")
            return
        claim = await self._claim_of(ref)
        if claim is None or vc.meta(claim).get("uid") != ref.get("uid"):
            # the claim is gone (maybe replaced by a namesake): run the reclaim policy,
            # leaving a Failed phase for the user to see
            if vc.phase(volume) not in ("Released", "Failed"):
                volume = await self.binder.volume_phase(volume, "Released")
            await self._reclaim(volume)
        elif not vc.spec(claim).get("volumeName"):
            self.claim_queue.enqueue(vc.claim_key(claim))  # binding half done: the claim finishes it
        elif vc.spec(claim).get("volumeName") == name:
            await self.binder.volume_phase(volume, "Bound")
        elif vc.ANN_DYNAMICALLY_PROVISIONED in vc.annotations_of(volume) and \
                vc.spec(volume).get("persistentVolumeReclaimPolicy") == "Delete":
            # made for a claim that got another PV: not needed any more
            if vc.phase(volume) not in ("Released", "Failed"):
                volume = await self.binder.volume_phase(volume, "Released")
            await self._reclaim(volume)
        else:
            await self.binder.unbind(volume)  # the claim went elsewhere

    async def _claim_of(self, ref: Obj) -> Obj | None:
        """The claim a PV names, from the cache, else from the API: a claim the informer
        has not shown yet must not release its PV."""
        namespace, name = str(ref.get("namespace") or ""), str(ref.get("name") or "")
        claim = self.binder.claim(namespace, name)
        if claim is not None:
            return claim
        try:
            return await self.client.get("persistentvolumeclaims", name, namespace=namespace)
        except errors.NotFound:
            return None

    async def _reclaim(self, volume: Obj) -> None:
        policy = vc.spec(volume).get("persistentVolumeReclaimPolicy")
        if policy == "Retain":
            return
        if policy == "Delete":
            if vc.ANN_DYNAMICALLY_PROVISIONED in vc.annotations_of(volume):
                return  # its provisioner deletes the data, then the PV
            await self.binder.volume_phase_with_event(
                volume, "Failed", "Warning", "VolumeFailedDelete",
                f'error getting deleter volume plugin for volume "{_name(volume)}": '
                "no deletable volume plugin matched")
        elif policy == "Recycle":
            await self.binder.volume_phase_with_event(
                volume, "Failed", "Warning", "VolumeFailedRecycle",
                "No recycler plugin found for the volume!")
        else:
            await self.binder.volume_phase_with_event(
                volume, "Failed", "Warning", "VolumeUnknownReclaimPolicy",
                "Volume has unrecognized PersistentVolumeReclaimPolicy")


def _name(obj: Obj) -> str:
    return str(vc.meta(obj).get("name", ""))
