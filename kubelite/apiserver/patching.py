"""PATCH: the four patch types, as a mutation the store retries on conflict.

The patch is applied to the object as the client's version shows it, then converted
back to the storage version, so a patch written against autoscaling/v1 means what it
says. Server-side apply (application/apply-patch+yaml) also creates a missing object
and owns its own managedFields bookkeeping (patch/apply.py); the other types are
recorded as an "Update" by the request's field manager like any write.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.api.conversion import convert, to_storage
from kubelite.api.schemas import resource_schema
from kubelite.apiserver import negotiation
from kubelite.apiserver.patch.apply import apply as server_side_apply
from kubelite.apiserver.patch.json_patch import apply_json_patch
from kubelite.apiserver.patch.managed_fields import reset_fields
from kubelite.apiserver.patch.merge_patch import apply_merge_patch
from kubelite.apiserver.patch.strategic import apply_strategic_merge_patch
from kubelite.apiserver.registry.store import Mutator, Store, WriteOptions
from kubelite.apiserver.routing import RequestInfo
from kubelite.apiserver.validation import check_body, check_patched
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_rfc3339

Obj = dict[str, Any]


def patch_mutator(store: Store, info: RequestInfo, content_type: str, patch: Any,
                  opts: WriteOptions, *, mode: str, force: bool, explicit_manager: bool,
                  ) -> tuple[Mutator, Mutator | None, list[str]]:
    """(mutate, create, warnings): `create` is set for server-side apply only."""
    spec = store.spec
    schema = resource_schema(spec, info.version)  # the patch speaks the request's version
    warnings: list[str] = []
    version = info.version

    if content_type == negotiation.JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.BadRequest("json: cannot unmarshal object into Go value of type "
                                    "jsonpatch.Patch")
    elif not isinstance(patch, dict):
        raise errors.BadRequest("the patch must be a JSON object")
    if content_type == negotiation.STRATEGIC_PATCH and spec.crd_schemas is not None:
        raise errors.UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types "
            "include: application/json-patch+json, application/merge-patch+json, "
            "application/apply-patch+yaml")
    if content_type == negotiation.APPLY_PATCH:
        if not explicit_manager:
            raise errors.BadRequest(
                "PATCH requests for server-side apply must include the fieldManager query "
                "parameter")
        if force and not explicit_manager:
            raise errors.BadRequest("force is only allowed with apply patches")
        opts.apply = True
        expected = spec.gvk(version).api_version
        if patch.get("apiVersion") != expected or patch.get("kind") != spec.kind:
            raise errors.BadRequest(
                f"apiVersion and kind in the applied configuration must be {expected} "
                f"and {spec.kind}")
        # Types are checked on a copy: a null in an applied configuration means
        # "remove", which decoding would settle away.
        warnings.extend(check_body(spec, version, orjson.loads(orjson.dumps(patch)), mode))
        meta = patch.get("metadata") or {}
        if meta.get("name") not in (None, info.name):
            raise errors.BadRequest(
                f"the name of the object ({meta.get('name')}) does not match the name on "
                f"the URL ({info.name})")

    async def mutate(current: Obj) -> Obj:
        shown = convert(spec, current, version)
        if content_type == negotiation.JSON_PATCH:
            result = apply_json_patch(shown, patch)
        elif content_type == negotiation.MERGE_PATCH:
            result = apply_merge_patch(shown, patch)
        elif content_type == negotiation.STRATEGIC_PATCH:
            result = apply_strategic_merge_patch(shown, patch, schema)
        else:
            result = _apply(shown, patch)
        if not isinstance(result, dict):
            raise errors.BadRequest("the patch produced something that is not an object")
        if content_type == negotiation.APPLY_PATCH:
            check_body(spec, version, result, "Ignore")  # the applied config was checked
        else:
            warnings.extend(check_patched(
                spec, version, result, mode, patch,
                strategic=content_type == negotiation.STRATEGIC_PATCH))
        _check_identity(result, shown, info)
        return to_storage(spec, result)

    def _apply(live: Obj, applied: Obj) -> Obj:
        managed = (live.get("metadata") or {}).get("managedFields") or []
        new, entries = server_side_apply(
            live, applied, manager=opts.field_manager, force=force, schema=schema,
            managed=managed, subresource=info.subresource, now=now_rfc3339(),
            ignored=reset_fields(spec, info.subresource))
        new.setdefault("metadata", {})["managedFields"] = entries
        return new

    async def create(_: Obj) -> Obj:
        new = _apply({}, patch)
        check_body(spec, version, new, "Ignore")
        meta = new.setdefault("metadata", {})
        meta["name"] = info.name
        if spec.namespaced:
            meta.setdefault("namespace", info.namespace)
        return to_storage(spec, new)

    apply_create = create if content_type == negotiation.APPLY_PATCH and \
        not info.subresource else None
    return mutate, apply_create, warnings


def _check_identity(result: Obj, before: Obj, info: RequestInfo) -> None:
    for field in ("apiVersion", "kind"):
        if result.get(field) != before.get(field):
            raise errors.BadRequest(f"the patch may not change {field}")
    meta = result.get("metadata")
    if not isinstance(meta, dict):
        raise errors.BadRequest("metadata must be an object")
    if meta.get("name") != info.name:
        raise errors.BadRequest(
            f"the name of the object ({meta.get('name')}) does not match the name on the "
            f"URL ({info.name})")
