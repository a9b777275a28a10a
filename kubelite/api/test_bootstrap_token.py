"""The bootstrap token Secret's rules, against upstream's bootstrapsecretutil outcomes."""

from __future__ import annotations

import base64
import datetime

import pytest

from kubelite.api import bootstrap_token
from kubelite.api.bootstrap_token import groups_of, has_expired, secret_data

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)


def secret(**data: str) -> dict[str, object]:
    return {"data": {k.replace("_", "-"): base64.b64encode(v.encode()).decode()
                     for k, v in data.items()}}


@pytest.mark.parametrize("expiration,expired", [
    (None, False),
    ("2026-12-07T13:00:00Z", False),
    ("2026-12-07T11:59:59Z", True),
    ("2026-12-07T14:00:00+01:00", False),
    ("2026-12-07T12:30:00+01:00", True),
    ("tomorrow", True),
    ("2026-12-08T00:00:00", True),
], ids=["none", "future", "past", "offset-future", "offset-past", "garbage", "no-offset"])
def test_expiration(expiration: str | None, expired: bool) -> None:
    s = secret(expiration=expiration) if expiration is not None else secret()
    assert has_expired(s, NOW) is expired


@pytest.mark.parametrize("extra,groups", [
    (None, ("system:bootstrappers",)),
    ("system:bootstrappers:kubelite:default-node-token",
     ("system:bootstrappers", "system:bootstrappers:kubelite:default-node-token")),
    ("system:bootstrappers:b,system:bootstrappers:a,system:bootstrappers:b",
     ("system:bootstrappers", "system:bootstrappers:a", "system:bootstrappers:b")),
], ids=["default-only", "one-extra", "sorted-deduplicated"])
def test_groups(extra: str | None, groups: tuple[str, ...]) -> None:
    s = secret(auth_extra_groups=extra) if extra is not None else secret()
    assert groups_of(s) == groups


@pytest.mark.parametrize("extra", ["system:masters", "system:bootstrappers:", "Foo"],
                         ids=["outside-bootstrappers", "trailing-colon", "not-a-group"])
def test_groups_outside_the_bootstrappers_are_refused(extra: str) -> None:
    with pytest.raises(ValueError):
        groups_of(secret(auth_extra_groups=extra))


def test_data_that_is_not_base64_reads_as_empty() -> None:
    assert secret_data({"data": {"token-id": "!!!"}}, "token-id") == ""


# cluster-bootstrap's jws_test.go: the same content, id and secret give the same bytes
@pytest.mark.parametrize(("content", "secret", "signature"), [
    ("Hello from the other side. I must have called a thousand times.", "my voice is my passcode",
     "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"),
    ("", "my voice is my passcode",
     "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk"),
    ("Hello from the other side. I must have called a thousand times.", "",
     "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8"),
], ids=["content", "empty-content", "empty-secret"])
def test_detached_signatures_match_cluster_bootstraps(content: str, secret: str, signature: str) -> None:
    assert bootstrap_token.detached_signature(content, "joshua", secret) == signature
    assert bootstrap_token.signature_holds(signature, content, "joshua", secret)
    assert not bootstrap_token.signature_holds(signature + "foo", content, "joshua", secret)
