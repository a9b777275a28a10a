"""The bootstrap token's format (upstream's k8s.io/cluster-bootstrap/token/api and
secret util): a token `<id>.<secret>` is a Secret `bootstrap-token-<id>` in kube-system
of type bootstrap.kubernetes.io/token. Read by the API server's authenticator, the
token cleaner and `kubelite token`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
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


def secret_data(secret: Obj, key: str) -> str:
    """A data value decoded, or "" (upstream's bootstrapsecretutil.GetData)."""
    raw = (secret.get("data") or {}).get(key)
    if not isinstance(raw, str):
        return ""
    try:
        return base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def has_expired(secret: Obj, now: datetime.datetime) -> bool:
    """No expiration never expires; one that does not parse has (upstream's HasExpired)."""
    value = secret_data(secret, EXPIRATION_KEY)
    if not value:
        return False
    try:
        expires = datetime.datetime.fromisoformat(value)  # RFC 3339: Z or an offset
    except ValueError:
        return True
    return expires.tzinfo is None or now > expires


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
