"""/openapi/v2 and /openapi/v3: the documents kubectl validates and explains with.

Documents are built by kubelite.api.openapi_* from the pinned schemas and the
registry's resources (custom resources included) and cached there by content.
A v3 document fetched with the `hash` the index advertised never changes, so it is
served as immutable, as upstream does; kubectl keeps it in its disk cache.

/openapi/v2 answers as kube-openapi's handler does: the first Accept clause (by q,
then specificity) that names JSON or the gnostic protobuf picks the form, else 406;
gzip when Accept-Encoding allows it; an ETag shared by the forms (`-gzip` appended
when gzipped) with `Vary: Accept` and `Vary: Accept-Encoding`; and 304 for a matching
If-None-Match or, without one, an If-Modified-Since no older than the document.
kubectl's disk cache revalidates with If-None-Match, so a warm kubectl downloads the
document once per change of the served resources.
"""

from __future__ import annotations

from email.utils import formatdate, parsedate_to_datetime

import orjson
from aiohttp import web

from kubelite.api import openapi_v2, openapi_v3
from kubelite.api.catalogue import ResourceSpec
from kubelite.machinery import errors

PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
# (type, subtype, protobuf?) in upstream's order of preference; the older "@v1.0"
# spelling, which kubectl 1.32 and 1.35 still send, is answered with the new name.
_V2_FORMS = (("application", "json", False),
             ("application", "com.github.proto-openapi.spec.v2@v1.0+protobuf", True),
             ("application", "com.github.proto-openapi.spec.v2.v1.0+protobuf", True))


async def serve(request: web.Request, specs: list[ResourceSpec]) -> web.StreamResponse:
    """`specs`: every resource served (the registry's and the create-only ones)."""
    path = request.path.rstrip("/")
    if path == "/openapi/v2":
        return _serve_v2(request, openapi_v2.served_forms(specs))
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


def _serve_v2(request: web.Request, forms: openapi_v2.Forms) -> web.StreamResponse:
    headers = {"Vary": "Accept"}
    protobuf = _pick_form(request.headers.get("Accept") or "*/*")
    if protobuf is None:
        return _with_vary(web.Response(status=406, headers=headers))
    gzipped = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    headers["Etag"] = etag = '"' + forms.etag + ("-gzip" if gzipped else "") + '"'
    if _not_modified(request, etag, forms.built_at):
        return _with_vary(web.Response(status=304, headers=headers))
    headers["Content-Type"] = PROTOBUF_V2 if protobuf else "application/json"
    headers["Last-Modified"] = formatdate(forms.built_at, usegmt=True)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    body = forms.body(protobuf=protobuf, gzipped=gzipped)
    return _with_vary(web.Response(body=body, headers=headers))


def _pick_form(accept: str) -> bool | None:
    """True for protobuf, False for JSON, None when the Accept header allows neither:
    the first clause that matches a form, trying the forms in upstream's order."""
    for type_, subtype in accept_clauses(accept):
        for form_type, form_subtype, protobuf in _V2_FORMS:
            if type_ in (form_type, "*") and subtype in (form_subtype, "*"):
                return protobuf
    return None


def _with_vary(response: web.Response) -> web.Response:
    response.headers.add("Vary", "Accept-Encoding")
    return response


def accept_clauses(header: str) -> list[tuple[str, str]]:
    """(type, subtype) of each Accept clause, best first, as goautoneg.ParseAccept
    orders them: by q, then concrete types before wildcards."""
    ranked: list[tuple[float, bool, bool, int, str, str]] = []
    for position, clause in enumerate(header.split(",")):
        media, *params = (p.strip() for p in clause.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        type_, slash, subtype = media.partition("/")
        if not slash:
            if media != "*":
                continue  # not a media range
            type_, subtype = "*", "*"
        ranked.append((-q, type_ == "*", subtype == "*", position, type_, subtype))
    return [(type_, subtype) for *_, type_, subtype in sorted(ranked)]


def accepts_gzip(header: str) -> bool:
    """Whether Accept-Encoding allows gzip: its first `gzip` entry decides, by q."""
    for entry in header.split(","):
        name, *params = (p.strip() for p in entry.split(";"))
        if name.lower() != "gzip":
            continue
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def _not_modified(request: web.Request, etag: str, built_at: float) -> bool:
    """Go's http.ServeContent conditions for a 304: an If-None-Match that lists the
    ETag (weakly compared) or `*`; else an If-Modified-Since not before the document."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        for tag in if_none_match.split(","):
            tag = tag.strip()
            if tag == "*" or tag.removeprefix("W/") == etag:
                return True
        return False
    since = request.headers.get("If-Modified-Since")
    if since is None or request.method not in ("GET", "HEAD"):
        return False
    try:
        return int(built_at) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False
