"""What a ServiceAccount token says, and the checks that need no lookup.

Bound tokens (TokenRequest) carry upstream's claims (pkg/serviceaccount/claims.go):

    iss  the issuer (--service-account-issuer)    sub  system:serviceaccount:<ns>:<name>
    aud  the audiences                             jti  a random id (the credential id)
    iat, nbf  when issued                          exp  when it stops working
    kubernetes.io: {namespace, serviceaccount: {name, uid},
                    pod | secret | node: {name, uid}, warnafter}

A pod-bound token also names the pod's node (name, and uid when the node exists),
as ServiceAccountTokenPodNodeInfo does. Legacy tokens (the Secret-based ones of
kubernetes.io/service-account-token Secrets) are issued by `kubernetes/serviceaccount`
with flat `kubernetes.io/serviceaccount/*` claims and never expire (legacy.go).

Times are checked as go-jose's Validate does, with its one-minute leeway: a token
whose exp is more than a minute past is expired, one whose nbf is more than a minute
ahead is not valid yet. The clock is always passed in, so tests choose the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.apiserver.auth.audiences import TokenRejected, intersect
from kubelite.apiserver.auth.user import (
    UserInfo,
    service_account_groups,
    service_account_username,
    split_service_account,
)

Obj = dict[str, Any]

LEGACY_ISSUER = "kubernetes/serviceaccount"
LEEWAY_SECONDS = 60  # go-jose's jwt.DefaultLeeway
# The kubelet asks for 3607 seconds; such pod-bound tokens for the API's own
# audiences last a year and only warn after 3607 s, so clients that do not yet
# reload their token keep working (upstream's --service-account-extend-token-expiration).
WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 60 * 60 + 7
EXPIRATION_EXTENSION_SECONDS = 24 * 365 * 60 * 60

# UserInfo.extra keys of service account users (k8s.io/apiserver/pkg/authentication/serviceaccount)
POD_NAME_KEY = "authentication.kubernetes.io/pod-name"
POD_UID_KEY = "authentication.kubernetes.io/pod-uid"
NODE_NAME_KEY = "authentication.kubernetes.io/node-name"
NODE_UID_KEY = "authentication.kubernetes.io/node-uid"
CREDENTIAL_ID_KEY = "authentication.kubernetes.io/credential-id"

_LEGACY_NAMESPACE = "kubernetes.io/serviceaccount/namespace"
_LEGACY_SECRET = "kubernetes.io/serviceaccount/secret.name"
_LEGACY_SA_NAME = "kubernetes.io/serviceaccount/service-account.name"
_LEGACY_SA_UID = "kubernetes.io/serviceaccount/service-account.uid"


@dataclass(frozen=True, slots=True)
class ObjectRef:
    name: str
    uid: str = ""

    def to_claim(self) -> Obj:
        out: Obj = {"name": self.name}
        if self.uid:
            out["uid"] = self.uid
        return out


@dataclass(frozen=True, slots=True)
class ServiceAccountInfo:
    """Who a valid token names (upstream's serviceaccount.ServiceAccountInfo)."""

    namespace: str
    name: str
    uid: str
    pod: ObjectRef | None = None
    node: ObjectRef | None = None
    credential_id: str = ""

    def user(self) -> UserInfo:
        extra: dict[str, tuple[str, ...]] = {}
        if self.pod is not None and self.pod.name and self.pod.uid:
            extra[POD_NAME_KEY] = (self.pod.name,)
            extra[POD_UID_KEY] = (self.pod.uid,)
        if self.credential_id:
            extra[CREDENTIAL_ID_KEY] = (self.credential_id,)
        if self.node is not None and self.node.name:
            extra[NODE_NAME_KEY] = (self.node.name,)
            if self.node.uid:
                extra[NODE_UID_KEY] = (self.node.uid,)
        return UserInfo(service_account_username(self.namespace, self.name), uid=self.uid,
                        groups=service_account_groups(self.namespace), extra=extra)


def credential_id_for_jti(jti: str) -> str:
    return f"JTI={jti}"


def bound_claims(*, issuer: str, namespace: str, name: str, uid: str,
                 audiences: Sequence[str], now: int, expiration_seconds: int, jti: str,
                 pod: ObjectRef | None = None, secret: ObjectRef | None = None,
                 node: ObjectRef | None = None, warn_after_seconds: int = 0) -> Obj:
    """The payload of a bound token (claims.go's Claims)."""
    kubernetes: Obj = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
    if pod is not None:
        kubernetes["pod"] = pod.to_claim()
        if node is not None:  # the pod's node, for the kubelet's NodeRestriction checks
            kubernetes["node"] = node.to_claim()
    elif secret is not None:
        kubernetes["secret"] = secret.to_claim()
    elif node is not None:
        kubernetes["node"] = node.to_claim()
    if warn_after_seconds:
        kubernetes["warnafter"] = now + warn_after_seconds
    return {"aud": list(audiences), "exp": now + expiration_seconds, "iat": now,
            "iss": issuer, "jti": jti, "kubernetes.io": kubernetes, "nbf": now,
            "sub": service_account_username(namespace, name)}


def legacy_claims(*, namespace: str, name: str, uid: str, secret_name: str) -> Obj:
    """The payload of a Secret-based token (legacy.go's LegacyClaims)."""
    return {"iss": LEGACY_ISSUER, _LEGACY_NAMESPACE: namespace, _LEGACY_SECRET: secret_name,
            _LEGACY_SA_NAME: name, _LEGACY_SA_UID: uid,
            "sub": service_account_username(namespace, name)}


def check_times(payload: Obj, now: float) -> None:
    """go-jose's Claims.Validate with its leeway, in the words of claims.go."""
    exp, nbf = payload.get("exp"), payload.get("nbf")
    if exp is not None and (not isinstance(exp, (int, float)) or now - LEEWAY_SECONDS > exp):
        raise TokenRejected("service account token has expired")
    if nbf is not None and (not isinstance(nbf, (int, float)) or now + LEEWAY_SECONDS < nbf):
        raise TokenRejected("service account token is not valid yet")


def token_audiences(payload: Obj) -> tuple[str, ...]:
    """The aud claim, a string or a list of strings as RFC 7519 allows."""
    aud = payload.get("aud")
    if isinstance(aud, str):
        return (aud,)
    if isinstance(aud, list):
        return tuple(a for a in aud if isinstance(a, str))
    return ()


def go_quote(values: Sequence[str]) -> str:
    """Go's %q of a []string: ["a" "b"]."""
    return "[" + " ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "]"


