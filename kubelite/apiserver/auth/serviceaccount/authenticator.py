"""Authenticating ServiceAccount tokens (upstream's JWTTokenAuthenticator with the
legacy and the bound-token validators).

A bearer token is this authenticator's when it is a compact JWT whose (unverified)
issuer is the configured issuer or, for Secret-based tokens, `kubernetes/serviceaccount`;
any other token is left to the next authenticator. One of ours is then checked, in
upstream's order, and refused with upstream's message at the first failure:

    signature   by the key its `kid` names (every key when it names none)
    issuer      once more, now that the claims are signed
    audience    the token's `aud` (a legacy token: the API audiences) must meet the
                audiences asked for (the API audiences, or a TokenReview's)
    legacy      the claims complete and consistent; the Secret still exists, is not
                being deleted, is not marked invalid (kubernetes.io/legacy-token-invalid-since)
                and holds this very token; the ServiceAccount exists with the claimed uid
    bound       not expired, valid already (a minute's leeway each way); the
                ServiceAccount exists with the claimed uid; the bound Secret, Pod or
                Node (a node-bound token) exists with the claimed uid. An object being
                deleted counts as gone once its deletionTimestamp is a minute old.

The user is `system:serviceaccount:<ns>:<name>` in `system:serviceaccounts` and
`system:serviceaccounts:<ns>`, its uid the ServiceAccount's, with the pod, node and
credential id (JTI=<jti>) as extra values (see claims.ServiceAccountInfo).

Objects are read from the watch cache, as upstream reads informers: an entry lookup
per object, no list and no round trip to the store. Only a miss asks the store how
far it is and looks again, so a ServiceAccount created a moment ago is found; a token
of a deleted pod may still pass until the cache has seen the deletion (upstream's
informers lag the same way).

Checking a signature costs about a millisecond (PyJWT validates every base64
character in Python), so the payloads of tokens whose signature and issuer passed
are kept, the most recent VERIFIED_TOKENS of them: a token seen again skips straight
to the audience, time and lookup checks, which run on every request, so a token
expires or is revoked at once. (Upstream instead caches whole successful answers for
ten seconds.) Refusals are not kept.

A refused token is a plain 401 (upstream never tells a client why); TokenReview
gets the reason through review_token().
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import jwt
import orjson

from kubelite.apiserver.auth.audiences import TokenRejected, TokenResult
from kubelite.apiserver.auth.serviceaccount import claims
from kubelite.apiserver.auth.serviceaccount.claims import (
    LEGACY_ISSUER,
    BoundClaims,
    LegacyClaims,
    ObjectRef,
    ServiceAccountInfo,
)
from kubelite.apiserver.auth.serviceaccount.keys import SigningKey
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.registry.store import StoreTable
from kubelite.machinery import errors
from kubelite.machinery.timestamps import parse_rfc3339

log = logging.getLogger(__name__)

Obj = dict[str, Any]

INVALID_SINCE_LABEL = "kubernetes.io/legacy-token-invalid-since"
SERVICE_ACCOUNT_TOKEN_KEY = "token"
VERIFIED_TOKENS = 4096
# Signature, issuer, audience and times are ours to check, with our clock.
_DECODE_OPTIONS: Any = {"verify_signature": True, "verify_exp": False, "verify_nbf": False,
                        "verify_iat": False, "verify_aud": False, "verify_iss": False,
                        "verify_sub": False, "verify_jti": False}


def unverified_issuer(token: str) -> str | None:
    """jwt.go's hasCorrectIssuer: the `iss` of something shaped like a compact JWT,
    read without checking anything; None for anything else."""
    if token.lstrip().startswith("{"):
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    return issuer if isinstance(issuer, str) else None


class CachedObjects:
    """Core objects by namespace and name, from the watch cache."""

    def __init__(self, stores: StoreTable) -> None:
        self.stores = stores

    async def get(self, plural: str, namespace: str, name: str) -> Obj | None:
        try:
            entry = await self.stores.store_for("", plural).cached_entry(namespace, name)
        except errors.StatusError:
            return None  # the cache could not catch up: nothing to vouch for the token
        return None if entry is None else entry.obj


class ServiceAccountTokenAuthenticator:
    def __init__(self, *, keys: Sequence[SigningKey], issuers: Sequence[str],
                 api_audiences: Sequence[str], objects: CachedObjects,
                 legacy: bool = True, clock: Callable[[], float] = time.time) -> None:
        """`issuers`: the bound-token issuers accepted (the first is the one tokens
        are issued by). `legacy`: also accept Secret-based tokens."""
        self.keys = list(keys)
        self.issuers = frozenset(issuers)
        self.api_audiences = tuple(api_audiences)
        self.objects = objects
        self.legacy = legacy
        self.clock = clock
        self._by_kid: dict[str, list[SigningKey]] = {}
        self._verified: OrderedDict[str, Obj] = OrderedDict()  # token -> signed payload
        for key in self.keys:
            self._by_kid.setdefault(key.kid, []).append(key)

    @property
    def implicit_audiences(self) -> tuple[str, ...]:
        return self.api_audiences

    async def authenticate_token(self, token: str) -> UserInfo | None:
        try:
            result = await self.review_token(token, None)
        except TokenRejected as err:
            log.debug("service account token refused: %s", err)
            return None
        return None if result is None else result.user

    async def review_token(self, token: str, audiences: Sequence[str] | None
                           ) -> TokenResult | None:
        payload = self._verified.get(token)
        if payload is not None:
            self._verified.move_to_end(token)
        else:
            payload = self._signed_payload(token)
            if payload is None:
                return None
            self._verified[token] = payload
            if len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        is_legacy = payload.get("iss") == LEGACY_ISSUER
        matched = claims.matched_audiences(payload, audiences, self.api_audiences)
        info = (await self._validate_legacy(token, payload) if is_legacy
                else await self._validate_bound(payload))
        return TokenResult(info.user(), matched)

    def _signed_payload(self, token: str) -> Obj | None:
        """The payload of a token of ours whose signature and issuer hold; None for a
        token that is not ours."""
        issuer = unverified_issuer(token)
        if issuer is None or not (issuer in self.issuers or
                                  (issuer == LEGACY_ISSUER and self.legacy)):
            return None
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None  # not a JWS: upstream's ParseSigned failing
        payload = self._verified_payload(token, header)
        if payload.get("iss") != issuer:
            raise TokenRejected(f'token issuer "{payload.get("iss")}" is invalid')
        return payload

    def _verified_payload(self, token: str, header: Obj) -> Obj:
        kid = header.get("kid")
        keys = self._by_kid.get(kid, []) if isinstance(kid, str) and kid else self.keys
        if not keys:
            raise TokenRejected("invalid signature, no keys found")
        for key in keys:
            try:
                payload: Obj = jwt.decode(token, key.public_key, algorithms=[key.algorithm],
                                          options=_DECODE_OPTIONS)
                return payload
            except jwt.PyJWTError:
                continue
        raise TokenRejected("square/go-jose: error in cryptographic primitive")

    def _deleted_long_ago(self, obj: Obj, now: float) -> bool:
        """An object whose deletion started over a leeway ago (claims.go)."""
        stamp = obj["metadata"].get("deletionTimestamp")
        if not stamp:
            return False
        moment = parse_rfc3339(stamp)
        return moment is None or moment.timestamp() < now - claims.LEEWAY_SECONDS

    async def _service_account(self, namespace: str, name: str, uid: str, *,
                               deleted_at_once: bool) -> None:
        account = await self.objects.get("serviceaccounts", namespace, name)
        if account is None:
            raise TokenRejected(f'serviceaccounts "{name}" not found')
        meta = account["metadata"]
        deleted = bool(meta.get("deletionTimestamp")) if deleted_at_once else \
            self._deleted_long_ago(account, self.clock())
        if deleted:
            raise TokenRejected(f"service account {namespace}/{name} has been deleted")
        if meta.get("uid", "") != uid:
            raise TokenRejected(f"service account UID ({meta.get('uid', '')}) does not "
                                f"match claim ({uid})")

    async def _validate_legacy(self, token: str, payload: Obj) -> ServiceAccountInfo:
        legacy = LegacyClaims.parse(payload)
        secret = await self.objects.get("secrets", legacy.namespace, legacy.secret_name)
        if secret is None or secret["metadata"].get("deletionTimestamp"):
            raise TokenRejected("Token has been invalidated")
        stored = (secret.get("data") or {}).get(SERVICE_ACCOUNT_TOKEN_KEY, "")
        try:
            stored_token = base64.b64decode(stored, validate=True)
        except (binascii.Error, ValueError, TypeError):
            stored_token = b""
        if not hmac.compare_digest(stored_token, token.encode()):
            raise TokenRejected("Token does not match server's copy")
        await self._service_account(legacy.namespace, legacy.name, legacy.uid,
                                    deleted_at_once=True)
        if (secret["metadata"].get("labels") or {}).get(INVALID_SINCE_LABEL):
            raise TokenRejected(
                f"the token in secret {legacy.namespace}/{legacy.secret_name} for service "
                f"account {legacy.namespace}/{legacy.name} has been marked invalid. Use "
                f"tokens from the TokenRequest API or manually created secret-based tokens, "
                f"or remove the '{INVALID_SINCE_LABEL}' label from the secret to "
                f"temporarily allow use of this token")
        return ServiceAccountInfo(legacy.namespace, legacy.name, legacy.uid)

    async def _bound_object(self, plural: str, namespace: str, ref: ObjectRef,
                            kind: str, now: float) -> None:
        obj = await self.objects.get(plural, namespace, ref.name)
        if obj is None or self._deleted_long_ago(obj, now):
            raise TokenRejected("service account token has been invalidated")
        uid = obj["metadata"].get("uid", "")
        if uid != ref.uid:
            raise TokenRejected(f"{kind} UID ({uid}) does not match service account "
                                f"{kind.lower()} ref claim ({ref.uid})")

    async def _validate_bound(self, payload: Obj) -> ServiceAccountInfo:
        now = self.clock()
        claims.check_times(payload, now)
        bound = BoundClaims.parse(payload)
        await self._service_account(bound.namespace, bound.name, bound.uid,
                                    deleted_at_once=False)
        if bound.secret is not None:
            await self._bound_object("secrets", bound.namespace, bound.secret, "secret", now)
        if bound.pod is not None:
            await self._bound_object("pods", bound.namespace, bound.pod, "pod", now)
        elif bound.node is not None:
            await self._bound_object("nodes", "", bound.node, "node", now)
        return ServiceAccountInfo(
            bound.namespace, bound.name, bound.uid, pod=bound.pod, node=bound.node,
            credential_id=claims.credential_id_for_jti(bound.jti) if bound.jti else "")
