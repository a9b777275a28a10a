"""GET and LIST of resources (watch lives in watch.py)."""

from __future__ import annotations

from aiohttp import web

from kubelite.apiserver.negotiation import Accept
from kubelite.apiserver.registry.listing import list_objects, make_predicate
from kubelite.apiserver.registry.store import Store
from kubelite.apiserver.responses import list_response, single_response
from kubelite.apiserver.routing import RequestInfo
from kubelite.machinery.options import GetOptions, ListOptions


async def get(request: web.Request, info: RequestInfo, store: Store, accept: Accept
              ) -> web.StreamResponse:
    options = GetOptions.parse(request.query)
    entry = await store.get(info.namespace, info.name, resource_version=options.resource_version)
    return single_response(store.spec, info.version, entry, accept)


async def list_(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                ) -> web.StreamResponse:
    options = ListOptions.parse(request.query)
    predicate = make_predicate(store, options.label_selector, options.field_selector)
    result = await list_objects(
        # A limit below one asks for no limit, as in upstream's storage (`Limit > 0`).
        store, info.namespace, predicate=predicate, limit=max(options.limit, 0),
        continue_token=options.continue_, resource_version=options.resource_version,
        resource_version_match=options.resource_version_match)
    return list_response(store.spec, info.version, result.entries, result.revision,
                         result.continue_token, result.remaining, accept)
