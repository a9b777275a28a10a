"""ServiceAccount tokens: issuing them, checking them, publishing the keys.

    keys.py           the signing key (<data-dir>/tls/service.key) and its key id
    claims.py         what a bound or legacy token says; the checks that need no lookup
    issuer.py         signing (PyJWT over `cryptography` keys)
    token_request.py  serviceaccounts/<name>/token (TokenRequest)
    authenticator.py  the bearer-token authenticator of both kinds of token
    oidc.py           /.well-known/openid-configuration and /openid/v1/jwks
    options.py        the server flags, and install() that wires all of it on a server

See kubelite/apiserver/README.md ("ServiceAccount tokens") for the flow.
"""
