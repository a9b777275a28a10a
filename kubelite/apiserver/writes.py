"""POST, PUT, PATCH and DELETE of resources and of their subresources.

Bodies are decoded here, checked against the endpoint (kind, apiVersion, unknown
fields under fieldValidation), converted to the storage version, and handed to the
generic store; answers are converted back to the version the client used.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from kubelite.api.catalogue import ResourceSpec
from kubelite.api.conversion import convert, to_storage
from kubelite.apiserver import negotiation
from kubelite.apiserver.negotiation import Accept, decode_body
from kubelite.apiserver.options import write_options
from kubelite.apiserver.patching import patch_mutator
from kubelite.apiserver.registry.listing import list_objects, make_predicate
from kubelite.apiserver.registry.store import Store
from kubelite.apiserver.responses import object_response, success_status
from kubelite.apiserver.routing import RequestInfo
from kubelite.apiserver.subresources import SUBRESOURCE_WRITES, WHOLE_OBJECT, Handler
from kubelite.apiserver.validation import check_body, check_delete_options
from kubelite.machinery import errors
from kubelite.machinery.delete_options import DeleteOptions
from kubelite.machinery.options import (
    CreateOptions,
    ListOptions,
    PatchOptions,
    UpdateOptions,
)

Obj = dict[str, Any]
DELETE_COLLECTION_WORKERS = 16  # deletes one deletecollection keeps in flight


async def read_object(request: web.Request, info: RequestInfo, spec: ResourceSpec,
                      mode: str) -> tuple[Obj, list[str]]:
    """The request body as an object of the endpoint's kind, in the storage version.
    Returns the object and warnings (unknown fields under fieldValidation=Warn);
    `mode` is the fieldValidation directive (Ignore, Warn or Strict)."""
    body = await request.read()
    obj = decode_body(body, request.headers.get("Content-Type", ""), strict=mode == "Strict")
    if not isinstance(obj, dict):
        raise errors.BadRequest("the object provided is unrecognized or malformed: "
                                "expected a JSON object")
    expected = spec.gvk(info.version)
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    if api_version and api_version != expected.api_version:
        raise errors.BadRequest(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({expected.api_version})")
    if kind and kind != spec.kind:
        raise errors.BadRequest(
            f'{kind} in version "{info.version}" cannot be handled as a {spec.kind}: '
            f"the kind in the body does not match the endpoint")
    obj["apiVersion"] = expected.api_version
    obj["kind"] = spec.kind
    warnings = check_body(spec, info.version, obj, mode)
    return to_storage(spec, obj), warnings


def respond(spec: ResourceSpec, info: RequestInfo, obj: Obj, accept: Accept, status: int,
            warnings: list[str]) -> web.Response:
    headers = {}
    if warnings:
        headers["Warning"] = ", ".join(f'299 - "{w}"' for w in warnings)
    return object_response(convert(spec, obj, info.version), accept, status, headers)


async def create(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                 ) -> web.StreamResponse:
    if info.subresource:
        handler = SUBRESOURCE_WRITES.get((info.subresource, "create"))
        if handler is None:
            raise errors.method_not_allowed()
        return await handler(request, info, store, accept)
    if info.name:
        raise errors.method_not_allowed()
    if store.spec.namespaced and not info.namespace:
        raise errors.method_not_allowed()
    options = CreateOptions.parse(request.query)
    obj, warnings = await read_object(request, info, store.spec, options.validation_directive)
    created = await store.create(info.namespace, obj, write_options(request, info, options))
    return respond(store.spec, info, created, accept, 201, warnings)


def subresource_writer(info: RequestInfo, verb: str) -> Handler | None:
    """For PUT and PATCH, which need a name: the handler of a subresource that is not
    the object itself (scale, finalize...), or None for the object's own endpoints."""
    if not info.name:
        raise errors.method_not_allowed()
    if not info.subresource or info.subresource in WHOLE_OBJECT:
        return None
    handler = SUBRESOURCE_WRITES.get((info.subresource, verb))
    if handler is None:
        raise errors.no_such_resource()
    return handler


