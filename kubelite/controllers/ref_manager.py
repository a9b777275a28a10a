"""Claiming pods: adoption and release by selector (upstream's PodControllerRefManager,
pkg/controller/controller_ref_manager.go).

For each candidate pod of an owner:

- controlled by another owner: not ours, left alone;
- controlled by us: kept while the selector matches; when it no longer does (its
  labels changed, or ours), released unless we are being deleted, by removing our
  ownerReference; the loop then counts it no more and replaces it;
- an orphan that matches, is not being deleted and is in our namespace: adopted by
  adding our controller ownerReference, unless we are being deleted.

"Matches" is the selector, and the claimer's `accept` test when it has one (the
StatefulSet loop's: the pod's name is one of the set's ordinals).

Adoption first reads the owner from the API server, not the cache, once per claim (as
upstream's RecheckDeletionTimestamp): a ReplicaSet deleted (or deleted and recreated
under the same name) a moment ago must not adopt pods the garbage collector is about
to orphan. Both patches carry the pod's uid, so a pod deleted and recreated under the
same name is never touched by mistake (the write then fails and is ignored).

The claimed pods come back; errors on some pods do not stop the others, and the first
is raised once all have been tried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kubelite.client.rest import Client
from kubelite.controllers.pod_control import controller_ref
from kubelite.controllers.pods import Obj, controller_of, meta
from kubelite.machinery import errors, labels

FreshOwner = Callable[[], Awaitable[Obj]]
Accept = Callable[[Obj], bool]


class CannotAdopt(Exception):
    """The owner is gone or going: it must not adopt."""


class PodClaimer:
    resource = "pods"  # what is claimed (the Deployment loop claims replicasets.apps)

    def __init__(self, client: Client, owner: Obj, selector: labels.Selector,
                 fresh_owner: FreshOwner, accept: Accept | None = None) -> None:
        self.client = client
        self.owner = owner
        self.selector = selector
        self.accept = accept  # a further test besides the selector (upstream's filter)
        self._fresh_owner = fresh_owner
        self._adoption_checked: Exception | None | bool = False  # False: not checked yet

    async def claim(self, pods: list[Obj]) -> list[Obj]:
        claimed: list[Obj] = []
        failures: list[Exception] = []
        uid = meta(self.owner).get("uid")
        for pod in pods:
            # the usual case, decided without a coroutine: ours already, and still selected
            ref = controller_of(pod)
            if ref is not None and ref.get("uid") == uid \
                    and self.selector.matches(meta(pod).get("labels") or {}) \
                    and (self.accept is None or self.accept(pod)):
                claimed.append(pod)
                continue
            try:
                if await self._claim_one(pod):
                    claimed.append(pod)
            except (errors.StatusError, CannotAdopt) as err:
                failures.append(err)
        if failures:
            raise failures[0]
        return claimed

    async def _claim_one(self, pod: Obj) -> bool:
        owner_meta = meta(self.owner)
        matches = self.selector.matches(meta(pod).get("labels") or {}) \
            and (self.accept is None or self.accept(pod))
        ref = controller_of(pod)
        if ref is not None:
            if ref.get("uid") != owner_meta.get("uid"):
                return False
            if matches:
                return True
            if owner_meta.get("deletionTimestamp"):
                return False
            await self._release(pod)
            return False
        if owner_meta.get("deletionTimestamp") or not matches:
            return False
        if meta(pod).get("deletionTimestamp"):
            return False
        if owner_meta.get("namespace") and owner_meta["namespace"] != meta(pod).get("namespace"):
            return False
        return await self._adopt(pod)

    async def _can_adopt(self) -> None:
        if self._adoption_checked is False:
            self._adoption_checked = await self._recheck()
        if isinstance(self._adoption_checked, Exception):
            raise self._adoption_checked

    async def _recheck(self) -> Exception | None:
        m = meta(self.owner)
        what = f"{self.owner.get('kind')} {m.get('namespace')}/{m.get('name')}"
        try:
            fresh = await self._fresh_owner()
        except errors.NotFound:
            return CannotAdopt(f"original {what} is gone")
        if meta(fresh).get("uid") != m.get("uid"):
            return CannotAdopt(f"original {what} is gone: got uid {meta(fresh).get('uid')}, "
                               f"wanted {m.get('uid')}")
        if meta(fresh).get("deletionTimestamp"):
            return CannotAdopt(f"{m.get('namespace')}/{m.get('name')} has just been deleted "
                               f"at {meta(fresh)['deletionTimestamp']}")
        return None

    async def _adopt(self, pod: Obj) -> bool:
        await self._can_adopt()
        patch = {"metadata": {"ownerReferences": [controller_ref(self.owner)],
                              "uid": meta(pod).get("uid")}}
        try:
            await self.client.patch(self.resource, meta(pod)["name"], patch, type="strategic",
                                    namespace=meta(pod).get("namespace"))
        except errors.NotFound:
            return False  # gone meanwhile: nothing to adopt
        return True

    async def _release(self, pod: Obj) -> None:
        patch = {"metadata": {"ownerReferences": [{"$patch": "delete",
                                                   "uid": meta(self.owner).get("uid")}],
                              "uid": meta(pod).get("uid")}}
        try:
            await self.client.patch(self.resource, meta(pod)["name"], patch, type="strategic",
                                    namespace=meta(pod).get("namespace"))
        except (errors.NotFound, errors.Invalid):
            # gone, or no longer ours (another uid): nothing left to release
            pass


async def adopt_orphan_revisions(client: Client, owner: Obj, selector: labels.Selector,
                                 fresh_owner: FreshOwner, orphans: list[Obj]) -> list[Obj]:
    """The ControllerRevisions among `orphans` (no controller) that `selector` matches,
    adopted by `owner` (upstream's ClaimControllerRevisions for StatefulSets and
    DaemonSets): an owner recreated after Orphan propagation finds the revision its
    pods were made from, instead of taking its name for a hash collision."""
    matching = [r for r in orphans if controller_of(r) is None
                and selector.matches(meta(r).get("labels") or {})]
    if not matching:
        return []
    claimer = PodClaimer(client, owner, selector, fresh_owner)
    claimer.resource = "controllerrevisions.apps"
    return await claimer.claim(matching)
