"""GET and LIST of resources (watch lives in watch.py)."""

from __future__ import annotations

from aiohttp import web

from kubelite.apiserver.negotiation import Accept
from kubelite.apiserver.registry.listing import list_objects, make_predicate
from kubelite.apiserver.registry.store import Store
from kubelite.apiserver.responses import list_response, single_response
from kubelite.apiserver.routing import RequestInfo
from kubelite.machinery import errors


def int_param(request: web.Request, name: str, default: int = 0) -> int:
    raw = request.query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequest(f'invalid value for {name}: "{raw}"') from None
    if value < 0:
        raise errors.BadRequest(f"{name}: Invalid value: {value}: must be non-negative")
    return value


async def get(request: web.Request, info: RequestInfo, store: Store, accept: Accept
              ) -> web.StreamResponse:
    entry = await store.get(info.namespace, info.name,
                            resource_version=request.query.get("resourceVersion", ""))
    return single_response(store.spec, info.version, entry, accept)


async def list_(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                ) -> web.StreamResponse:
    q = request.query
    predicate = make_predicate(store, q.get("labelSelector", ""), q.get("fieldSelector", ""))
    match = q.get("resourceVersionMatch", "")
    if match not in ("", "Exact", "NotOlderThan"):
        raise errors.BadRequest(
            f'resourceVersionMatch: Unsupported value: "{match}": supported values: '
            f'"Exact", "NotOlderThan"')
    rv = q.get("resourceVersion", "")
    if match and rv in ("",):
        raise errors.BadRequest(
            "resourceVersionMatch is forbidden unless resourceVersion is provided")
    if match == "Exact" and rv == "0":
        raise errors.BadRequest(
            'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
    result = await list_objects(
        store, info.namespace, predicate=predicate, limit=int_param(request, "limit"),
        continue_token=q.get("continue", ""), resource_version=rv,
        resource_version_match=match)
    return list_response(store.spec, info.version, result.entries, result.revision,
                         result.continue_token, result.remaining, accept)
