"""`kubelite token create`'s Secret, as kubeadm's token create writes it."""

from __future__ import annotations

import base64
import datetime

import pytest

from kubelite.api.bootstrap_token import TOKEN_PATTERN, token_secret
from kubelite.cli.bootstrap_tokens import DEFAULT_GROUP, generate

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)


def decoded(secret: dict[str, object]) -> dict[str, str]:
    data = secret["data"]
    assert isinstance(data, dict)
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def test_the_secret_holds_the_token_and_its_rules() -> None:
    secret = token_secret("abcdef.0123456789abcdef", ttl=datetime.timedelta(hours=24),
                          description="for node-1", usages=["signing", "authentication"],
                          groups=[DEFAULT_GROUP], now=NOW)
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert secret["metadata"] == {"name": "bootstrap-token-abcdef", "namespace": "kube-system"}
    assert decoded(secret) == {
        "token-id": "abcdef", "token-secret": "0123456789abcdef", "description": "for node-1",
        "expiration": "2026-12-08T12:00:00Z", "usage-bootstrap-signing": "true",
        "usage-bootstrap-authentication": "true", "auth-extra-groups": DEFAULT_GROUP}


def test_ttl_zero_never_expires() -> None:
    secret = token_secret("abcdef.0123456789abcdef", ttl=datetime.timedelta(0),
                          description="", usages=["authentication"], groups=[], now=NOW)
    assert "expiration" not in decoded(secret)


@pytest.mark.parametrize("token,usages,groups,message", [
    ("ABCDEF.0123456789abcdef", ["authentication"], [], "must be of the form"),
    ("abcdef.0123456789abcdef", ["everything"], [], "unknown usage"),
    ("abcdef.0123456789abcdef", ["authentication"], ["system:masters"], "must match"),
], ids=["uppercase-token", "bad-usage", "group-outside-bootstrappers"])
def test_bad_input_is_refused(token: str, usages: list[str], groups: list[str],
                              message: str) -> None:
    with pytest.raises(ValueError, match=message):
        token_secret(token, ttl=datetime.timedelta(hours=1), description="",
                     usages=usages, groups=groups, now=NOW)


def test_generated_tokens_have_the_form_and_differ() -> None:
    tokens = {generate() for _ in range(20)}
    assert len(tokens) == 20 and all(TOKEN_PATTERN.match(t) for t in tokens)