def matched_audiences(payload: Obj, requested: Sequence[str] | None,
                      implicit: Sequence[str]) -> tuple[str, ...]:
    """jwt.go's audience check: the token's audiences (a legacy token has none and
    counts as the API's) that the caller asked for (the API's, unless a TokenReview
    names others). No overlap is a rejection whenever the API has audiences."""
    have = token_audiences(payload) or tuple(implicit)
    want = tuple(implicit) if requested is None else tuple(requested)
    matched = intersect(have, want)
    if not matched and implicit:
        raise TokenRejected(f"token audiences {go_quote(have)} is invalid for the target "
                            f"audiences {go_quote(want)}")
    return matched


def _ref(value: Any) -> ObjectRef | None:
    if not isinstance(value, dict):
        return None
    name, uid = value.get("name", ""), value.get("uid", "")
    if not isinstance(name, str) or not isinstance(uid, str):
        raise TokenRejected("service account token claims could not be validated due to "
                            "unexpected private claim")
    return ObjectRef(name, uid)


@dataclass(frozen=True, slots=True)
class BoundClaims:
    namespace: str
    name: str
    uid: str
    pod: ObjectRef | None
    secret: ObjectRef | None
    node: ObjectRef | None
    jti: str

    @classmethod
    def parse(cls, payload: Obj) -> BoundClaims:
        private = payload.get("kubernetes.io")
        if not isinstance(private, dict):
            private = {}
        account = _ref(private.get("serviceaccount")) or ObjectRef("")
        namespace = private.get("namespace", "")
        jti = payload.get("jti", "")
        if not isinstance(namespace, str) or not isinstance(jti, str):
            raise TokenRejected("service account token claims could not be validated due "
                                "to unexpected private claim")
        return cls(namespace, account.name, account.uid, _ref(private.get("pod")),
                   _ref(private.get("secret")), _ref(private.get("node")), jti)


@dataclass(frozen=True, slots=True)
class LegacyClaims:
    namespace: str
    name: str
    uid: str
    secret_name: str

    @classmethod
    def parse(cls, payload: Obj) -> LegacyClaims:
        """legacy.go's checks, in its order and words."""
        def claim(key: str) -> str:
            value = payload.get(key, "")
            return value if isinstance(value, str) else ""

        subject = claim("sub")
        if not subject:
            raise TokenRejected("sub claim is missing")
        namespace = claim(_LEGACY_NAMESPACE)
        if not namespace:
            raise TokenRejected("namespace claim is missing")
        secret_name = claim(_LEGACY_SECRET)
        if not secret_name:
            raise TokenRejected("secretName claim is missing")
        name = claim(_LEGACY_SA_NAME)
        if not name:
            raise TokenRejected("serviceAccountName claim is missing")
        uid = claim(_LEGACY_SA_UID)
        if not uid:
            raise TokenRejected("serviceAccountUID claim is missing")
        if split_service_account(subject) != (namespace, name):
            raise TokenRejected("sub claim is invalid")
        return cls(namespace, name, uid, secret_name)
