"""The signing key: made once with mode 0600, named as upstream names it, published
in a form third-party verifiers read."""

from __future__ import annotations

import base64
import hashlib
import stat
import subprocess
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kubelite.apiserver.auth.serviceaccount import keys, oidc


def test_key_is_made_on_first_start_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "tls" / "service.key"
    first = keys.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.algorithm == "RS256"
    assert first.private_key.key_size == 2048  # type: ignore[union-attr]
    assert keys.load_or_create(path).kid == first.kid


def test_key_id_is_the_sha256_of_the_der_public_key(tmp_path: Path) -> None:
    path = tmp_path / "service.key"
    key = keys.load_or_create(path)
    # the DER public key as openssl writes it, not as our code does
    der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"],
                         capture_output=True, check=True).stdout
    assert key.kid == base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


@pytest.mark.parametrize("curve,algorithm", [
    (ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384")], ids=["p256", "p384"])
def test_ec_keys_sign_with_their_curves_algorithm(tmp_path: Path, curve: ec.EllipticCurve,
                                                 algorithm: str) -> None:
    path = tmp_path / "service.key"
    path.write_bytes(ec.generate_private_key(curve).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    assert keys.load(path).algorithm == algorithm


@pytest.mark.parametrize("make", [
    lambda: None,
    lambda: ec.generate_private_key(ec.SECP256R1()),
], ids=["rsa", "ec"])
def test_jwks_verifies_the_tokens_signed(tmp_path: Path, make: object) -> None:
    path = tmp_path / "service.key"
    private = make()  # type: ignore[operator]
    if private is not None:
        path.write_bytes(private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    key = keys.load_or_create(path)
    token = jwt.encode({"sub": "x"}, key.private_key, algorithm=key.algorithm,
                       headers={"kid": key.kid})
    published = oidc.jwks([key])["keys"][0]  # type: ignore[index]
    assert published["kid"] == jwt.get_unverified_header(token)["kid"]
    verifier = jwt.PyJWK(published)
    assert jwt.decode(token, verifier, algorithms=[key.algorithm]) == {"sub": "x"}


def test_a_file_without_a_private_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "service.key"
    path.write_text("not a key")
    with pytest.raises(ValueError):
        keys.load(path)
