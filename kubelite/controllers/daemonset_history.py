"""A DaemonSet's ControllerRevisions (upstream's pkg/controller/daemon/update.go:
constructHistory, getPatch, and controller/history's HashControllerRevision).

Each pod template a DaemonSet has had is one ControllerRevision `<ds>-<hash>` owned by
the DaemonSet, holding `{"spec": {"template": ... "$patch": "replace"}}` (what `kubectl
rollout undo ds` applies back), labelled with the template's labels and
`controller-revision-hash: <hash>`, numbered by `revision`. The current template's
revision carries the highest number (bumped when an old template comes back); pods made
from it carry the same hash label, which is how the loop tells updated pods from old.

The hash is FNV-1 32 over the revision data (plus the collision count, if any), encoded
as rand.SafeEncodeString, as upstream computes it. Histories beyond
`revisionHistoryLimit` (default 10) lose their oldest revisions no pod still uses.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from kubelite.client.rest import Client
from kubelite.controllers.deployment_util import safe_encode
from kubelite.controllers.pod_control import controller_ref
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors

HASH_LABEL = "controller-revision-hash"
REVISIONS = "controllerrevisions.apps"
DEFAULT_HISTORY_LIMIT = 10
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193


def fnv32(data: bytes) -> int:
    """FNV-1 (multiply, then xor), Go's hash/fnv New32."""
    state = _FNV_OFFSET
    for byte in data:
        state = ((state * _FNV_PRIME) & 0xFFFFFFFF) ^ byte
    return state


def revision_data(ds: Obj) -> Obj:
    """getPatch: the template to restore, replacing the whole template."""
    template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def _raw(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def revision_hash(data: Obj, collision_count: int | None = None) -> str:
    raw = _raw(data)
    if collision_count is not None:
        raw += str(collision_count).encode()
    return safe_encode(str(fnv32(raw)))


def revision_number(revision: Obj) -> int:
    return int(revision.get("revision") or 0)


def _same_data(revision: Obj, data: Obj) -> bool:
    return _raw(revision.get("data")) == _raw(data)


async def current_revision(client: Client, ds: Obj, revisions: list[Obj]) -> tuple[str, Obj]:
    """The hash of `ds`'s template and its ControllerRevision, made or renumbered as
    needed (constructHistory)."""
    data = revision_data(ds)
    top = max((revision_number(r) for r in revisions), default=0)
    for revision in revisions:
        if _same_data(revision, data):
            hash_ = (meta(revision).get("labels") or {}).get(HASH_LABEL) or revision_hash(data)
            if revision_number(revision) < top:
                revision = await client.patch(REVISIONS, meta(revision)["name"],
                                              {"revision": top + 1},
                                              namespace=meta(ds)["namespace"])
            return hash_, revision
    collisions = int((ds.get("status") or {}).get("collisionCount") or 0) or None
    template_labels = ((ds["spec"].get("template") or {}).get("metadata") or {}).get("labels")
    while True:
        hash_ = revision_hash(data, collisions)
        body: Obj = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                     "metadata": {"name": f"{meta(ds)['name'][:223]}-{hash_}",
                                  "labels": {**(template_labels or {}), HASH_LABEL: hash_},
                                  "ownerReferences": [controller_ref(ds)]},
                     "data": data, "revision": top + 1}
        try:
            created = await client.create(REVISIONS, body, namespace=meta(ds)["namespace"])
            return hash_, created
        except errors.AlreadyExists:
            existing = await client.get(REVISIONS, body["metadata"]["name"],
                                        namespace=meta(ds)["namespace"])
            if _same_data(existing, data):
                # ours, or an orphan with our template that the claim adopts (upstream's
                # Match compares data alone): never a collision that would roll the pods
                return hash_, existing
            collisions = (collisions or 0) + 1  # a different template under this name


async def clean_history(client: Client, ds: Obj, revisions: list[Obj], current: str,
                        hashes_in_use: set[str]) -> None:
    """Delete the oldest revisions past revisionHistoryLimit that no pod uses."""
    limit = (ds.get("spec") or {}).get("revisionHistoryLimit")
    limit = DEFAULT_HISTORY_LIMIT if limit is None else int(limit)
    old = [r for r in revisions if meta(r).get("name") != current
           and (meta(r).get("labels") or {}).get(HASH_LABEL) not in hashes_in_use]
    excess = len(revisions) - 1 - limit
    for revision in sorted(old, key=revision_number)[:max(excess, 0)]:
        try:
            await client.delete(REVISIONS, meta(revision)["name"],
                                namespace=meta(ds)["namespace"])
        except errors.NotFound:
            pass
