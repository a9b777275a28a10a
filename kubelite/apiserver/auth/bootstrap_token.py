"""Bootstrap tokens (upstream's plugin/pkg/auth/authenticator/token/bootstrap): the
short-lived shared secrets a new node joins with.

A bootstrap token is `<id>.<secret>` (6 and 16 characters of [a-z0-9]). It is a
Secret `bootstrap-token-<id>` in kube-system, of type bootstrap.kubernetes.io/token,
whose data holds token-id, token-secret, usage-bootstrap-authentication ("true" to
authenticate), an optional RFC 3339 expiration and auth-extra-groups. A token that
matches a live, unexpired Secret marked for authentication is the user
`system:bootstrap:<id>` in `system:bootstrappers` and its extra groups (each
`system:bootstrappers:...`), sorted, as upstream's GetGroups lists them. A token of
another form, or one no Secret backs, is not this authenticator's (the chain then
answers 401). Secrets are read from the watch cache, one lookup per request.
"""

from __future__ import annotations

import datetime
import hmac
import logging
from collections.abc import Callable
from typing import Any

from kubelite.api.bootstrap_token import (
    EXTRA_GROUPS_KEY,
    ID_KEY,
    NAMESPACE,
    SECRET_KEY,
    SECRET_PREFIX,
    SECRET_TYPE,
    TOKEN_PATTERN,
    USAGE_AUTHENTICATION,
    USER_PREFIX,
    groups_of,
    has_expired,
    secret_data,
)
from kubelite.apiserver.auth.serviceaccount.authenticator import CachedObjects
from kubelite.apiserver.auth.user import UserInfo

log = logging.getLogger(__name__)

Obj = dict[str, Any]



class BootstrapTokenAuthenticator:
    def __init__(self, secrets: CachedObjects,
                 clock: Callable[[], datetime.datetime] | None = None) -> None:
        self.secrets = secrets
        self.clock = clock or (lambda: datetime.datetime.now(datetime.UTC))

    async def authenticate_token(self, token: str) -> UserInfo | None:
        match = TOKEN_PATTERN.match(token)
        if match is None:
            return None  # another kind of token
        token_id, token_secret = match.groups()
        secret = await self.secrets.get("secrets", NAMESPACE, SECRET_PREFIX + token_id)
        if secret is None:
            return None
        name = f"{NAMESPACE}/{SECRET_PREFIX}{token_id}"
        if (secret.get("metadata") or {}).get("deletionTimestamp"):
            log.info("bootstrap token %s is deleted and awaiting removal", name)
            return None
        if secret.get("type") != SECRET_TYPE or not secret.get("data"):
            log.info("bootstrap token %s has invalid type, expected %s", name, SECRET_TYPE)
            return None
        if not hmac.compare_digest(secret_data(secret, SECRET_KEY).encode(),
                                   token_secret.encode()):
            log.info("bootstrap token %s has invalid value for key %s", name, SECRET_KEY)
            return None
        if secret_data(secret, ID_KEY) != token_id:
            log.info("bootstrap token %s has invalid value for key %s", name, ID_KEY)
            return None
        if has_expired(secret, self.clock()):
            log.info("bootstrap token %s has expired", name)
            return None
        if secret_data(secret, USAGE_AUTHENTICATION) != "true":
            log.info("bootstrap token %s not marked %s=true", name, USAGE_AUTHENTICATION)
            return None
        try:
            groups = groups_of(secret)
        except ValueError as err:
            log.info("bootstrap token %s has invalid value for key %s: %s", name,
                     EXTRA_GROUPS_KEY, err)
            return None
        return UserInfo(USER_PREFIX + token_id, groups=groups)
