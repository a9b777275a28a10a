"""Claims and the checks that need no lookup, against upstream's outcomes
(pkg/serviceaccount/claims_test.go, legacy.go, jwt.go's audience check), and the
flags as kube-apiserver reads them."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.auth.audiences import TokenRejected
from kubelite.apiserver.auth.serviceaccount import claims
from kubelite.apiserver.auth.serviceaccount.claims import (
    BoundClaims,
    LegacyClaims,
    ObjectRef,
    ServiceAccountInfo,
)
from kubelite.apiserver.auth.serviceaccount.options import ServiceAccountOptions

NOW = 1_800_000_000
API = ("https://kubernetes.default.svc.cluster.local",)


@pytest.mark.parametrize("exp,nbf,error", [
    (NOW + 600, NOW, None),
    (NOW - 59, NOW - 3600, None),
    (NOW - 61, NOW - 3600, "service account token has expired"),
    (NOW + 3600, NOW + 59, None),
    (NOW + 3600, NOW + 61, "service account token is not valid yet"),
    ("tomorrow", NOW, "service account token has expired"),
], ids=["fresh", "expired-within-leeway", "expired", "not-yet-within-leeway",
        "not-yet-valid", "exp-not-a-number"])
def test_times_are_checked_with_a_minute_of_leeway(exp: Any, nbf: int,
                                                    error: str | None) -> None:
    payload = {"exp": exp, "nbf": nbf}
    if error is None:
        claims.check_times(payload, NOW)
    else:
        with pytest.raises(TokenRejected, match=error):
            claims.check_times(payload, NOW)


@pytest.mark.parametrize("aud,requested,matched,error", [
    (list(API), None, API, None),
    ("https://kubernetes.default.svc.cluster.local", None, API, None),
    (None, None, API, None),
    (["vault"], None, None,
     'token audiences ["vault"] is invalid for the target audiences '
     '["https://kubernetes.default.svc.cluster.local"]'),
    (["vault", "api"], ["api", "other"], ("api",), None),
    (list(API), ["vault"], None,
     'token audiences ["https://kubernetes.default.svc.cluster.local"] is invalid for '
     'the target audiences ["vault"]'),
], ids=["api-audience", "aud-as-a-string", "legacy-token-counts-as-api", "other-audience",
        "review-asks-for-one-of-them", "review-asks-for-another"])
def test_audiences_must_meet_the_ones_asked_for(aud: Any, requested: list[str] | None,
                                                matched: tuple[str, ...] | None,
                                                error: str | None) -> None:
    payload = {} if aud is None else {"aud": aud}
    if error is None:
        assert claims.matched_audiences(payload, requested, API) == matched
    else:
        with pytest.raises(TokenRejected) as exc:
            claims.matched_audiences(payload, requested, API)
        assert str(exc.value) == error


def _legacy(**changes: Any) -> dict[str, Any]:
    payload = claims.legacy_claims(namespace="web", name="robot", uid="u1",
                                   secret_name="robot-token")
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


@pytest.mark.parametrize("changes,error", [
    ({"sub": None}, "sub claim is missing"),
    ({"kubernetes.io/serviceaccount/namespace": None}, "namespace claim is missing"),
    ({"kubernetes.io/serviceaccount/secret.name": ""}, "secretName claim is missing"),
    ({"kubernetes.io/serviceaccount/service-account.name": None},
     "serviceAccountName claim is missing"),
    ({"kubernetes.io/serviceaccount/service-account.uid": None},
     "serviceAccountUID claim is missing"),
    ({"sub": "system:serviceaccount:web:other"}, "sub claim is invalid"),
    ({"sub": "jane"}, "sub claim is invalid"),
], ids=["no-sub", "no-namespace", "no-secret", "no-name", "no-uid", "sub-names-another",
        "sub-not-a-service-account"])
def test_legacy_claims_are_refused_as_upstream_words_it(changes: dict[str, Any],
                                                        error: str) -> None:
    with pytest.raises(TokenRejected) as exc:
        LegacyClaims.parse(_legacy(**changes))
    assert str(exc.value) == error


def test_legacy_claims_name_the_account_and_secret() -> None:
    parsed = LegacyClaims.parse(_legacy())
    assert parsed == LegacyClaims("web", "robot", "u1", "robot-token")
    assert _legacy()["iss"] == "kubernetes/serviceaccount"


def test_pod_bound_claims_carry_the_pod_and_its_node() -> None:
    payload = claims.bound_claims(
        issuer=API[0], namespace="web", name="robot", uid="u1", audiences=API, now=NOW,
        expiration_seconds=claims.EXPIRATION_EXTENSION_SECONDS, jti="j1",
        pod=ObjectRef("p", "pu"), node=ObjectRef("n1", "nu"),
        warn_after_seconds=claims.WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS)
    assert payload == {
        "aud": list(API), "exp": NOW + 365 * 24 * 3600, "iat": NOW, "nbf": NOW,
        "iss": API[0], "jti": "j1", "sub": "system:serviceaccount:web:robot",
        "kubernetes.io": {"namespace": "web", "serviceaccount": {"name": "robot", "uid": "u1"},
                          "pod": {"name": "p", "uid": "pu"},
                          "node": {"name": "n1", "uid": "nu"}, "warnafter": NOW + 3607}}
    parsed = BoundClaims.parse(payload)
    assert (parsed.pod, parsed.node, parsed.secret) == (ObjectRef("p", "pu"),
                                                        ObjectRef("n1", "nu"), None)


@pytest.mark.parametrize("info,extra", [
    (ServiceAccountInfo("web", "robot", "u1"), {}),
    (ServiceAccountInfo("web", "robot", "u1", pod=ObjectRef("p", "pu"),
                        node=ObjectRef("n1", ""), credential_id="JTI=j1"),
     {"authentication.kubernetes.io/pod-name": ("p",),
      "authentication.kubernetes.io/pod-uid": ("pu",),
      "authentication.kubernetes.io/credential-id": ("JTI=j1",),
      "authentication.kubernetes.io/node-name": ("n1",)}),
    (ServiceAccountInfo("web", "robot", "u1", node=ObjectRef("n1", "nu")),
     {"authentication.kubernetes.io/node-name": ("n1",),
      "authentication.kubernetes.io/node-uid": ("nu",)}),
], ids=["plain", "pod-bound", "node-bound"])
def test_service_account_user_as_upstream(info: ServiceAccountInfo,
                                          extra: dict[str, tuple[str, ...]]) -> None:
    user = info.user()
    assert user.name == "system:serviceaccount:web:robot"
    assert user.uid == "u1"
    assert user.groups == ("system:serviceaccounts", "system:serviceaccounts:web")
    assert user.extra == extra


@pytest.mark.parametrize("flags,audiences,error", [
    ({}, API, None),
    ({"issuers": ["https://a", "https://b"]}, ("https://a", "https://b"), None),
    ({"api_audiences": "api, vault,"}, ("api", "vault"), None),
    ({"max_token_expiration": 1800.0}, None, "between 1 hour and 2\\^32 seconds"),
    ({"max_token_expiration": float(1 << 33)}, None, "between 1 hour and 2\\^32 seconds"),
], ids=["defaults", "audiences-default-to-every-issuer", "listed-audiences",
        "cap-under-an-hour", "cap-over-2^32"])
def test_flags_as_upstream_reads_them(tmp_path: Any, flags: dict[str, Any],
                                      audiences: tuple[str, ...] | None,
                                      error: str | None) -> None:
    read = {"data_dir": tmp_path, "key_file": None, "issuers": None, "api_audiences": "",
            "max_token_expiration": 0.0, **flags}
    if error is not None:
        with pytest.raises(ValueError, match=error):
            ServiceAccountOptions.from_flags(**read)
        return
    options = ServiceAccountOptions.from_flags(**read)
    assert options.audiences == audiences
    assert options.key_file == tmp_path / "tls" / "service.key"
