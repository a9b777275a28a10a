"""metadata.managedFields: who owns which fields of an object.

Each entry records a manager, the operation it used ("Apply" or "Update"), the
apiVersion it spoke, when it last changed the object and, as `fieldsV1`, the set of
fields it owns (see fieldpath.py for the encoding). As in kube-apiserver
(staging/src/k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager and
sigs.k8s.io/structured-merge-diff/merge/update.go):

- A manager is identified by name, operation and subresource, plus the apiVersion
  for Update managers, so one client may hold both an Apply and an Update entry.
- An ordinary create/update/patch (`update_managed_fields`) gives its manager the
  fields whose values it added or changed, takes them away from everyone else, and
  takes removed fields away from all owners. Managers left with nothing are dropped,
  and a manager's time stamp moves only when it took fields.
- apiVersion, kind, the object's own metadata node and the server-owned metadata
  fields (name, namespace, uid, resourceVersion, generation, creationTimestamp,
  managedFields, selfLink) are never owned by anyone.
- Entries are written Apply first, then oldest first, then by manager name.

Left out: the cap of ten Update managers (upstream folds older ones into
"ancient-changes") and the "before-first-apply" owner of objects that predate
managed fields.
"""

from __future__ import annotations

import calendar
import functools
import time as _time
from dataclasses import dataclass
from typing import Any

import orjson

from kubelite.api.catalogue import ResourceSpec
from kubelite.api.schemas import Schema, resolve, resource_schema
from kubelite.apiserver.patch.fieldpath import FieldSet, PathElement
from kubelite.apiserver.patch.typed import Comparison, compare, field_schema

APPLY = "Apply"
UPDATE = "Update"


def _path(*names: str) -> tuple[PathElement, ...]:
    return tuple(PathElement.field(n) for n in names)


# stripmeta.go: fields no manager ever owns.
STRIPPED = FieldSet.of(
    _path("apiVersion"),
    _path("kind"),
    _path("metadata"),
    *(
        _path("metadata", f)
        for f in (
            "name", "namespace", "creationTimestamp", "selfLink", "uid",
            "clusterName", "generation", "managedFields", "resourceVersion",
        )
    ),
)


@dataclass(frozen=True, slots=True)
class ManagerKey:
    """What tells managers apart (upstream's BuildManagerIdentifier)."""

    manager: str
    operation: str
    api_version: str  # "" for Apply managers: one applier, whatever version it sends
    subresource: str = ""


@dataclass(slots=True)
class Entry:
    manager: str
    operation: str
    api_version: str
    time: str | None
    fields: FieldSet
    subresource: str = ""

    @property
    def key(self) -> ManagerKey:
        version = "" if self.operation == APPLY else self.api_version
        return ManagerKey(self.manager, self.operation, version, self.subresource)


Managers = dict[ManagerKey, Entry]


def decode(managed: list[dict[str, Any]] | None) -> Managers:
    """managedFields entries by manager key; a later duplicate wins."""
    out: Managers = {}
    for raw in managed or ():
        entry = Entry(
            manager=raw.get("manager", ""),
            operation=raw.get("operation", ""),
            api_version=raw.get("apiVersion", ""),
            time=raw.get("time"),
            fields=_decode_fields(raw.get("fieldsV1") or {}),
            subresource=raw.get("subresource", ""),
        )
        out[entry.key] = entry
    return out


# Most writes carry the same few field sets again (every update of an object decodes
# its creator's entry, unchanged), so a stored set is decoded, and its encoding made,
# once per distinct value. The FieldSets shared this way are never edited in place:
# the set algebra returns new sets. Encodings are kept as bytes, so each object gets
# dicts of its own. The caches are small, a working set, and keep what was used last:
# a stream of one-off sets (each pod's status entry names its own IP) must not push
# out the few that every write of a busy kind shares (a node Lease's entry).
_DECODED: dict[bytes, FieldSet] = {}
_CANONICAL: dict[int, tuple[FieldSet, bytes]] = {}  # the encodings of _DECODED's sets
_MAX_CACHED = 1_000


