"""Pod-bound ServiceAccount tokens for projected volumes, as upstream's kubelet token
manager (pkg/kubelet/token/token_manager.go).

A token is asked of the API (POST serviceaccounts/<name>/token, a TokenRequest bound
to the pod) and cached by what it was asked for. It is renewed once 80% of its life
has passed or it is 24 hours old, each less a jitter of up to 10 s so that a node's
tokens do not all renew in the same second; until then the cached one is handed out.
`clock` is the wall clock (seconds since the epoch), injectable so tests can age a
token without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubelite.client.rest import Client
from kubelite.machinery.timestamps import parse_rfc3339

Obj = dict[str, Any]

MAX_TTL = 24 * 3600.0
MAX_JITTER = 10.0
SERVICE_ACCOUNTS = "serviceaccounts"


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: float  # seconds since the epoch
    lifetime: float  # the expirationSeconds the API granted


def refresh_due(issued: Issued, now: float, jitter: float) -> bool:
    """Whether a token must be renewed at `now`: past 24 h of its life, or into the
    last 20% of it (each brought `jitter` seconds earlier), as upstream's requiresRefresh."""
    issued_at = issued.expires_at - issued.lifetime
    if now > issued_at + MAX_TTL - jitter:
        return True
    return now > issued.expires_at - issued.lifetime * 0.2 - jitter


def refresh_at(issued: Issued) -> float:
    """When the token will be due for renewal, before any jitter."""
    return min(issued.expires_at - issued.lifetime * 0.2,
               issued.expires_at - issued.lifetime + MAX_TTL)


class TokenManager:
    def __init__(self, client: Client, *, clock: Callable[[], float] = time.time,
                 jitter: Callable[[], float] = lambda: random.uniform(0, MAX_JITTER)) -> None:
        self._client = client
        self._clock = clock
        self._jitter = jitter
        self._cache: dict[tuple[str, str, str, int, str], Issued] = {}

    async def token(self, pod: Obj, audience: str, expiration_seconds: int) -> str:
        """The pod's token for `audience` ("" for the API server's own), from the cache
        while it is fresh; raises the API's error (kubelite.machinery.errors)."""
        meta = pod.get("metadata") or {}
        namespace = str(meta.get("namespace") or "default")
        account = str((pod.get("spec") or {}).get("serviceAccountName") or "default")
        key = (namespace, account, audience, expiration_seconds, str(meta.get("uid") or ""))
        cached = self._cache.get(key)
        if cached is not None and not refresh_due(cached, self._clock(), self._jitter()):
            return cached.token
        spec: Obj = {"expirationSeconds": expiration_seconds, "boundObjectRef": {
            "apiVersion": "v1", "kind": "Pod", "name": meta.get("name"), "uid": meta.get("uid")}}
        if audience:
            spec["audiences"] = [audience]
        answer = await self._client.request(
            "POST", f"/api/v1/namespaces/{namespace}/{SERVICE_ACCOUNTS}/{account}/token", body={
                "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "metadata": {"name": account, "namespace": namespace}, "spec": spec})
        status = answer.get("status") or {}
        granted = int((answer.get("spec") or {}).get("expirationSeconds") or expiration_seconds)
        expiry = parse_rfc3339(str(status.get("expirationTimestamp") or ""))
        expires_at = expiry.timestamp() if expiry else self._clock() + granted
        self._cache[key] = Issued(str(status.get("token") or ""), expires_at, float(granted))
        return self._cache[key].token

    def next_refresh(self) -> float | None:
        """The earliest moment a cached token comes due (None: no tokens)."""
        return min((refresh_at(i) for i in self._cache.values()), default=None)

    def forget_pod(self, pod_uid: str) -> None:
        for key in [k for k in self._cache if k[4] == pod_uid]:
            del self._cache[key]
