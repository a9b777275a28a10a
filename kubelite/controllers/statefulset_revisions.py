"""A StatefulSet's ControllerRevisions (upstream's pkg/controller/history and
getStatefulSetRevisions in stateful_set_control.go).

- The update revision is the revision whose data equals the set's template now: an
  existing one is reused (renumbered to the newest if it is older, as after a
  rollback), otherwise one is created numbered one past the highest.
- A name taken by a revision with other data (a hash collision) bumps
  status.collisionCount and the next try hashes with it.
- The current revision is the one status.currentRevision names, or the update
  revision for a new set.
- truncate: beyond revisionHistoryLimit (default 10), the oldest revisions that are
  neither current, update nor used by a live pod are deleted.
"""

from __future__ import annotations

from kubelite.client.rest import Client
from kubelite.controllers.pods import Obj, meta
from kubelite.controllers.statefulset_util import new_revision, revision_data
from kubelite.machinery import errors

RESOURCE = "controllerrevisions.apps"
MAX_COLLISION_TRIES = 10


def number(revision: Obj) -> int:
    return int(revision.get("revision") or 0)


class Revisions:
    def __init__(self, client: Client, set_: Obj, revisions: list[Obj]) -> None:
        self.client = client
        self.set_ = set_
        self.namespace = str(meta(set_).get("namespace") or "")
        self.revisions = sorted(revisions, key=lambda r: (number(r), meta(r)["name"]))
        self.collision_count = int((set_.get("status") or {}).get("collisionCount") or 0)

    async def current_and_update(self) -> tuple[Obj, Obj]:
        update = await self._update_revision()
        wanted = (self.set_.get("status") or {}).get("currentRevision")
        current = next((r for r in self.revisions if meta(r)["name"] == wanted), update)
        return current, update

    async def _update_revision(self) -> Obj:
        data = revision_data(self.set_)
        newest = number(self.revisions[-1]) if self.revisions else 0
        equal = [r for r in self.revisions if r.get("data") == data]
        if equal:
            found = equal[-1]
            if number(found) == newest:
                return found
            renumbered = await self.client.update(
                RESOURCE, {**found, "revision": newest + 1}, namespace=self.namespace)
            self.revisions = [r for r in self.revisions if r is not found] + [renumbered]
            return renumbered
        for _ in range(MAX_COLLISION_TRIES):
            revision = new_revision(self.set_, newest + 1, self.collision_count)
            try:
                created = await self.client.create(RESOURCE, revision, namespace=self.namespace)
            except errors.AlreadyExists:
                existing = await self.client.get(RESOURCE, meta(revision)["name"],
                                                 namespace=self.namespace)
                if existing.get("data") == data:
                    return existing  # ours, not yet in the cache
                self.collision_count += 1
                continue
            self.revisions.append(created)
            return created
        raise RuntimeError(f"no free ControllerRevision name after {MAX_COLLISION_TRIES} "
                           "hash collisions")

    async def truncate(self, keep: set[str]) -> None:
        limit = (self.set_.get("spec") or {}).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        removable = [r for r in self.revisions if meta(r)["name"] not in keep]
        for revision in removable[:max(len(removable) - limit, 0)]:
            try:
                await self.client.delete(RESOURCE, meta(revision)["name"],
                                         namespace=self.namespace)
            except errors.NotFound:
                continue
