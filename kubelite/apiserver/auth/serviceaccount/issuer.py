"""Signing ServiceAccount tokens (upstream's JWTTokenGenerator).

Every token is a compact JWS signed with the service account key, its header
naming the key (`kid`) so verifiers pick the right one from the JWKS. Claims are
built in claims.py; the issuer only stamps `iss` (bound tokens carry the configured
issuer, legacy ones `kubernetes/serviceaccount`) and signs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import jwt

from kubelite.apiserver.auth.serviceaccount import claims
from kubelite.apiserver.auth.serviceaccount.claims import ObjectRef
from kubelite.apiserver.auth.serviceaccount.keys import SigningKey


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    payload: claims.Obj


@dataclass(slots=True)
class TokenIssuer:
    key: SigningKey
    issuer: str
    api_audiences: tuple[str, ...]
    # --service-account-max-token-expiration (seconds; 0: no limit)
    max_expiration_seconds: int = 0
    extend_expiration: bool = True
    clock: Callable[[], float] = field(default=time.time)

    def sign(self, payload: claims.Obj) -> str:
        return jwt.encode(payload, self.key.private_key, algorithm=self.key.algorithm,
                          headers={"kid": self.key.kid})

    def issue(self, *, namespace: str, name: str, uid: str, audiences: Sequence[str],
              expiration_seconds: int, pod: ObjectRef | None = None,
              secret: ObjectRef | None = None, node: ObjectRef | None = None,
              warn_after_seconds: int = 0) -> IssuedToken:
        payload = claims.bound_claims(
            issuer=self.issuer, namespace=namespace, name=name, uid=uid,
            audiences=audiences, now=int(self.clock()), expiration_seconds=expiration_seconds,
            jti=str(uuid.uuid4()), pod=pod, secret=secret, node=node,
            warn_after_seconds=warn_after_seconds)
        return IssuedToken(self.sign(payload), payload)

    def issue_legacy(self, *, namespace: str, name: str, uid: str, secret_name: str) -> str:
        """The token a kubernetes.io/service-account-token Secret holds (what upstream's
        token controller writes into its data.token)."""
        return self.sign(claims.legacy_claims(namespace=namespace, name=name, uid=uid,
                                              secret_name=secret_name))
