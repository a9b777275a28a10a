"""`kubectl create token` against `kubelite server`: the key made on first start and
kept across restarts, tokens a third party can check with the published JWKS."""

from __future__ import annotations

import json
import stat
import uuid

import jwt

from tests.cluster import Cluster

ISSUER = "https://kubernetes.default.svc.cluster.local"


def _get(cluster: Cluster, path: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(cluster.kubectl("get", "--raw", path).stdout)
    return loaded


def _verify(cluster: Cluster, token: str, audience: str) -> dict[str, object]:
    """What a relying party does: the issuer's documents, then the signature."""
    config = _get(cluster, "/.well-known/openid-configuration")
    assert config["issuer"] == ISSUER
    key_set = _get(cluster, "/openid/v1/jwks")
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [k for k in key_set["keys"] if k["kid"] == kid]  # type: ignore[attr-defined]
    claims: dict[str, object] = jwt.decode(token, jwt.PyJWK(key), algorithms=["RS256"],
                                           audience=audience, issuer=ISSUER)
    return claims


def test_create_token_survives_a_restart(fresh_cluster: Cluster) -> None:
    name = f"robot-{uuid.uuid4().hex[:6]}"
    fresh_cluster.kubectl("create", "serviceaccount", name)
    token = fresh_cluster.kubectl("create", "token", name, "--audience", "vault",
                                  "--duration", "15m").stdout.strip()
    claims = _verify(fresh_cluster, token, "vault")
    assert claims["sub"] == f"system:serviceaccount:default:{name}"
    assert claims["exp"] - claims["iat"] == 15 * 60  # type: ignore[operator]
    key = fresh_cluster.data_dir / "tls" / "service.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    fresh_cluster.stop()
    fresh_cluster.start()
    # the same key after a restart: yesterday's tokens still check out
    assert _verify(fresh_cluster, token, "vault")["sub"] == claims["sub"]
    short = fresh_cluster.kubectl("create", "token", name, "--duration", "1m", check=False)
    assert short.returncode == 1
    assert "may not specify a duration less than 10 minutes" in short.stderr