async def update(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                 ) -> web.StreamResponse:
    if handler := subresource_writer(info, "update"):
        return await handler(request, info, store, accept)
    options = UpdateOptions.parse(request.query)
    obj, warnings = await read_object(request, info, store.spec, options.validation_directive)
    result, created = await store.update(info.namespace, info.name, obj,
                                         write_options(request, info, options),
                                         allow_create=store.strategy.allow_create_on_update)
    return respond(store.spec, info, result, accept, 201 if created else 200, warnings)


async def patch(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                ) -> web.StreamResponse:
    if handler := subresource_writer(info, "patch"):
        return await handler(request, info, store, accept)
    content_type = negotiation.media_type(request.headers.get("Content-Type", ""))
    if content_type not in negotiation.PATCH_TYPES:
        raise errors.UnsupportedMediaType(
            f'the body of the request was in an unknown format - accepted media types '
            f'include: {", ".join(negotiation.PATCH_TYPES)}')
    options = PatchOptions.parse(request.query,
                                 apply=content_type == negotiation.APPLY_PATCH)
    opts = write_options(request, info, options)
    mode = options.validation_directive
    body = await request.read()
    patch_doc = decode_body(body, content_type, strict=mode == "Strict")
    mutate, create, warnings = patch_mutator(
        store, info, content_type, patch_doc, opts, mode=mode, force=bool(options.force),
        explicit_manager=bool(options.field_manager))
    result, created = await store.guaranteed_update(info.namespace, info.name, mutate, opts,
                                                    create=create)
    return respond(store.spec, info, result, accept, 201 if created else 200, warnings)


async def delete(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                 ) -> web.StreamResponse:
    if info.subresource:
        raise errors.method_not_allowed()
    options = await delete_options(request)
    obj, deleted = await store.delete(info.namespace, info.name, options.to_object(),
                                      write_options(request, info, options))
    if deleted and not store.strategy.return_deleted_object:
        return object_response(success_status(store.spec, obj), accept, 200)
    return respond(store.spec, info, obj, accept, 200, [])


async def delete_options(request: web.Request) -> DeleteOptions:
    """The query's DeleteOptions merged with those of the body, if it has one."""
    body: Obj | None = None
    raw = await request.read()
    if raw.strip():
        decoded = decode_body(raw, request.headers.get("Content-Type", ""))
        if not isinstance(decoded, dict):
            raise errors.BadRequest("DeleteOptions must be an object")
        check_delete_options(decoded)  # every field, nested ones too, as Go decodes it
        body = decoded
    return DeleteOptions.parse(request.query, body)


async def delete_collection(request: web.Request, info: RequestInfo, store: Store,
                            accept: Accept) -> web.StreamResponse:
    listing = ListOptions.parse(request.query)
    predicate = make_predicate(store, listing.label_selector, listing.field_selector)
    options = await delete_options(request)
    opts = write_options(request, info, options)
    wire_options = options.to_object()
    listed = await list_objects(store, info.namespace, predicate=predicate)
    # Several deletes in flight, so the store commits them together (upstream's
    # --delete-collection-workers); a failure other than NotFound ends the request.
    pending = enumerate(listed.entries)
    deleted: dict[int, Obj] = {}  # by position in the listing: the answer keeps its order

    async def worker() -> None:
        for position, entry in pending:  # one shared iterator: each entry taken once
            try:
                obj, _ = await store.delete(entry.namespace, entry.name, wire_options, opts)
            except errors.NotFound:
                continue
            deleted[position] = convert(store.spec, obj, info.version)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(DELETE_COLLECTION_WORKERS, len(listed.entries))):
                group.create_task(worker())
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None  # answered as that error's Status
    items = [deleted[position] for position in sorted(deleted)]
    body = {"kind": store.spec.list_kind, "apiVersion": store.spec.gvk(info.version).api_version,
            "metadata": {"resourceVersion": str(store.cache.revision)}, "items": items}
    return object_response(body, accept, 200)
