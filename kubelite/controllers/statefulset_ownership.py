"""What a StatefulSet owns: the orphans it adopts and the ownership of its claims
(upstream's stateful_set.go getPodStatefulSets / adoptOrphanRevisions and
stateful_set_utils.go).

Adoption: an orphan pod is the set's to adopt when the set's selector matches it and
its name is one of the set's ordinals; an orphan ControllerRevision when the selector
matches its labels. Both go through ref_manager's claimer, which reads the set afresh
before the first adoption.

Claims: the ownerReferences the
persistentVolumeClaimRetentionPolicy asks for on the claims of the replicas in the
set's ordinal range (upstream's isClaimOwnerUpToDate / updateClaimOwnerRefForSetAndPod
in stateful_set_utils.go, for replicas not scaled down).

    whenDeleted=Delete: the set owns the claim (a non-controller reference, as the
        claims this loop creates carry it), so deleting the set deletes it
    whenDeleted=Retain: no reference to the set
    a replica in range: no reference to its pod
    a condemned replica, whenScaled=Delete: its pod's reference and none to the set
        (condemned_claim_refs, applied by statefulset.py just before the deletion)

So a policy changed on a live set, or a set recreated after `--cascade=orphan` (the
garbage collector took the old set's references away), brings its claims' ownership
back in line. A claim is left alone when it names an earlier set or pod of the same
name (another uid: the garbage collector's business); when another controller owns
it, only this set's and pod's references are taken away.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable

from kubelite.client.informer import Informer
from kubelite.client.rest import Client
from kubelite.client.store import Indexer, Lister, object_key
from kubelite.controllers.pods import Obj, controller_of, meta, pod_key
from kubelite.controllers.ref_manager import adopt_orphan_revisions
from kubelite.controllers.replicaset import ORPHAN, OWNER_INDEX
from kubelite.controllers.statefulset_util import (
    claim_name, is_member_of, non_controller_ref, ordinal_of, replicas, retention,
    start_ordinal)
from kubelite.machinery import errors, labels

FreshSet = Callable[[], Awaitable[Obj]]


def selector_of(set_: Obj) -> labels.Selector:
    return labels.selector_from_label_selector((set_.get("spec") or {}).get("selector"))


def adopting_sets(sets: Lister, pod: Obj) -> list[str]:
    """The keys of the sets that would adopt `pod`, if it is an orphan."""
    pod_labels = meta(pod).get("labels") or {}
    if not pod_labels or controller_of(pod) is not None or meta(pod).get("deletionTimestamp"):
        return []
    keys = []
    for set_ in sets.list(meta(pod).get("namespace")):
        try:
            if selector_of(set_).matches(pod_labels) and is_member_of(set_, pod):
                keys.append(object_key(set_))
        except errors.StatusError:
            continue  # an invalid selector matches nothing
    return keys


async def claim_revisions(client: Client, revisions: Indexer, set_: Obj,
                          selector: labels.Selector, fresh: FreshSet) -> list[Obj]:
    """The set's ControllerRevisions, orphans its selector matches adopted first: a set
    recreated over orphaned pods finds their revision, so they are not rolled."""
    namespace = str(meta(set_).get("namespace") or "")
    owned = list(revisions.by_index(OWNER_INDEX, str(meta(set_).get("uid"))))
    adopted = await adopt_orphan_revisions(
        client, set_, selector, fresh, list(revisions.by_index(OWNER_INDEX, ORPHAN + namespace)))
    return [*owned, *adopted]


def members(pods: Informer, set_: Obj, selector: labels.Selector,
            claimed: list[Obj]) -> list[Obj]:
    """The set's pods from the cache after a pass: those it controls there, and those
    it claimed this sync that the cache does not show as its own yet."""
    uid = meta(set_).get("uid")
    found = {pod_key(p): p for p in pods.indexer.by_index(OWNER_INDEX, str(uid))
             if is_member_of(set_, p) and selector.matches(meta(p).get("labels") or {})}
    for pod in claimed:
        latest = pods.lister.get(meta(pod).get("namespace", ""), meta(pod)["name"])
        if latest is not None and pod_key(latest) not in found \
                and meta(latest).get("uid") == meta(pod).get("uid") \
                and (controller_of(latest) or {}).get("uid") in (None, uid):
            found[pod_key(latest)] = latest
    return list(found.values())


def _names(ref: Obj, obj: Obj, kind: str) -> bool:
    return ref.get("kind") == kind and ref.get("name") == meta(obj).get("name")


def _refs_if_current(set_: Obj, pod: Obj, claim: Obj) -> list[Obj] | None:
    """The claim's ownerReferences, or None when one names an earlier set or pod of
    these names (another uid): then the claim is not this loop's to change."""
    refs: list[Obj] = list(meta(claim).get("ownerReferences") or [])
    set_uid, pod_uid = meta(set_).get("uid"), meta(pod).get("uid")
    for ref in refs:
        if (_names(ref, set_, "StatefulSet") and ref.get("uid") != set_uid) \
                or (_names(ref, pod, "Pod") and ref.get("uid") != pod_uid):
            return None
    return refs


