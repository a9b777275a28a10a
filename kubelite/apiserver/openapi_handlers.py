"""/openapi/v2 and /openapi/v3: the documents kubectl validates and explains with.

Documents are built by kubelite.api.openapi_* from the pinned schemas and the
registry's resources (custom resources included) and cached there by content.
A v3 document fetched with the `hash` the index advertised never changes, so it is
served as immutable, as upstream does; kubectl keeps it in its disk cache.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from kubelite.api import openapi_v2, openapi_v3
from kubelite.apiserver.registry.registry import Registry
from kubelite.machinery import errors

PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2"


async def serve(request: web.Request, registry: Registry) -> web.StreamResponse:
    specs = registry.specs()
    path = request.path.rstrip("/")
    if path == "/openapi/v2":
        accept = request.headers.get("Accept", "")
        if PROTOBUF_V2 in accept and "application/json" not in accept:
            # The v2 document is served as JSON only. kubectl 1.32 and 1.35 validate and
            # explain from /openapi/v3 (whose operations list fieldValidation), and the
            # clients that still ask for v2 in protobuf take a 404 as "no schema".
            raise errors.no_such_resource()
        return web.Response(body=openapi_v2.openapi_v2_json(specs),
                            content_type="application/json")
    if path == "/openapi/v3":
        return web.Response(body=orjson.dumps(openapi_v3.openapi_v3_index(specs)),
                            content_type="application/json")
    if path.startswith("/openapi/v3/"):
        gv = openapi_v3.parse_path(path[len("/openapi/v3/"):])
        if gv is None:
            raise errors.no_such_resource()
        try:
            body = openapi_v3.openapi_v3_json(gv[0], gv[1], specs)
        except LookupError:
            raise errors.no_such_resource() from None
        headers = {"Content-Type": "application/json"}
        if request.query.get("hash"):
            headers["Cache-Control"] = "public, immutable"
            headers["Etag"] = '"' + openapi_v3.openapi_v3_hash(gv[0], gv[1], specs) + '"'
        return web.Response(body=body, headers=headers)
    raise errors.no_such_resource()
