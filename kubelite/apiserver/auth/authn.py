"""The authentication chain, as upstream's kube-apiserver assembles it.

The configured authenticators are asked in order (union): the first that knows the
request's credentials names its user. Every named user gets `system:authenticated`
(group.AuthenticatedGroupAdder). When nobody knows the request:

- credentials some authenticator rejected (a wrong bearer token) answer 401: a bad
  token is never taken for an anonymous request (union.NewFailOnError);
- a request with no credentials is the anonymous user, but only on the paths
  anonymous access is allowed for (upstream's AnonymousAuthConfig conditions;
  kubelite allows /healthz, /livez, /readyz, /version and kube-public's cluster-info,
  which a node joining with a bootstrap token reads first), else 401.

Bearer tokens are read from `Authorization: Bearer <token>` as bearertoken.go does;
a token authenticator implements TokenAuthenticator and is wrapped by
BearerTokenAuthenticator.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Awaitable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from aiohttp import web

from kubelite.apiserver.auth.attributes import Authenticator
from kubelite.apiserver.auth.user import ALL_AUTHENTICATED, ANONYMOUS_USER, UserInfo
from kubelite.machinery import errors

log = logging.getLogger(__name__)

ANONYMOUS_PATHS = ("/healthz", "/livez", "/readyz", "/version",
                   # a joining node's first read, before it trusts the server (kubeadm's
                   # token discovery; RBAC lets system:anonymous get only that object)
                   "/api/v1/namespaces/kube-public/configmaps/cluster-info")


class TokenAuthenticator(Protocol):
    def authenticate_token(self, token: str) -> Awaitable[UserInfo | None]:
        """The token's user, or None when this authenticator does not know it."""


def bearer_token(request: web.BaseRequest) -> str | None:
    """The token of an `Authorization: Bearer` header; None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


class BearerTokenAuthenticator:
    """Asks its token authenticators in turn; a token none of them knows is an error."""

    def __init__(self, tokens: Sequence[TokenAuthenticator]) -> None:
        self.tokens = list(tokens)

    async def authenticate(self, request: web.BaseRequest) -> UserInfo | None:
        token = bearer_token(request)
        if token is None:
            return None
        for authenticator in self.tokens:
            user = await authenticator.authenticate_token(token)
            if user is not None:
                return user
        raise errors.Unauthorized("Unauthorized")


class StaticTokens:
    """`--token-auth-file`: upstream's CSV of `token,user,uid[,"group1,group2"]`."""

    def __init__(self, users: dict[str, UserInfo]) -> None:
        self.users = users

    @classmethod
    def from_file(cls, path: str | Path) -> StaticTokens:
        with open(path, newline="") as handle:
            return cls.from_rows(csv.reader(handle), str(path))

    @classmethod
    def from_rows(cls, rows: Iterable[list[str]], source: str = "token file") -> StaticTokens:
        users: dict[str, UserInfo] = {}
        for number, row in enumerate(rows, 1):
            if not row:
                continue
            if len(row) < 3:
                raise ValueError(f"token file '{source}' must have at least 3 columns "
                                 f"(token, user name, user uid), found {len(row)}")
            token, name, uid = row[0], row[1], row[2]
            if not token:
                log.warning("empty token in token file '%s', record %d", source, number)
                continue
            if token in users:
                log.warning("duplicate token in token file '%s', record %d", source, number)
            groups = tuple(row[3].split(",")) if len(row) >= 4 and row[3] else ()
            users[token] = UserInfo(name, uid=uid, groups=groups)
        return cls(users)

    async def authenticate_token(self, token: str) -> UserInfo | None:
        return self.users.get(token)


class AuthenticatorChain:
    """The server's Authenticator: union, authenticated group, anonymous conditions."""

    def __init__(self, authenticators: Sequence[Authenticator], *,
                 anonymous_paths: Sequence[str] = ANONYMOUS_PATHS) -> None:
        self.authenticators = list(authenticators)
        self.anonymous_paths = frozenset(anonymous_paths)

    async def authenticate(self, request: web.BaseRequest) -> UserInfo | None:
        rejected: errors.StatusError | None = None
        for authenticator in self.authenticators:
            try:
                user = await authenticator.authenticate(request)
            except errors.Unauthorized as err:
                rejected = rejected or err
                continue
            if user is not None:
                return _with_authenticated_group(user)
        if rejected is not None:
            raise rejected
        if (request.path.rstrip("/") or "/") in self.anonymous_paths:
            return ANONYMOUS_USER
        return None


def _with_authenticated_group(user: UserInfo) -> UserInfo:
    if ALL_AUTHENTICATED in user.groups:
        return user
    return UserInfo(user.name, uid=user.uid, groups=(*user.groups, ALL_AUTHENTICATED),
                    extra=user.extra)


def join_chain(authenticator: Authenticator | None, tokens: TokenAuthenticator) -> None:
    """Put `tokens` last among the bearer-token authenticators of the server's chain
    (after a static token file, as upstream orders them), or in a bearer-token
    authenticator of its own at the chain's end. A server without a chain
    authenticates nobody: there is nothing to join."""
    if not isinstance(authenticator, AuthenticatorChain):
        return
    for member in authenticator.authenticators:
        if isinstance(member, BearerTokenAuthenticator):
            member.tokens.append(tokens)
            return
    authenticator.authenticators.append(BearerTokenAuthenticator([tokens]))
