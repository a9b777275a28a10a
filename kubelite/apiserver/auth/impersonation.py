"""User impersonation (upstream's k8s.io/apiserver/pkg/endpoints/filters/impersonation.go).

A request may act as someone else with the headers

    Impersonate-User: jane                 (or system:serviceaccount:<ns>:<name>)
    Impersonate-Group: developers          (repeatable)
    Impersonate-Uid: 1234
    Impersonate-Extra-<key>: <value>       (repeatable; the key URL-escaped)

Runs right after authentication: each thing asked for is authorized separately as
verb `impersonate` on users, groups, serviceaccounts (in their namespace), uids or
userextras/<key> (the last two in authentication.k8s.io), and the first refusal is a
403 with upstream's message, e.g. `users "jane" is forbidden: User "bob" cannot
impersonate resource "users" in API group "" at the cluster scope`. Groups, a uid or
extras without a user are a 500, as upstream answers them.

The request then goes on as the impersonated user: a service account gets its
groups unless groups were asked for, and everyone but the anonymous user gets
`system:authenticated` unless `system:authenticated` or `system:unauthenticated` was
asked for (the anonymous user gets `system:unauthenticated`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from multidict import MultiMapping

from kubelite.apiserver.auth.attributes import Attributes, Authorizer, Decision, forbidden
from kubelite.apiserver.auth.user import (
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    ANONYMOUS,
    UserInfo,
    service_account_groups,
    service_account_username,
    split_service_account,
)
from kubelite.machinery import errors

USER_HEADER = "Impersonate-User"
GROUP_HEADER = "Impersonate-Group"
UID_HEADER = "Impersonate-Uid"
EXTRA_PREFIX = "Impersonate-Extra-"
AUTHENTICATION_GROUP = "authentication.k8s.io"


@dataclass(frozen=True, slots=True)
class Ask:
    """One thing impersonated (upstream uses a v1.ObjectReference for it)."""

    kind: str  # User, ServiceAccount, Group, UserExtra, UID
    name: str
    namespace: str = ""
    api_version: str = ""
    field_path: str = ""  # the extra's key

    def go_string(self) -> str:
        """How Go's %v prints the ObjectReference, for upstream's error message."""
        return "{" + " ".join((self.kind, self.namespace, self.name, "", self.api_version,
                               "", self.field_path)) + "}"


def asks(headers: MultiMapping[str]) -> list[Ask]:
    """The impersonation the headers ask for, in upstream's order; [] for none."""
    found: list[Ask] = []
    user = headers.get(USER_HEADER, "")
    if user:
        account = split_service_account(user)
        found.append(Ask("ServiceAccount", account[1], account[0]) if account
                     else Ask("User", user))
    found.extend(Ask("Group", g) for g in headers.getall(GROUP_HEADER, []))
    extras = sorted({k for k in headers if k.lower().startswith(EXTRA_PREFIX.lower())})
    for header in extras:
        key = unquote(header[len(EXTRA_PREFIX):].lower())
        found.extend(Ask("UserExtra", value, api_version=f"{AUTHENTICATION_GROUP}/v1",
                         field_path=key) for value in headers.getall(header, []))
    uid = headers.get(UID_HEADER, "")
    if uid:
        found.append(Ask("UID", uid, api_version=f"{AUTHENTICATION_GROUP}/v1"))
    if found and not user:
        listed = " ".join(a.go_string() for a in found)
        raise errors.InternalError(f"Internal error occurred: requested [{listed}] without "
                                   "impersonating a user")
    return found


def _attributes(requester: UserInfo, ask: Ask) -> Attributes:
    group, _, version = ask.api_version.rpartition("/")
    resource, subresource = {
        "ServiceAccount": ("serviceaccounts", ""), "User": ("users", ""),
        "Group": ("groups", ""), "UserExtra": ("userextras", ask.field_path),
        "UID": ("uids", ""),
    }[ask.kind]
    return Attributes(user=requester, verb="impersonate", resource_request=True,
                      api_group=group, api_version=version, namespace=ask.namespace,
                      resource=resource, subresource=subresource, name=ask.name)


async def impersonate(headers: MultiMapping[str], requester: UserInfo,
                      authorizer: Authorizer | None) -> UserInfo:
    """The user the request acts as: `requester` itself without impersonation headers.
    `authorizer` None: the server authorizes nothing, so every impersonation is allowed."""
    wanted = asks(headers)
    if not wanted:
        return requester
    name, uid = "", ""
    groups: list[str] = []
    extra: dict[str, tuple[str, ...]] = {}
    groups_given = any(a.kind == "Group" for a in wanted)
    for ask in wanted:
        if authorizer is not None:
            attrs = _attributes(requester, ask)
            decision, reason = await authorizer.authorize(attrs)
            if decision is not Decision.ALLOW:
                raise forbidden(attrs, reason)
        if ask.kind == "ServiceAccount":
            name = service_account_username(ask.namespace, ask.name)
            if not groups_given:
                groups.extend(service_account_groups(ask.namespace))
        elif ask.kind == "User":
            name = ask.name
        elif ask.kind == "Group":
            groups.append(ask.name)
        elif ask.kind == "UserExtra":
            extra[ask.field_path] = (*extra.get(ask.field_path, ()), ask.name)
        else:
            uid = ask.name
    if name != ANONYMOUS:
        if not {ALL_AUTHENTICATED, ALL_UNAUTHENTICATED} & set(groups):
            groups.append(ALL_AUTHENTICATED)
    elif ALL_UNAUTHENTICATED not in groups:
        groups.append(ALL_UNAUTHENTICATED)
    return UserInfo(name, uid=uid, groups=tuple(groups), extra=extra)
