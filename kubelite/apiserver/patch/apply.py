"""Server-side apply: merge an applied configuration into a live object.

`apply` follows sigs.k8s.io/structured-merge-diff's Updater.Apply as kube-apiserver
runs it (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager):

1. The configuration is merged over the live object (typed.merge): applied values
   win, list-map items merge by key, set items merge, everything else is kept.
2. The applier now owns exactly the fields its configuration sets.
3. Pruning: fields the applier owned after its previous apply and no longer sets
   are removed from the object, unless some other manager (Apply or Update) owns
   them; struct fields count as owned when anything below them is, so a removed
   struct goes as a whole only when nobody owns anything in it.
4. Conflicts: a field whose value changes and that another manager owns is a
   conflict (409, one cause per field) unless `force`, which moves ownership to the
   applier. Applying the value a field already has shares its ownership instead.
   Fields removed from the object are taken away from their owners.

The applier's time stamp moves when the object changed (or on its first apply).
"""

from __future__ import annotations

from typing import Any

from kubelite.api.schemas import Schema
from kubelite.apiserver.patch.fieldpath import FieldSet, path_string
from kubelite.apiserver.patch.managed_fields import (
    APPLY,
    UPDATE,
    Entry,
    ManagerKey,
    Managers,
    decode,
    drop_empty,
    encode,
    without_ignored,
)
from kubelite.apiserver.patch.typed import (
    FieldPathError,
    compare,
    ensure_named_fields_are_members,
    fields_of,
    merge,
    remove_items,
)
from kubelite.machinery.errors import BadRequest, Cause, Conflict


def apply(
    live: dict[str, Any],
    applied: dict[str, Any],
    manager: str,
    force: bool,
    schema: Schema | None,
    managed: list[dict[str, Any]] | None,
    *,
    now: str,
    subresource: str = "",
    ignored: FieldSet | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The object after `manager` applies `applied` to `live` (an empty dict for a
    create) and the new managedFields, which are also set on the returned object.
    `managed` is the live object's metadata.managedFields. Raises Conflict (409) on
    conflicts without `force`, BadRequest when the configuration cannot be typed."""
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise BadRequest("metadata.managedFields must be nil")
    try:
        applied_fields = fields_of(applied, schema, strict=True)
    except FieldPathError as e:
        raise BadRequest(f"failed to create typed patch object: {e}") from None
    applied_fields = without_ignored(applied_fields, ignored)
    api_version = applied.get("apiVersion") or live.get("apiVersion", "")

    managers = decode(managed)
    key = ManagerKey(manager, APPLY, "", subresource)
    last = managers.get(key)
    managers[key] = Entry(manager, APPLY, api_version, last.time if last else None, applied_fields, subresource)

    merged = merge(live, applied, schema)
    if last is not None and not last.fields.empty():
        merged = _prune(merged, managers, last.fields, schema)

    diff = compare(live, merged, schema)
    changed = diff.added.union(diff.modified)
    conflicts = {
        other: owned
        for other, entry in managers.items()
        if other != key and not (owned := entry.fields.intersection(changed)).empty()
    }
    if conflicts and not force:
        raise conflict_error(conflicts)
    for other, entry in managers.items():
        if other != key:
            entry.fields = entry.fields.difference(changed).difference(diff.removed)
    if last is None or merged != live:
        managers[key].time = now
    drop_empty(managers)

    new_managed = encode(managers)
    meta = merged.setdefault("metadata", {})
    if new_managed:
        meta["managedFields"] = new_managed
    else:
        meta.pop("managedFields", None)
    return merged, new_managed


def _prune(merged: dict[str, Any], managers: Managers, last: FieldSet, schema: Schema | None) -> dict[str, Any]:
    """Updater.prune: drop what the applier no longer applies and nobody else owns."""

    def owned(fields: FieldSet) -> FieldSet:
        return ensure_named_fields_are_members(fields, schema)

    last_owned = owned(last)
    merged_fields = owned(fields_of(merged, schema))
    # Remove everything the applier applied last time...
    pruned = remove_items(merged, last_owned, schema) or {}
    # ...add back what any manager (the applier's new configuration included) owns...
    everyone = FieldSet()
    for entry in managers.values():
        everyone = everyone.union(entry.fields)
    keep = owned(fields_of(pruned, schema)).union(owned(everyone))
    pruned = remove_items(merged, merged_fields.difference(keep), schema) or {}
    # ...and remove only what the applier did own, leaving unowned fields alone.
    gone = merged_fields.difference(owned(fields_of(pruned, schema))).intersection(last_owned)
    return remove_items(merged, gone, schema) or {}


def _print_manager(key: ManagerKey) -> str:
    """printManager in fieldmanager's conflict.go (the identifier carries no time)."""
    text = f'"{key.manager}"'
    if key.subresource:
        text += f' with subresource "{key.subresource}"'
    if key.operation == UPDATE:
        text += f" using {key.api_version}"
    return text


def conflict_error(conflicts: dict[ManagerKey, FieldSet]) -> Conflict:
    """409 with upstream's message and one FieldManagerConflict cause per field."""
    ordered = sorted(conflicts, key=lambda k: (k.manager, k.operation, k.api_version, k.subresource))
    pairs = [(k, p) for k in ordered for p in conflicts[k].paths()]
    causes = tuple(
        Cause("FieldManagerConflict", f"conflict with {_print_manager(k)}", path_string(p)) for k, p in pairs
    )
    if len(pairs) == 1:
        k, p = pairs[0]
        message = f"Apply failed with 1 conflict: conflict with {_print_manager(k)}: {path_string(p)}"
    else:
        lines: list[str] = []
        for k in ordered:
            lines.append(f"conflicts with {_print_manager(k)}:")
            lines.extend(f"- {path_string(p)}" for p in conflicts[k].paths())
        message = f"Apply failed with {len(pairs)} conflicts: " + "\n".join(lines)
    return Conflict(message, causes=causes)