def _decode_fields(raw: Any) -> FieldSet:
    if not isinstance(raw, dict):
        return FieldSet.from_fields_v1(raw)
    try:
        key = orjson.dumps(raw)
    except (orjson.JSONEncodeError, TypeError):
        return FieldSet.from_fields_v1(raw)
    fields = _DECODED.pop(key, None)
    if fields is None:
        if len(_DECODED) >= _MAX_CACHED:
            evicted = _DECODED.pop(next(iter(_DECODED)))  # the least recently used
            _CANONICAL.pop(id(evicted), None)
        fields = FieldSet.from_fields_v1(raw)
        _CANONICAL[id(fields)] = (fields, orjson.dumps(
            fields.to_fields_v1(emit_child=_encode_subtree)))
    _DECODED[key] = fields  # now the most recently used
    return fields


def _encode_fields(fields: FieldSet) -> dict[str, Any]:
    hit = _CANONICAL.get(id(fields))
    if hit is not None and hit[0] is fields:
        out: dict[str, Any] = orjson.loads(hit[1])
        return out
    # A set made by this write. Its top-level subtrees may still be those of the
    # create parts (_compare_create), shared from one pod of a template to the next.
    return fields.to_fields_v1(emit_child=_encode_subtree)


_SUBTREES: dict[tuple[int, bool], tuple[FieldSet, bytes]] = {}


def _encode_subtree(fields: FieldSet, include_self: bool) -> dict[str, Any]:
    key = (id(fields), include_self)
    hit = _SUBTREES.pop(key, None)
    if hit is None or hit[0] is not fields:
        if len(_SUBTREES) >= _MAX_CACHED:
            del _SUBTREES[next(iter(_SUBTREES))]
        hit = (fields, orjson.dumps(fields.emit(include_self)))
    _SUBTREES[key] = hit
    out: dict[str, Any] = orjson.loads(hit[1])
    return out


