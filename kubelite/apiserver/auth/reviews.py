"""The authentication review APIs: TokenReview and SelfSubjectReview
(authentication.k8s.io/v1, cluster-scoped, create only, nothing stored; served
through create_only.py).

TokenReview (pkg/registry/authentication/tokenreview): "who is this token?". The
token is put to the server's own bearer-token authenticators, in their order, as
upstream hands its request authenticator a request carrying nothing but the token.
The audiences are the review's spec.audiences, else the API audiences (the implicit
audiences of the audience-aware authenticators); a static token, which knows no
audiences, counts only for the API audiences (WrapAudienceAgnosticToken). The answer
says authenticated, the user (with system:authenticated, as every authenticated
user gets), the audiences the token is good for, and the refusals' reasons in
status.error. Without token authenticators the review comes back as sent.

SelfSubjectReview (pkg/registry/authentication/selfsubjectreview): "who am I?",
the requesting user's own UserInfo; what `kubectl auth whoami` prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from kubelite.api.catalogue import GVK
from kubelite.apiserver.auth.attributes import USER, Authenticator
from kubelite.apiserver.auth.audiences import (
    AudienceTokenAuthenticator,
    TokenRejected,
    TokenResult,
    intersect,
)
from kubelite.apiserver.auth.authn import (
    AuthenticatorChain,
    BearerTokenAuthenticator,
    TokenAuthenticator,
)
from kubelite.apiserver.auth.user import ALL_AUTHENTICATED, UserInfo
from kubelite.apiserver.create_only import CreateOnly, Created, create_only_spec
from kubelite.apiserver.routing import RequestInfo
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_rfc3339

Obj = dict[str, Any]

GROUP = "authentication.k8s.io"
TOKEN_REVIEW = GVK(GROUP, "v1", "TokenReview")
SELF_SUBJECT_REVIEW = GVK(GROUP, "v1", "SelfSubjectReview")


def token_authenticators(authenticator: Authenticator | None) -> list[TokenAuthenticator]:
    """The bearer-token authenticators of the server's chain, in order."""
    members: Sequence[Authenticator] = (
        authenticator.authenticators if isinstance(authenticator, AuthenticatorChain)
        else [authenticator] if authenticator is not None else [])
    return [token for member in members if isinstance(member, BearerTokenAuthenticator)
            for token in member.tokens]


def _aggregate(reasons: list[str]) -> str:
    """utilerrors.NewAggregate's message."""
    return reasons[0] if len(reasons) == 1 else "[" + ", ".join(reasons) + "]"


async def review(tokens: Sequence[TokenAuthenticator], token: str,
                 requested: Sequence[str]) -> tuple[TokenResult | None, list[str]]:
    """The first authenticator's answer for `token`, and every refusal's reason."""
    implicit: list[str] = []
    for member in tokens:
        if isinstance(member, AudienceTokenAuthenticator):
            implicit += [a for a in member.implicit_audiences if a not in implicit]
    audiences = list(requested) or implicit
    reasons: list[str] = []
    for member in tokens:
        try:
            if isinstance(member, AudienceTokenAuthenticator):
                result = await member.review_token(token, audiences or None)
            else:
                result = await _audience_agnostic(member, token, audiences, implicit)
        except (TokenRejected, errors.Unauthorized) as err:
            reasons.append(str(err))
            continue
        if result is not None:
            return result, reasons
    return None, reasons


async def _audience_agnostic(member: TokenAuthenticator, token: str,
                             audiences: Sequence[str], implicit: Sequence[str]
                             ) -> TokenResult | None:
    user = await member.authenticate_token(token)
    if user is None:
        return None
    if not audiences:
        return TokenResult(user, ())
    matched = intersect(implicit, audiences)
    return TokenResult(user, matched) if matched else None


def _with_authenticated_group(user: UserInfo) -> UserInfo:
    if ALL_AUTHENTICATED in user.groups:
        return user
    return UserInfo(user.name, uid=user.uid, groups=(*user.groups, ALL_AUTHENTICATED),
                    extra=user.extra)


class TokenReviews:
    def __init__(self, authenticator: Callable[[], Authenticator | None]) -> None:
        """`authenticator`: the server's, asked at each review (it may be set after
        the server is built)."""
        self.authenticator = authenticator

    def endpoint(self) -> CreateOnly:
        return CreateOnly(spec=create_only_spec(GROUP, "v1", "TokenReview", "tokenreviews",
                                                namespaced=False),
                          kind=TOKEN_REVIEW, create=self.create)

    async def create(self, request: web.Request, info: RequestInfo, body: Obj) -> Created:
        spec = body.get("spec") or {}
        token = spec.get("token") or ""
        if not token:
            raise errors.BadRequest("token is required for TokenReview in authentication")
        tokens = token_authenticators(self.authenticator())
        if not tokens:
            return Created(body)
        result, reasons = await review(tokens, token, spec.get("audiences") or [])
        status: Obj = {"authenticated": result is not None, "user": {}}
        if result is not None:
            status["user"] = _with_authenticated_group(result.user).to_api()
            if result.audiences:
                status["audiences"] = list(result.audiences)
        elif reasons:
            status["error"] = _aggregate(reasons)
        metadata = {**(body.get("metadata") or {}), "creationTimestamp": None}
        return Created({**body, "metadata": metadata, "status": status})


async def create_self_subject_review(request: web.Request, info: RequestInfo,
                                     body: Obj) -> Created:
    user: UserInfo | None = request.get(USER)
    if user is None:
        raise errors.BadRequest("no user present on request")
    return Created({"kind": SELF_SUBJECT_REVIEW.kind,
                    "apiVersion": SELF_SUBJECT_REVIEW.api_version,
                    "metadata": {"creationTimestamp": now_rfc3339()},
                    "status": {"userInfo": user.to_api()}})


def self_subject_reviews() -> CreateOnly:
    return CreateOnly(spec=create_only_spec(GROUP, "v1", "SelfSubjectReview",
                                            "selfsubjectreviews", namespaced=False),
                      kind=SELF_SUBJECT_REVIEW, create=create_self_subject_review)
