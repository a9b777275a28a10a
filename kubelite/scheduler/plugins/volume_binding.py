"""VolumeBinding: a pod's PersistentVolumeClaims must be bound, or bindable, on its node
(upstream's pkg/scheduler/framework/plugins/volumebinding).

    PreFilter  the pod's claims, from the claims lister: none ─► Skip (the common pod pays
               nothing); missing, lost or deleting claim, or an unbound Immediate claim ─►
               UnschedulableAndUnresolvable with upstream's message
    Filter     every node at once: bound claims' PVs must accept the node (node affinity);
               WaitForFirstConsumer claims need an Available PV the node can reach, or a
               class whose provisioner can provision there (allowedTopologies)
    Reserve    assume the choice for the chosen node: PVs get a claimRef, claims to
               provision get `volume.kubernetes.io/selected-node`, in an overlay on the
               listers that later pods see, so no two pods are promised one PV
    PreBind    write those PVs and claims through the API, then wait (polling the listers,
               up to bindTimeoutSeconds, 600 by default) until the PV controller or the
               provisioner has fully bound every claim; a provisioner that gives up removes
               the selected-node annotation, and the pod is scheduled again; a pod deleted
               meanwhile stops the wait
    Unreserve  drop the overlay entries of the pod

The overlay entry of an object lives only while the lister still holds the version it was
assumed from: once the informer delivers a newer one (our own write, or anyone's), the API
object is the truth again. CSI storage capacity and volume-capacity scoring (the
StorageCapacityScoring gate, off in 1.35) are not implemented.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from kubelite.client.store import Lister
from kubelite.scheduler.binding_cycle import Handle
from kubelite.scheduler.config_args import SHAPE_POINT, decode_args
from kubelite.scheduler.config_decode import ListOf, Struct
from kubelite.scheduler.config_errors import ArgsError, invalid
from kubelite.scheduler.framework import Code, CycleState, Obj, Status, Verdict
from kubelite.scheduler.node_table import NodeTable
from kubelite.api import volume_claims as vc
from kubelite.scheduler.plugins import volume_matching as vm
from kubelite.scheduler.plugins.volume_prebind import (
    BindingFailed, PodVolumes, bindings_done, resource_version, write_bindings)
from kubelite.scheduler.queue import Clock, SystemClock

NAME = "VolumeBinding"
UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
NODE_CONFLICT = "node(s) had volume node affinity conflict"
BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
DEFAULT_BIND_TIMEOUT_SECONDS = 600
POLL_INTERVAL = 0.2  # upstream polls each second; a lister read costs nothing, a wait does


ARGS = Struct("v1.VolumeBindingArgs", {"bindTimeoutSeconds": "int64", "shape": ListOf(SHAPE_POINT)})


def claim_names(pod: Obj) -> list[tuple[str, bool]]:
    """(claim name, is a generic ephemeral volume) of the pod's volumes that use a claim."""
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or ():
        if claim := volume.get("persistentVolumeClaim"):
            out.append((str(claim.get("claimName", "")), False))
        elif volume.get("ephemeral") is not None:
            out.append((f"{(pod.get('metadata') or {}).get('name', '')}-{volume.get('name', '')}", True))
    return out


@dataclass(slots=True)
class _State:
    bound: list[Obj]
    to_bind: list[Obj]  # WaitForFirstConsumer claims not bound yet
    nodes: NodeTable | None = None  # the table Filter judged, valid until the cycle ends
    provision_only: list[Obj] = field(default_factory=list)  # already given a node
    matching: list[Obj] = field(default_factory=list)  # smallest request first
    candidates: list[tuple[list[Obj], bool]] = field(default_factory=list)
    choices: list[Any] = field(default_factory=list)
    volumes: PodVolumes | None = None


