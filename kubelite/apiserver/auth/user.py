"""Who a request comes from, as upstream's k8s.io/apiserver/pkg/authentication/user.

A UserInfo is what an authenticator finds: a name, a uid, groups and extra values.
Authenticated users always carry `system:authenticated`; the anonymous user carries
`system:unauthenticated` instead. Members of `system:masters` pass every authorizer,
as upstream's privileged group does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
SYSTEM_PRIVILEGED_GROUP = "system:masters"
APISERVER_USER = "system:apiserver"
NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
SERVICE_ACCOUNT_USER_PREFIX = "system:serviceaccount:"
KUBE_SCHEDULER = "system:kube-scheduler"
KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager"
KUBE_PROXY = "system:kube-proxy"


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_api(self) -> dict[str, object]:
        """The UserInfo object of TokenReview and SelfSubjectReview status."""
        out: dict[str, object] = {"username": self.name}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out

    @property
    def privileged(self) -> bool:
        return SYSTEM_PRIVILEGED_GROUP in self.groups


ANONYMOUS_USER = UserInfo(ANONYMOUS, groups=(ALL_UNAUTHENTICATED,))

# Who a request is when the server authenticates nobody (no authenticator is
# configured): today's trust-the-loopback behaviour, everyone an administrator.
UNAUTHENTICATED_ADMIN = UserInfo("system:admin", groups=(SYSTEM_PRIVILEGED_GROUP,
                                                         ALL_AUTHENTICATED))


def service_account_username(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}"


def service_account_groups(namespace: str) -> tuple[str, ...]:
    return (SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}")


def split_service_account(username: str) -> tuple[str, str] | None:
    """(namespace, name) of a `system:serviceaccount:<ns>:<name>` user, else None."""
    if not username.startswith(SERVICE_ACCOUNT_USER_PREFIX):
        return None
    parts = username[len(SERVICE_ACCOUNT_USER_PREFIX):].split(":")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]
