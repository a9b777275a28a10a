"""VolumeBinding's PreBind half: write what Reserve promised, then tell when it is done
(upstream's bindAPIUpdate and checkBindings in volumebinding/binder.go).

`write_bindings` updates each promised PV (its claimRef) and each claim to provision (its
`volume.kubernetes.io/selected-node`) through the API, keeping what the server returned, as
upstream does; a write that fails leaves the earlier ones in place (there is no rollback:
the PV controller reconciles them). `bindings_done` then reads the informers' listers, the
API's view shared with the PV controller and provisioners, and answers:

- True once every claim is fully bound (volumeName and `pv.kubernetes.io/bind-completed`);
- False while the informer has not yet seen our own writes, or the binding is not done;
- BindingFailed when someone undid it: a PV whose claimRef was reset, a volume whose node
  affinity no longer admits the node, a claim whose selected-node annotation the
  provisioner removed to say it cannot provision there. The pod is then scheduled again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.client.rest import Client
from kubelite.client.store import Lister
from kubelite.scheduler.framework import Obj
from kubelite.scheduler.node_table import NodeTable
from kubelite.api import volume_claims as vc
from kubelite.scheduler.plugins import volume_matching as vm


class BindingFailed(Exception):
    """The PV controller or a provisioner undid what PreBind asked: schedule again."""


@dataclass(slots=True)
class PodVolumes:
    """What Reserve promised the pod on one node: PVs to bind and claims to provision."""

    node: Obj
    static: list[tuple[Obj, Obj]]  # (PV with its claimRef set, claim)
    provision: list[Obj]  # claims with the selected-node annotation


def resource_version(obj: Mapping[str, Any]) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


async def write_bindings(client: Client, volumes: PodVolumes) -> None:
    """PUT the promised PVs, then the claims to provision; raises the API's error."""
    for i, (volume, claim) in enumerate(volumes.static):
        volumes.static[i] = (await client.update("persistentvolumes", volume), claim)
    for i, claim in enumerate(volumes.provision):
        namespace = (claim.get("metadata") or {}).get("namespace")
        volumes.provision[i] = await client.update("persistentvolumeclaims", claim, namespace=namespace)


def _admits(volume: Obj, node: NodeTable) -> bool:
    return bool(vm.volume_affinity(volume, node)[0])


def _claim(claims: Lister, key: str) -> Obj | None:
    namespace, _, name = key.partition("/")
    return claims.get(namespace, name)


def bindings_done(volumes: PodVolumes, node: str, claims: Lister, pvs: Lister) -> bool:
    single = NodeTable(capacity=1)
    single.set_node(volumes.node)
    for written, claim in volumes.static:
        name = str((written.get("metadata") or {}).get("name", ""))
        volume = pvs.get("", name)
        api_claim = _claim(claims, vc.claim_key(claim))
        if volume is None:
            raise BindingFailed(f'failed to check binding: could not find v1.PersistentVolume "{name}"')
        if api_claim is None:
            raise BindingFailed("failed to check binding: could not find "
                                f'v1.PersistentVolumeClaim "{vc.claim_key(claim)}"')
        if resource_version(written) > resource_version(volume):
            return False  # our write has not reached the informer yet
        if not _admits(volume, single):
            raise BindingFailed(f'pv "{name}" node affinity doesn\'t match node "{node}": '
                                "no matching NodeSelectorTerms")
        if not ((volume.get("spec") or {}).get("claimRef") or {}).get("uid"):
            raise BindingFailed(f'ClaimRef got reset for pv "{name}"')
        if not vc.is_fully_bound(api_claim):
            return False
    for written in volumes.provision:
        key = vc.claim_key(written)
        api_claim = _claim(claims, key)
        if api_claim is None:
            raise BindingFailed(f'failed to check provisioning pvc: could not find v1.PersistentVolumeClaim "{key}"')
        if resource_version(written) > resource_version(api_claim):
            return False
        name = (api_claim.get("metadata") or {}).get("name", "")
        if not vc.annotations_of(api_claim):
            raise BindingFailed(f'selectedNode annotation reset for PVC "{name}"')
        if vc.annotations_of(api_claim).get(vc.ANN_SELECTED_NODE) != node:
            raise BindingFailed(f'provisioning failed for PVC "{name}"')  # the provisioner gave up
        if volume_name := (api_claim.get("spec") or {}).get("volumeName"):
            volume = pvs.get("", volume_name)
            if volume is None:
                return False  # not seen yet; a deleted PV unbinds the claim in time
            if not _admits(volume, single):
                raise BindingFailed(f'pv "{volume_name}" node affinity doesn\'t match node "{node}": '
                                    "no matching NodeSelectorTerms")
        if not vc.is_fully_bound(api_claim):
            return False
    return True
