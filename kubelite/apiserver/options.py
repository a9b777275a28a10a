"""From a write verb's parsed options to what the store needs to know about the write.

The query itself is decoded and checked once, by the option classes of
`kubelite.machinery.options` (CreateOptions, UpdateOptions, PatchOptions,
DeleteOptions); this module only adds what the request knows beyond its query: the
field manager of a writer that names none is its User-Agent, as upstream names it, and
the writer (the authenticated user), whom admission sees and a CertificateSigningRequest
records as its requestor.
"""

from __future__ import annotations

from aiohttp import web

from kubelite.apiserver.auth.attributes import USER
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.routing import RequestInfo
from kubelite.machinery.delete_options import DeleteOptions
from kubelite.machinery.options import CreateOptions, PatchOptions, UpdateOptions


def write_options(request: web.Request, info: RequestInfo,
                  options: CreateOptions | UpdateOptions | PatchOptions | DeleteOptions
                  ) -> WriteOptions:
    # DeleteOptions names no field manager: a delete records none of its own.
    manager = "" if isinstance(options, DeleteOptions) else options.field_manager
    if not manager:
        # Upstream names an unnamed writer after its user agent (kubectl/v1.35 ...).
        manager = request.headers.get("User-Agent", "unknown").split("/", 1)[0][:128]
    return WriteOptions(dry_run=bool(options.dry_run), field_manager=manager,
                        subresource=info.subresource, user=request.get(USER))