class VolumeBinding:
    name: ClassVar[str] = NAME
    watches: ClassVar[tuple[str, ...]] = ("persistentvolumeclaims", "persistentvolumes", "storageclasses")

    def __init__(self, *, bind_timeout_seconds: int = DEFAULT_BIND_TIMEOUT_SECONDS,
                 clock: Clock | None = None, poll_interval: float = POLL_INTERVAL) -> None:
        self.bind_timeout = float(bind_timeout_seconds)
        self.clock: Clock = clock or SystemClock()
        self.poll_interval = poll_interval
        self.handle: Handle | None = None
        self._claims: Lister | None = None
        self._volumes: Lister | None = None
        self._classes: Lister | None = None
        # (resource, key) -> (resourceVersion assumed from, assumed object)
        self._assumed: dict[tuple[str, str], tuple[int, Obj]] = {}

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> VolumeBinding:
        """From VolumeBindingArgs, validated as upstream's ValidateVolumeBindingArgs (with
        the StorageCapacityScoring gate off, as in 1.35)."""
        errors = decode_args(args, ARGS)
        timeout = args.get("bindTimeoutSeconds")
        timeout = DEFAULT_BIND_TIMEOUT_SECONDS if timeout is None else int(timeout)
        if timeout < 0:
            errors.append(invalid("bindTimeoutSeconds", timeout,
                                  "invalid BindTimeoutSeconds, should not be a negative value"))
        if args.get("shape") is not None:
            errors.append(invalid("shape", args["shape"], "unexpected field `shape`, remove it "
                                  "or turn on the feature gate StorageCapacityScoring"))
        if errors:
            raise ArgsError(errors)
        return cls(bind_timeout_seconds=timeout)

    def use_listers(self, listers: Mapping[str, Lister]) -> None:
        self._claims = listers["persistentvolumeclaims"]
        self._volumes = listers["persistentvolumes"]
        self._classes = listers["storageclasses"]
        self._assumed.clear()  # a new term: the listers are fresh

    def use_handle(self, handle: Handle) -> None:
        self.handle = handle

    # --- reads through the overlay ----------------------------------------------------

    def _current(self, resource: str, obj: Obj) -> Obj:
        key = (resource, vc.claim_key(obj))
        entry = self._assumed.get(key)
        if entry is None:
            return obj
        if entry[0] != resource_version(obj):
            del self._assumed[key]  # the informer has a newer version: it is the truth
            return obj
        return entry[1]

    def _claim(self, namespace: str, name: str) -> Obj | None:
        assert self._claims is not None
        found = self._claims.get(namespace, name)
        return self._current("pvc", found) if found is not None else None

    def _volume(self, name: str) -> Obj | None:
        assert self._volumes is not None
        found = self._volumes.get("", name)
        return self._current("pv", found) if found is not None else None

    def _class(self, name: str) -> Obj | None:
        assert self._classes is not None
        return self._classes.get("", name)

    def _assume(self, resource: str, original: Obj, assumed: Obj) -> None:
        self._assumed[(resource, vc.claim_key(original))] = (resource_version(original), assumed)

    # --- scheduling cycle -------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Status:
        names = claim_names(pod)
        if not names:
            return Status.skip()
        if self._claims is None:
            return Status(Code.ERROR, ("VolumeBinding has no listers",))
        meta = pod.get("metadata") or {}
        namespace = meta.get("namespace", "")
        bound: list[Obj] = []
        to_bind: list[Obj] = []
        immediate = False
        for name, ephemeral in names:
            claim = self._claim(namespace, name)
            reason = self._unusable(claim, name, ephemeral, pod)
            if reason:
                return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (reason,))
            assert claim is not None
            if vc.is_fully_bound(claim):
                bound.append(claim)
            elif (not (claim.get("spec") or {}).get("volumeName")
                  and vc.is_delay_binding(claim, self._class(vc.claim_class(claim)))):
                to_bind.append(claim)
            else:
                immediate = True  # Immediate, or prebound: the PV controller binds those
        if immediate:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (UNBOUND_IMMEDIATE,))
        state[self.name] = _State(bound, to_bind)
        return Status.success()

    @staticmethod
    def _unusable(claim: Obj | None, name: str, ephemeral: bool, pod: Obj) -> str:
        meta = pod.get("metadata") or {}
        if claim is None:
            if ephemeral:
                return f'waiting for ephemeral volume controller to create the persistentvolumeclaim "{name}"'
            return f'persistentvolumeclaim "{name}" not found'
        if (claim.get("status") or {}).get("phase") == "Lost":
            volume = (claim.get("spec") or {}).get("volumeName", "")
            return f'persistentvolumeclaim "{name}" bound to non-existent persistentvolume "{volume}"'
        if (claim.get("metadata") or {}).get("deletionTimestamp"):
            return f'persistentvolumeclaim "{name}" is being deleted'
        owners = (claim.get("metadata") or {}).get("ownerReferences") or ()
        if ephemeral and not any(o.get("controller") and o.get("uid") == meta.get("uid") for o in owners):
            ns = meta.get("namespace", "")
            return f"PVC {ns}/{name} was not created for pod {ns}/{meta.get('name', '')} (pod is not owner)"
        return ""

    def filter(self, state: CycleState, pod: Obj, nodes: NodeTable) -> Verdict:
        data: _State = state[self.name]
        data.nodes = nodes
        n = len(nodes)
        verdict = Verdict(n)
        conflict = np.zeros(n, dtype=np.bool_)
        undecided = np.ones(n, dtype=np.bool_)
        for claim in data.bound:  # per node, upstream stops at the first PV that fails
            volume = self._volume(str((claim.get("spec") or {}).get("volumeName", "")))
            if volume is None:
                verdict.reject(undecided.copy(), PV_NOT_EXIST, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
                break
            mismatch = undecided & ~vm.volume_affinity(volume, nodes)
            conflict |= mismatch
            undecided &= ~mismatch
        verdict.reject(conflict, NODE_CONFLICT, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        if data.to_bind:
            verdict.reject(self._unbindable(data, nodes), BIND_CONFLICT, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        return verdict

    def _unbindable(self, data: _State, nodes: NodeTable) -> Any:
        """Rows where some WaitForFirstConsumer claim can neither bind nor be provisioned."""
        n = len(nodes)
        unsatisfied = np.zeros(n, dtype=np.bool_)
        rows = np.ones(n, dtype=np.bool_)
        names = nodes.name_column()
        data.provision_only = [c for c in data.to_bind if vc.ANN_SELECTED_NODE in vc.annotations_of(c)]
        for claim in data.provision_only:  # already promised to a node: only that node will do
            elsewhere = names != vc.annotations_of(claim)[vc.ANN_SELECTED_NODE]
            unsatisfied |= elsewhere
            rows &= ~elsewhere
        data.matching = sorted((c for c in data.to_bind if c not in data.provision_only),
                               key=vc.storage_request)
        assert self._volumes is not None
        data.candidates = [vc.candidate_volumes(claim, [self._current("pv", pv) for pv in self._volumes.list()])
                           for claim in data.matching]
        data.choices = vm.choose_volumes(data.candidates, nodes, rows)
        for claim in data.provision_only:
            unsatisfied |= rows & ~self._provisionable(claim, nodes)
        for claim, choice in zip(data.matching, data.choices):
            needs = rows & (choice < 0)
            if needs.any():
                unsatisfied |= needs & ~self._provisionable(claim, nodes)
        return unsatisfied

    def _provisionable(self, claim: Obj, nodes: NodeTable) -> Any:
        """Rows where the claim's class could provision a volume (checkVolumeProvisions);
        ValueError, an error of the cycle as upstream's, when the class cannot be read."""
        class_name = vc.claim_class(claim)
        if not class_name:
            raise ValueError(f'no class for claim "{vc.claim_key(claim)}"')
        storage_class = self._class(class_name)
        if storage_class is None:
            raise ValueError(f'failed to find storage class "{class_name}"')
        provisioner = storage_class.get("provisioner") or ""
        if not provisioner or provisioner == vc.NOT_SUPPORTED_PROVISIONER:
            return np.zeros(len(nodes), dtype=np.bool_)
        return vm.topology_matches(storage_class, nodes)

    def reserve(self, state: CycleState, pod: Obj, node: str) -> Status:
        data: _State | None = state[self.name] if self.name in state else None
        if data is None or not data.to_bind:
            return Status.success()  # no claim, or all bound: nothing to promise
        row = data.nodes.row_of.get(node) if data.nodes is not None else None
        if row is None or data.nodes is None:
            return Status.from_error(ValueError(f'no pod volumes found for node "{node}"'))
        static, provision = [], []
        for claim, (volumes, _), choice in zip(data.matching, data.candidates, data.choices):
            if choice[row] >= 0:
                volume = volumes[int(choice[row])]
                static.append((vc.bind_volume_to_claim(volume, claim) or volume, claim))
                self._assume("pv", volume, static[-1][0])
            else:
                provision.append(claim)
        provision = [*data.provision_only, *provision]
        for claim in provision:
            self._assume("pvc", claim, vm.with_selected_node(claim, node))
        data.volumes = PodVolumes(data.nodes.nodes[row], static,
                                  [vm.with_selected_node(c, node) for c in provision])
        return Status.success()

    def unreserve(self, state: CycleState, pod: Obj, node: str) -> None:
        data: _State | None = state[self.name] if self.name in state else None
        if data is None or data.volumes is None:
            return
        for volume, _ in data.volumes.static:
            self._assumed.pop(("pv", vc.claim_key(volume)), None)
        for claim in data.volumes.provision:
            self._assumed.pop(("pvc", vc.claim_key(claim)), None)

    # --- binding cycle ----------------------------------------------------------------

    async def pre_bind(self, state: CycleState, pod: Obj, node: str) -> Status:
        data: _State | None = state[self.name] if self.name in state else None
        volumes = data.volumes if data is not None else None
        if volumes is None or not (volumes.static or volumes.provision):
            return Status.success()
        if self.handle is None:
            return Status.from_error(RuntimeError("VolumeBinding has no framework handle"))
        assert self._claims is not None and self._volumes is not None
        try:
            await write_bindings(self.handle.client, volumes)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the API's answer (a conflict), as upstream's AsStatus
            return Status.from_error(error)
        deadline = self.clock.now() + self.bind_timeout
        while True:
            if not self.handle.pod_exists(pod):  # deleted meanwhile: stop waiting for it
                name = (pod.get("metadata") or {}).get("name", "")
                return Status(Code.ERROR, (f'binding volumes: pod does not exist any more: pod "{name}" not found',))
            try:
                if bindings_done(volumes, node, self._claims, self._volumes):
                    return Status.success()
            except BindingFailed as error:
                return Status(Code.ERROR, (f"binding volumes: {error}",))
            if self.clock.now() >= deadline:
                return Status(Code.ERROR, ("binding volumes: context deadline exceeded",))
            await self.clock.sleep(self.poll_interval)
