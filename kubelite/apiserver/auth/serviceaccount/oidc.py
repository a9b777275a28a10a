"""Service account issuer discovery: the OpenID Connect documents that let others
check ServiceAccount tokens without asking the API server
(upstream's pkg/serviceaccount/openidmetadata.go).

    /.well-known/openid-configuration   issuer, jwks_uri, response_types_supported
                                        ["id_token"], subject_types_supported ["public"],
                                        id_token_signing_alg_values_supported
    /openid/v1/jwks                     the public signing keys (application/jwk-set+json)

Both are served only when the issuer is an https URL, as upstream. The JWKS URI is
the API server's own address with /openid/v1/jwks, as kube-apiserver derives it when
--service-account-jwks-uri is not set. Both may be cached for an hour.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from kubelite.apiserver.auth.serviceaccount.keys import SigningKey

OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/openid/v1/jwks"
CACHE_CONTROL = "public, max-age=3600"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def serves_discovery(issuer: str) -> bool:
    parts = urlsplit(issuer)
    return parts.scheme == "https" and bool(parts.netloc)


def openid_configuration(issuer: str, jwks_uri: str, keys: Sequence[SigningKey]) -> dict[str, object]:
    algorithms = sorted({key.algorithm for key in keys})
    return {"issuer": issuer, "jwks_uri": jwks_uri, "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algorithms}


def jwks(keys: Sequence[SigningKey]) -> dict[str, object]:
    return {"keys": [key.jwk() for key in keys]}


def handlers(issuer: str, keys: Sequence[SigningKey], server_url: Callable[[], str]
             ) -> dict[str, Handler]:
    """The two paths and their handlers, or none when the issuer is no https URL."""
    if not serves_discovery(issuer):
        return {}
    key_set = orjson.dumps(jwks(keys))

    async def configuration(request: web.Request) -> web.StreamResponse:
        body = orjson.dumps(openid_configuration(issuer, server_url() + JWKS_PATH, keys))
        return web.Response(body=body, content_type="application/json",
                            headers={"Cache-Control": CACHE_CONTROL})

    async def key_set_handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=key_set, content_type="application/jwk-set+json",
                            headers={"Cache-Control": CACHE_CONTROL})

    return {OPENID_CONFIGURATION_PATH: configuration, JWKS_PATH: key_set_handler}