@functools.lru_cache(maxsize=4096)
def _seconds(stamp: str | None) -> int:
    if not stamp:
        return 0
    try:
        return calendar.timegm(_time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return 0


def encode(managers: Managers) -> list[dict[str, Any]]:
    """managedFields entries in upstream's field order and sort order."""
    entries = [e for e in managers.values() if not e.fields.empty()]
    entries.sort(key=lambda e: (e.operation, _seconds(e.time), e.manager, e.api_version, e.subresource))
    out: list[dict[str, Any]] = []
    for e in entries:
        raw: dict[str, Any] = {"manager": e.manager, "operation": e.operation, "apiVersion": e.api_version}
        if e.time:
            raw["time"] = e.time
        raw["fieldsType"] = "FieldsV1"
        raw["fieldsV1"] = _encode_fields(e.fields)
        if e.subresource:
            raw["subresource"] = e.subresource
        out.append(raw)
    return out


def without_ignored(fields: FieldSet, ignored: FieldSet | None) -> FieldSet:
    fields = fields.difference(STRIPPED)
    return fields.recursive_difference(ignored) if ignored is not None else fields


def drop_empty(managers: Managers) -> None:
    for key in [k for k, e in managers.items() if e.fields.empty()]:
        del managers[key]


def update_managed_fields(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    operation: str,
    api_version: str,
    schema: Schema | None,
    managed: list[dict[str, Any]] | None,
    *,
    now: str,
    subresource: str = "",
    ignored: FieldSet | None = None,
) -> list[dict[str, Any]]:
    """The managedFields after a create (`old` None) or update from `old` to `new`
    by `manager`. `ignored` paths (and all below them) are never tracked: pass
    `status` for a main resource and `spec`... for a status subresource, as
    upstream's reset fields do."""
    managers = decode(managed)
    diff = compare(old, new, schema) if old is not None else _compare_create(new, schema)
    changed = diff.added.union(diff.modified) if not diff.modified.empty() else diff.added
    taken = without_ignored(changed, ignored)
    removed = diff.removed
    for entry in managers.values():
        # Changing a field takes it from its owners (an update always forces).
        if entry.fields.intersects(taken) or entry.fields.intersects(removed):
            entry.fields = entry.fields.difference(taken).difference(removed)
    key = Entry(manager, operation, api_version, None, FieldSet(), subresource).key
    if not taken.empty():
        previous = managers.get(key)
        fields = taken.union(previous.fields) if previous else taken
        managers[key] = Entry(manager, operation, api_version, now, fields, subresource)
    drop_empty(managers)
    return encode(managers)


# What a create adds, by top-level field: pods made from one template share their
# spec byte for byte, and walking it was most of a create's managedFields cost.
_CREATE_PARTS: dict[tuple[int, str, bytes], tuple[Schema | None, Comparison]] = {}
_MAX_CREATE_PARTS = 256


def _compare_create(new: dict[str, Any], schema: Schema | None) -> Comparison:
    """`compare(create_baseline(new), new)`, one top-level field at a time (the walk
    compares each field on its own, and the baseline's fields come from new's)."""
    baseline = create_baseline(new, schema)
    out = Comparison()
    for key, value in new.items():
        if type(value) in _SCALARS and key not in baseline:
            # A leaf set on create is added, and nothing else (an Event is mostly these).
            out.added.members.add(PathElement.field(key))
            continue
        base = {key: baseline[key]} if key in baseline else {}
        try:
            cache_key = (id(schema), key, orjson.dumps([base, value]))
        except (orjson.JSONEncodeError, TypeError):
            part = compare(base, {key: value}, schema)
        else:
            hit = _CREATE_PARTS.get(cache_key)
            if hit is None or hit[0] is not schema:
                if len(_CREATE_PARTS) >= _MAX_CREATE_PARTS:
                    _CREATE_PARTS.clear()
                hit = _CREATE_PARTS[cache_key] = (schema, compare(base, {key: value}, schema))
            part = hit[1]
        # Every path of a part starts at its own top-level field, so the parts are
        # disjoint and their union is their top levels side by side: no walk, and
        # the subtrees stay shared with the cached part (the set algebra never edits
        # a set in place).
        for whole, piece in ((out.added, part.added), (out.modified, part.modified),
                             (out.removed, part.removed)):
            whole.members |= piece.members
            whole.children.update(piece.children)
    return out


_SCALARS = frozenset({str, int, float, bool})


def record_update(spec: ResourceSpec, old: dict[str, Any] | None, new: dict[str, Any], *,
                  manager: str, subresource: str, now: str) -> None:
    """Set new's metadata.managedFields after an ordinary create (`old` None) or update
    of a `spec` resource by `manager`, through `subresource` ("" for the object)."""
    meta = new.setdefault("metadata", {})
    entries = update_managed_fields(
        old, new, manager=manager, operation=UPDATE,
        api_version=new.get("apiVersion", spec.gvk().api_version),
        subresource=subresource, schema=resource_schema(spec),
        managed=(old or {}).get("metadata", {}).get("managedFields") or [],
        now=now, ignored=reset_fields(spec, subresource))
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)


# Struct fields that a Go object always has, even empty (they are not pointers), so
# that on create upstream compares against an object that already holds them and
# does not record them as added nodes. The schemas do not say which fields are
# pointers; these are the ones the built-in kinds hold by value.
_BY_VALUE = frozenset({"metadata", "spec", "status", "template", "strategy", "updateStrategy", "jobTemplate"})


def create_baseline(new: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
    """The empty object a create is compared against: for a built-in kind, by-value
    struct fields present in `new` exist, empty, in the baseline. A custom resource
    starts from nothing, so its maps are added nodes (upstream's `"f:spec": {".": {}`)."""
    if schema is None or "x-kubernetes-group-version-kind" not in schema:
        return {}
    return _baseline(new, schema)


def _baseline(new: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
    # Required fields are written without omitempty, so they appear as null.
    required = set(resolve(schema).get("required") or ()) if schema is not None else set()
    out: dict[str, Any] = {}
    for key, value in new.items():
        sub_schema, declared = field_schema(schema, key)
        if key in _BY_VALUE and declared and isinstance(value, dict):
            out[key] = _baseline(value, sub_schema)
        elif key in required:
            out[key] = None
    return out


_STATUS = FieldSet.of((PathElement.field("status"),))
_SPEC = FieldSet.of((PathElement.field("spec"),))


def reset_fields(spec: ResourceSpec, subresource: str) -> FieldSet | None:
    """What a write through this endpoint never owns (upstream's reset fields): status
    for the main resource of a kind with a status subresource, spec for its status."""
    if "status" not in spec.subresources:
        return None
    return _SPEC if subresource == "status" else _STATUS
