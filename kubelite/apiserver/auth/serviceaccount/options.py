"""The service account flags of `kubelite server`, and what they set up on a server.

    --service-account-key-file             PEM private key that signs and verifies
                                           (default <data-dir>/tls/service.key, made
                                           on first start)
    --service-account-issuer               the `iss` of bound tokens (repeatable: the
                                           first issues, all are accepted; default
                                           https://kubernetes.default.svc.cluster.local)
    --api-audiences                        the audiences the API accepts (default: the
                                           issuers)
    --service-account-max-token-expiration longest TokenRequest granted (0: no limit;
                                           else between 1 hour and 2^32 seconds)

install() serves serviceaccounts/token and the OIDC discovery documents on the server
and returns the token authenticator; authn.join_chain() puts it among the bearer-token
authenticators of the server's authentication chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kubelite.apiserver.auth.serviceaccount import keys, oidc
from kubelite.apiserver.auth.serviceaccount.authenticator import (
    CachedObjects,
    ServiceAccountTokenAuthenticator,
)
from kubelite.apiserver.auth.serviceaccount.issuer import TokenIssuer
from kubelite.apiserver.auth.serviceaccount.token_request import TokenRequests

if TYPE_CHECKING:
    from kubelite.apiserver.app import APIServer

DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
MIN_MAX_EXPIRATION_SECONDS = 60 * 60
MAX_MAX_EXPIRATION_SECONDS = 1 << 32


def default_key_file(data_dir: Path) -> Path:
    return data_dir / "tls" / "service.key"


@dataclass(frozen=True, slots=True)
class ServiceAccountOptions:
    key_file: Path
    issuers: tuple[str, ...] = (DEFAULT_ISSUER,)
    api_audiences: tuple[str, ...] = ()  # empty: the issuers, as upstream
    max_token_expiration_seconds: int = 0

    @classmethod
    def from_flags(cls, *, data_dir: Path, key_file: Path | None,
                   issuers: Sequence[str] | None, api_audiences: str,
                   max_token_expiration: float) -> ServiceAccountOptions:
        """The options the flags give; ValueError for values upstream refuses."""
        if max_token_expiration and not (
                MIN_MAX_EXPIRATION_SECONDS <= max_token_expiration <= MAX_MAX_EXPIRATION_SECONDS):
            raise ValueError("--service-account-max-token-expiration must be between "
                             "1 hour and 2^32 seconds")
        issuers = tuple(i for i in issuers or () if i) or (DEFAULT_ISSUER,)
        audiences = tuple(a.strip() for a in api_audiences.split(",") if a.strip())
        return cls(key_file=key_file or default_key_file(data_dir), issuers=issuers,
                   api_audiences=audiences,
                   max_token_expiration_seconds=int(max_token_expiration))

    @property
    def audiences(self) -> tuple[str, ...]:
        return self.api_audiences or self.issuers


def install(server: APIServer, options: ServiceAccountOptions
            ) -> ServiceAccountTokenAuthenticator:
    """Serve TokenRequest and issuer discovery on `server` (before it starts) and
    return the authenticator of the tokens it issues."""
    key = keys.load_or_create(options.key_file)
    issuer = TokenIssuer(key=key, issuer=options.issuers[0], api_audiences=options.audiences,
                         max_expiration_seconds=options.max_token_expiration_seconds)
    server.create_only.add(TokenRequests(issuer=issuer, stores=server.registry).endpoint())
    server.paths.update(oidc.handlers(options.issuers[0], [key], lambda: server.url))
    return ServiceAccountTokenAuthenticator(
        keys=[key], issuers=options.issuers, api_audiences=options.audiences,
        objects=CachedObjects(server.registry))