def claim_owner_refs(set_: Obj, pod: Obj, claim: Obj) -> list[Obj] | None:
    """The ownerReferences the claim of `pod` (a replica in range) should carry, or
    None when it carries them already or is not this loop's to change."""
    refs = _refs_if_current(set_, pod, claim)
    if refs is None:
        return None
    set_uid, pod_uid = meta(set_).get("uid"), meta(pod).get("uid")
    ours = [r for r in refs if r.get("uid") in (set_uid, pod_uid)]
    others = [r for r in refs if r.get("uid") not in (set_uid, pod_uid)]
    if any(r.get("controller") for r in others):
        return others if ours else None  # another controller's claim: only scrub ours
    wanted = list(others)
    if retention(set_, "whenDeleted") == "Delete":
        wanted.append(next((r for r in ours if r.get("uid") == set_uid),
                           non_controller_ref({**set_, "kind": "StatefulSet",
                                               "apiVersion": "apps/v1"})))
    return None if wanted == refs else wanted


def condemned_claim_refs(set_: Obj, pod: Obj, claim: Obj) -> list[Obj] | None:
    """whenScaled=Delete: the ownerReferences of a scaled-down pod's claim, which is the
    pod's alone (upstream: a pod ref and no set ref), so the garbage collector deletes it
    with the pod even when whenDeleted=Delete made the live set an owner too; None when
    so already or not this loop's to change."""
    refs = _refs_if_current(set_, pod, claim)
    if refs is None:
        return None
    set_uid, pod_uid = meta(set_).get("uid"), meta(pod).get("uid")
    wanted = [r for r in refs if r.get("uid") != set_uid]
    if not any(r.get("uid") == pod_uid for r in wanted):
        wanted.append(non_controller_ref({**pod, "kind": "Pod", "apiVersion": "v1"}))
    return None if wanted == refs else wanted


async def match_retention_policy(client: Client, claims: Lister, set_: Obj,
                                 pods: list[Obj]) -> None:
    """Update the claims of the replicas in range whose ownership the policy does not
    match (read from the claims' cache; a conflict raises, for a later sync)."""
    start, count = start_ordinal(set_), replicas(set_)
    namespace = str(meta(set_).get("namespace") or "")
    templates = (set_.get("spec") or {}).get("volumeClaimTemplates") or ()
    for pod in pods:
        if not start <= ordinal_of(pod) < start + count or meta(pod).get("deletionTimestamp"):
            continue
        for template in templates:
            claim = claims.get(namespace, claim_name(template, set_, ordinal_of(pod)))
            if claim is None:
                continue
            refs = claim_owner_refs(set_, pod, claim)
            if refs is None:
                continue
            updated = copy.deepcopy(claim)
            updated["metadata"]["ownerReferences"] = refs
            try:
                await client.update("persistentvolumeclaims", updated, namespace=namespace)
            except errors.NotFound:
                continue
