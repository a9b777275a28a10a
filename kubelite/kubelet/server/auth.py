"""Who may ask the kubelet what (upstream's pkg/kubelet/server/auth.go and the
webhook authenticator and authorizer it builds by default).

Authentication: a client certificate the TLS handshake verified against the
cluster's client CA (the serving context asks for one and checks it: CN is the user,
O the groups), else a bearer token, which the API server reviews (TokenReview).
Authorization: a SubjectAccessReview to the API server for `<verb>` on
`nodes/<subresource>` named after this node, the subresource by path as upstream:
/stats/ -> stats, /metrics/ -> metrics, /logs/ -> log, anything else (containerLogs,
exec, attach, portForward, run, pods, healthz) -> proxy; the verb by method (GET
get, POST create, PUT update, PATCH patch, DELETE delete).

Answers are cached for a short while, as upstream's webhooks cache them (tokens 2
minutes, allowed reviews 5 minutes, denied 30 seconds), so a `kubectl logs -f` loop
or a scraper costs the API server one review per window, not one per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kubelite.client.resource import Resource
from kubelite.client.rest import Client

Obj = dict[str, Any]

TOKEN_REVIEWS = Resource("authentication.k8s.io", "v1", "tokenreviews", namespaced=False,
                         kind="TokenReview")
ACCESS_REVIEWS = Resource("authorization.k8s.io", "v1", "subjectaccessreviews",
                          namespaced=False, kind="SubjectAccessReview")
TOKEN_TTL, ALLOWED_TTL, DENIED_TTL = 120.0, 300.0, 30.0
_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
          "DELETE": "delete"}


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


def subresource_of(path: str) -> str:
    for prefix, subresource in (("/stats/", "stats"), ("/metrics/", "metrics"),
                                ("/logs/", "log")):
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return subresource
    return "proxy"


def certificate_user(request: web.BaseRequest) -> User | None:
    transport = request.transport
    peer = transport.get_extra_info("peercert") if transport is not None else None
    if not peer:
        return None
    name, groups = "", []
    for rdn in peer.get("subject") or ():
        for attribute, value in rdn:
            if attribute == "commonName":
                name = value
            elif attribute == "organizationName":
                groups.append(value)
    return User(name, tuple(groups)) if name else None


class _TTLCache:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        hit = self._entries.get(key)
        if hit is None or hit[0] < self._clock():
            self._entries.pop(key, None)
            return None
        return hit[1]

    def put(self, key: Any, value: Any, ttl: float) -> None:
        if len(self._entries) > 4096:  # forget the expired before growing further
            now = self._clock()
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
        self._entries[key] = (self._clock() + ttl, value)


class Gate:
    """Authenticates and authorizes a request to the kubelet's server against the API
    server behind `client`."""

    def __init__(self, client: Client, node_name: str, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.node_name = node_name
        self._tokens = _TTLCache(clock)
        self._decisions = _TTLCache(clock)

    async def authenticate(self, request: web.BaseRequest) -> User | None:
        if (by_certificate := certificate_user(request)) is not None:
            return by_certificate
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        token = token.strip()
        cached = self._tokens.get(token)
        if cached is not None:
            return cached or None
        review = await self.client.create(TOKEN_REVIEWS, {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
            "spec": {"token": token}})
        status = review.get("status") or {}
        user: User | None = None
        if status.get("authenticated"):
            info = status.get("user") or {}
            user = User(info.get("username", ""), tuple(info.get("groups") or ()),
                        info.get("uid", ""),
                        tuple((k, tuple(v)) for k, v in (info.get("extra") or {}).items()))
        self._tokens.put(token, user or False, TOKEN_TTL)
        return user

    async def authorize(self, user: User, method: str, path: str) -> tuple[bool, str]:
        verb = _VERBS.get(method, "get")
        subresource = subresource_of(path)
        key = (user, verb, subresource)
        cached = self._decisions.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        review = await self.client.create(ACCESS_REVIEWS, {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": user.name, "groups": list(user.groups), "uid": user.uid,
                     "extra": {k: list(v) for k, v in user.extra},
                     "resourceAttributes": {"verb": verb, "resource": "nodes",
                                            "subresource": subresource,
                                            "name": self.node_name}}})
        status = review.get("status") or {}
        allowed = bool(status.get("allowed"))
        reason = (f'Forbidden (user={user.name}, verb={verb}, resource=nodes, '
                  f'subresource={subresource})')
        self._decisions.put(key, (allowed, reason), ALLOWED_TTL if allowed else DENIED_TTL)
        return allowed, reason
