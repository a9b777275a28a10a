"""What a request asks, for the authorizers (upstream's authorizer.Attributes).

A resource request names verb, API group and version, resource, subresource,
namespace and name, as the request path says (routing.RequestInfo). Anything else
(discovery, /version, /healthz, /openapi, ...) is a non-resource request: its verb is
the HTTP method in lower case and it is judged by path alone.

An authorizer answers ALLOW, DENY or NO_OPINION with a reason; the chain asks each in
turn until one decides, and a request nobody allows is refused with upstream's
403 message, e.g. `pods is forbidden: User "jane" cannot list resource "pods" in API
group "" in the namespace "web"`.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.routing import RequestInfo
from kubelite.machinery import errors, fields

# The key under which the authenticated UserInfo rides on the aiohttp request.
USER = web.RequestKey("kubelite.user", UserInfo)


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no-opinion"


@dataclass(frozen=True, slots=True)
class Attributes:
    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    # a list's or watch's field selector as (field, "=" | "!=", value) terms
    field_selector: tuple[tuple[str, str, str], ...] = ()


def resource_attributes(user: UserInfo, info: RequestInfo, field_selector: str = ""
                        ) -> Attributes:
    """The attributes of a resource request. A list or watch carries its field
    selector, and the name its selector requires of metadata.name, as upstream's
    RequestInfoFactory sets it (the Node authorizer reads both); a selector that does
    not parse is left to the handler's 400."""
    name = info.name
    terms: tuple[tuple[str, str, str], ...] = ()
    if info.verb in ("list", "watch", "deletecollection") and field_selector:
        try:
            selector = fields.parse(field_selector)
        except errors.StatusError:
            selector = fields.everything()
        terms = tuple(selector.requirements())
        if not name and info.verb != "deletecollection":
            wanted = selector.requires_exact_match("metadata.name") or ""
            if wanted not in (".", "..") and not any(c in wanted for c in "/%"):
                name = wanted  # path.IsValidPathSegmentName
    return Attributes(user=user, verb=info.verb, resource_request=True,
                      api_group=info.group, api_version=info.version,
                      namespace=info.namespace, resource=info.resource,
                      subresource=info.subresource, name=name, field_selector=terms)


def non_resource_attributes(user: UserInfo, method: str, path: str) -> Attributes:
    return Attributes(user=user, verb=method.lower(), resource_request=False, path=path)


class Authenticator(Protocol):
    def authenticate(self, request: web.BaseRequest) -> Awaitable[UserInfo | None]:
        """The request's user; None when it carries no credentials this authenticator
        reads. Credentials it reads but rejects raise errors.Unauthorized."""


class Authorizer(Protocol):
    def authorize(self, attrs: Attributes) -> Awaitable[tuple[Decision, str]]:
        """The decision and, for a denial, the reason shown after the message."""


class AuthorizerChain:
    """Upstream's union authorizer: the first ALLOW or DENY wins; reasons of the
    authorizers without an opinion are kept for the refusal's message."""

    def __init__(self, authorizers: Sequence[Authorizer]) -> None:
        self.authorizers = list(authorizers)

    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        reasons: list[str] = []
        for authorizer in self.authorizers:
            decision, reason = await authorizer.authorize(attrs)
            if decision is not Decision.NO_OPINION:
                return decision, reason
            if reason:
                reasons.append(reason)
        return Decision.NO_OPINION, "\n".join(reasons)


def forbidden_message(attrs: Attributes) -> str:
    """responsewriters.forbiddenMessage."""
    user = attrs.user.name
    if not attrs.resource_request:
        return f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    resource = attrs.resource
    if attrs.subresource:
        resource = f"{resource}/{attrs.subresource}"
    if attrs.namespace:
        return (f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group '
                f'"{attrs.api_group}" in the namespace "{attrs.namespace}"')
    return (f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group '
            f'"{attrs.api_group}" at the cluster scope')


def forbidden(attrs: Attributes, reason: str) -> errors.Forbidden:
    """The 403 upstream's authorization filter writes: NewForbidden over the group
    resource and name, with the message above and the authorizers' reason."""
    message = forbidden_message(attrs)
    if reason:
        message = f"{message}: {reason}"
    if not attrs.resource_request:
        return errors.Forbidden(f"forbidden: {message}")
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    if attrs.name:
        return errors.Forbidden(f'{qualified} "{attrs.name}" is forbidden: {message}',
                                group=attrs.api_group, kind=attrs.resource, name=attrs.name)
    return errors.Forbidden(f"{qualified} is forbidden: {message}",
                            group=attrs.api_group, kind=attrs.resource)
