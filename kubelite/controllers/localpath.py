"""The local-path provisioner: hostPath PersistentVolumes under the data dir for claims of
a `rancher.io/local-path` class, as k3s ships it (rancher/local-path-provisioner, on
sig-storage-lib-external-provisioner's controller).

    claims informer  ─► claim key ─► sync_claim: the claim names this provisioner
                                     (volume.kubernetes.io/storage-provisioner), has a
                                     selected node, no volume yet
                                       ─► mkdir <storage>/<pv>_<namespace>_<claim> (0777)
                                       ─► create PV pvc-<claim uid>: hostPath, node
                                          affinity kubernetes.io/hostname In [node],
                                          capacity = request, claimRef = the claim
    volumes informer ─► volume key ─► sync_volume: a PV this provisioner made, Released,
                                      reclaim Delete ─► remove the directory, delete the PV

The PV binder then binds the claim to the PV its claimRef names. Upstream's provisioner
runs a helper pod on the node to make or remove the directory; kubelite's nodes share
this machine's file system, so the loop does it itself, in a thread. The storage dir is
`<data dir>/storage`, handed over by the server (`LoopContext.storage_dir`); without one
the loop provisions nothing and says so on the claim.

Safety: a directory is removed only when it sits directly in the storage dir under the
name this loop gives (`<pv name>_...`); a PV naming any other path keeps its data and the
PV object, with a VolumeFailedDelete Event, since anyone can create a PV carrying the
provisioned-by annotation.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from kubelite.client.controller import Controller, PermanentError
from kubelite.api import volume_claims as vc
from kubelite.controllers.context import LoopContext
from kubelite.controllers.pv_matching import Obj
from kubelite.machinery import errors

PROVISIONER = "rancher.io/local-path"
HOSTNAME_LABEL = "kubernetes.io/hostname"
SUPPORTED_ACCESS_MODES = ("ReadWriteOnce", "ReadWriteOncePod")


def folder_name(pv_name: str, claim: Obj) -> str:
    m = vc.meta(claim)
    return f"{pv_name}_{m.get('namespace', '')}_{m.get('name', '')}"


def wants_provisioning(claim: Obj, storage_class: Obj | None) -> bool:
    """shouldProvision: unbound, naming this provisioner, of a class it serves, and, for
    a class that waits for the first consumer, with a node chosen."""
    notes = vc.annotations_of(claim)
    if vc.spec(claim).get("volumeName") or storage_class is None:
        return False
    if storage_class.get("provisioner") != PROVISIONER:
        return False
    asked = (notes.get(vc.ANN_STORAGE_PROVISIONER), notes.get(vc.ANN_BETA_STORAGE_PROVISIONER))
    if PROVISIONER not in asked:
        return False
    return storage_class.get("volumeBindingMode") != vc.WAIT_FOR_FIRST_CONSUMER or \
        vc.ANN_SELECTED_NODE in notes


def refusal(claim: Obj) -> str:
    """What local-path cannot provision ("" if nothing)."""
    if vc.spec(claim).get("selector") is not None:
        return "claim.Spec.Selector is not supported"
    if any(m not in SUPPORTED_ACCESS_MODES for m in vc.spec(claim).get("accessModes") or ()):
        return "NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes"
    if vc.ANN_SELECTED_NODE not in vc.annotations_of(claim):
        return "configuration error, no node was specified"
    return ""


def volume_for(claim: Obj, storage_class: Obj, node: Obj, path: Path) -> Obj:
    """The PV for `claim` at `path` on `node` (Provision plus the library's claimRef,
    class and provisioned-by annotation)."""
    node_meta = vc.meta(node)
    host = (node_meta.get("labels") or {}).get(HOSTNAME_LABEL) or node_meta.get("name")
    request = ((vc.spec(claim).get("resources") or {}).get("requests") or {}).get("storage")
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": f"pvc-{vc.meta(claim).get('uid')}",
                     "annotations": {vc.ANN_DYNAMICALLY_PROVISIONED: PROVISIONER}},
        "spec": {
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
            "accessModes": list(vc.spec(claim).get("accessModes") or ()),
            "volumeMode": "Filesystem",
            "capacity": {"storage": request},
            "hostPath": {"path": str(path), "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": HOSTNAME_LABEL, "operator": "In", "values": [host]}]}]}},
            "claimRef": vc.claim_ref(claim),
            "storageClassName": vc.meta(storage_class).get("name"),
        },
    }


def owned_directory(volume: Obj, storage_dir: Path) -> Path | None:
    """The PV's hostPath when this provisioner could have made it: directly inside the
    storage dir, named after the PV; None otherwise."""
    raw = (vc.spec(volume).get("hostPath") or {}).get("path")
    if not raw:
        return None
    path = Path(os.path.normpath(str(raw)))
    name = str(vc.meta(volume).get("name", ""))
    if path.parent != Path(os.path.normpath(storage_dir)) or not path.name.startswith(f"{name}_"):
        return None
    return path


class LocalPathProvisionerLoop:
    name = "local-path-provisioner"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.storage_dir = ctx.settings.storage_dir
        self.recorder = ctx.recorder(PROVISIONER)
        self.claims = ctx.informers.informer("persistentvolumeclaims")
        self.volumes = ctx.informers.informer("persistentvolumes")
        self.classes = ctx.informers.informer("storageclasses.storage.k8s.io")
        self.nodes = ctx.informers.informer("nodes")
        self.claim_queue: Controller[str] = Controller(f"{self.name}-claims", self.sync_claim)
        self.volume_queue: Controller[str] = Controller(f"{self.name}-volumes", self.sync_volume)
        self.claims.add_event_handler(
            on_add=self._claim_changed, on_update=lambda _old, new: self._claim_changed(new))
        self.volumes.add_event_handler(
            on_add=self._volume_changed, on_update=lambda _old, new: self._volume_changed(new))

    async def run(self) -> None:
        await asyncio.gather(self.claim_queue.run(), self.volume_queue.run())

    def _claim_changed(self, claim: Obj) -> None:
        self.claim_queue.enqueue(vc.claim_key(claim))

    def _volume_changed(self, volume: Obj) -> None:
        if vc.annotations_of(volume).get(vc.ANN_DYNAMICALLY_PROVISIONED) == PROVISIONER:
            self.volume_queue.enqueue(str(vc.meta(volume).get("name", "")))

    # --- provisioning -----------------------------------------------------------------

    async def sync_claim(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        claim = self.claims.lister.get(namespace, name)
        if claim is None:
            return
        storage_class = self.classes.lister.get("", vc.claim_class(claim))
        if storage_class is None or not wants_provisioning(claim, storage_class):
            return
        pv_name = f"pvc-{vc.meta(claim).get('uid')}"
        if self.volumes.lister.get("", pv_name) is not None:
            return  # provisioned already; the binder binds it
        self.recorder.event(claim, "Normal", "Provisioning",
                            f'External provisioner is provisioning volume for claim "{key}"')
        try:
            volume = await self._provision(claim, storage_class, pv_name)
        except (OSError, ValueError, errors.StatusError) as err:
            self.recorder.event(claim, "Warning", "ProvisioningFailed", "failed to provision volume "
                                f'with StorageClass "{vc.meta(storage_class).get("name")}": {err}')
            if isinstance(err, ValueError):
                raise PermanentError(str(err)) from err  # the claim must change first
            raise
        self.recorder.event(claim, "Normal", "ProvisioningSucceeded",
                            f"Successfully provisioned volume {vc.meta(volume).get('name')}")

    async def _provision(self, claim: Obj, storage_class: Obj, pv_name: str) -> Obj:
        if reason := refusal(claim):
            raise ValueError(reason)
        if self.storage_dir is None:
            raise ValueError("no storage directory is configured for this provisioner")
        node_name = vc.annotations_of(claim)[vc.ANN_SELECTED_NODE]
        node = self.nodes.lister.get("", node_name)
        if node is None:
            raise errors.NotFound(f'nodes "{node_name}" not found')
        path = self.storage_dir / folder_name(pv_name, claim)
        await asyncio.to_thread(_make_directory, path)
        try:
            return await self.client.create("persistentvolumes", volume_for(claim, storage_class, node, path))
        except errors.AlreadyExists:
            return await self.client.get("persistentvolumes", pv_name)

    # --- deletion ---------------------------------------------------------------------

    async def sync_volume(self, name: str) -> None:
        volume = self.volumes.lister.get("", name)
        if volume is None or vc.annotations_of(volume).get(vc.ANN_DYNAMICALLY_PROVISIONED) != PROVISIONER:
            return
        if vc.phase(volume) != "Released" or \
                vc.spec(volume).get("persistentVolumeReclaimPolicy") != "Delete" or \
                vc.meta(volume).get("deletionTimestamp"):
            return
        path = owned_directory(volume, self.storage_dir) if self.storage_dir is not None else None
        if path is None:
            raw = (vc.spec(volume).get("hostPath") or {}).get("path")
            self.recorder.event(volume, "Warning", "VolumeFailedDelete",
                                f"failed to delete volume {name}: path {raw} is not in this "
                                "provisioner's storage directory")
            raise PermanentError(f"PV {name}: {raw} is not ours to remove")
        await asyncio.to_thread(_remove_directory, path)
        try:
            await self.client.delete("persistentvolumes", name,
                                     preconditions={"uid": str(vc.meta(volume).get("uid"))})
        except (errors.NotFound, errors.Conflict):
            pass  # gone already, or a new PV of that name: not ours to delete


def _make_directory(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)  # as the helper pod's `mkdir -m 0777`: any container user may write


def _remove_directory(path: Path) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass  # removed by an earlier sync whose PV delete did not go through
