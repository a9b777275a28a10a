"""The bootstrap token's format (upstream's k8s.io/cluster-bootstrap/token/api and
secret util): a token `<id>.<secret>` is a Secret `bootstrap-token-<id>` in kube-system
of type bootstrap.kubernetes.io/token. Read by the API server's authenticator, the
token cleaner and `kubelite token`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import math
import re
from typing import Any

Obj = dict[str, Any]

TOKEN_PATTERN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
SECRET_TYPE = "bootstrap.kubernetes.io/token"
SECRET_PREFIX = "bootstrap-token-"
NAMESPACE = "kube-system"
USER_PREFIX = "system:bootstrap:"
DEFAULT_GROUP = "system:bootstrappers"
GROUP_PATTERN = re.compile(r"^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$")
ID_KEY, SECRET_KEY = "token-id", "token-secret"
EXPIRATION_KEY, EXTRA_GROUPS_KEY = "expiration", "auth-extra-groups"
USAGE_AUTHENTICATION = "usage-bootstrap-authentication"
USAGES = ("signing", "authentication")  # usage-bootstrap-<usage>


def secret_data(secret: Obj, key: str) -> str:
    """A data value decoded, or "" (upstream's bootstrapsecretutil.GetData)."""
    raw = (secret.get("data") or {}).get(key)
    if not isinstance(raw, str):
        return ""
    try:
        return base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def seconds_left(secret: Obj, now: datetime.datetime) -> float | None:
    """Seconds until the token expires: None without an expiration, negative once past
    (minus infinity when the expiration does not parse: such a token has expired, as
    upstream's HasExpired says)."""
    value = secret_data(secret, EXPIRATION_KEY)
    if not value:
        return None
    try:
        expires = datetime.datetime.fromisoformat(value)  # RFC 3339: Z or an offset
    except ValueError:
        return -math.inf
    if expires.tzinfo is None:
        return -math.inf
    return (expires - now).total_seconds()


def has_expired(secret: Obj, now: datetime.datetime) -> bool:
    left = seconds_left(secret, now)
    return left is not None and left < 0


def groups_of(secret: Obj) -> tuple[str, ...]:
    """system:bootstrappers and the extra groups, deduplicated and sorted; ValueError
    names a group of the wrong form."""
    groups = {DEFAULT_GROUP}
    extra = secret_data(secret, EXTRA_GROUPS_KEY)
    for group in extra.split(",") if extra else ():
        if not GROUP_PATTERN.match(group):
            raise ValueError(f"{group!r} does not match {GROUP_PATTERN.pattern}")
        groups.add(group)
    return tuple(sorted(groups))


def token_secret(token: str, *, ttl: datetime.timedelta, description: str,
                 usages: list[str], groups: list[str], now: datetime.datetime) -> Obj:
    """The Secret that backs a token; ValueError for a malformed token, usage or group."""
    match = TOKEN_PATTERN.match(token)
    if match is None:
        raise ValueError(f"the token {token!r} must be of the form "
                         "[a-z0-9]{6}.[a-z0-9]{16}")
    for usage in usages:
        if usage not in USAGES:
            raise ValueError(f"unknown usage {usage!r} (valid: {', '.join(USAGES)})")
    for group in groups:
        if not GROUP_PATTERN.match(group):
            raise ValueError(f"group {group!r} must match {GROUP_PATTERN.pattern}")
    token_id, token_value = match.groups()
    data = {ID_KEY: token_id, SECRET_KEY: token_value}
    if description:
        data["description"] = description
    if ttl:
        data[EXPIRATION_KEY] = (now + ttl).strftime("%Y-%m-%dT%H:%M:%SZ")
    for usage in usages:
        data[f"usage-bootstrap-{usage}"] = "true"
    if groups:
        data[EXTRA_GROUPS_KEY] = ",".join(groups)
    return {"apiVersion": "v1", "kind": "Secret", "type": SECRET_TYPE,
            "metadata": {"name": SECRET_PREFIX + token_id, "namespace": NAMESPACE},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


# Token discovery (kubeadm's): the kube-public/cluster-info ConfigMap holds a kubeconfig
# with the cluster's CA, signed for each signing token as `jws-kubeconfig-<id>`. A
# joining node that knows a token fetches the ConfigMap anonymously and trusts the CA
# only if the signature over the kubeconfig holds for its token.
CLUSTER_INFO_NAMESPACE = "kube-public"
CLUSTER_INFO_NAME = "cluster-info"
KUBECONFIG_KEY = "kubeconfig"
JWS_PREFIX = "jws-kubeconfig-"
USAGE_SIGNING = "usage-bootstrap-signing"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def detached_signature(content: str, token_id: str, token_value: str) -> str:
    """A compact JWS (HS256, `kid` the token id) of `content` with the content elided,
    `header..signature` (RFC 7515 appendix F), as k8s.io/cluster-bootstrap's
    ComputeDetachedSignature makes it: the key is the token's secret, zero-padded to
    32 bytes, and the header `{"alg":"HS256","kid":"<id>"}` as go-jose writes it."""
    key = token_value.encode().ljust(32, b"\0")
    header = _b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    signing_input = f"{header}.{_b64url(content.encode())}".encode()
    signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    return f"{header}..{_b64url(signature)}"


def signature_holds(signature: str, content: str, token_id: str, token_value: str) -> bool:
    return hmac.compare_digest(signature, detached_signature(content, token_id, token_value))


def signs(secret: Obj, now: datetime.datetime) -> tuple[str, str] | None:
    """(id, secret) of a token that may sign cluster-info: well named, unexpired,
    with usage-bootstrap-signing (upstream's validateSecretForSigning)."""
    token_id = secret_data(secret, ID_KEY)
    token_value = secret_data(secret, SECRET_KEY)
    name = str((secret.get("metadata") or {}).get("name", ""))
    if not token_id or not token_value or name != SECRET_PREFIX + token_id:
        return None
    if has_expired(secret, now) or secret_data(secret, USAGE_SIGNING) != "true":
        return None
    return token_id, token_value
