"""The ServiceAccount signing key: one private key that signs tokens and checks them.

kube-apiserver signs with `--service-account-signing-key-file` and verifies with
`--service-account-key-file`; kubelite, as k3s does, uses one file for both:
`<data-dir>/tls/service.key`, a PEM RSA 2048 private key written on first start
with mode 0600. An EC key (P-256, P-384, P-521) in that file works too, signing
ES256/ES384/ES512 as upstream's signerFromECDSAPrivateKey does.

The key id (`kid` in every token header and in the JWKS) is upstream's
keyIDFromPublicKey: the base64url (no padding) SHA-256 of the public key's DER
(PKIX) encoding, so it names the key without revealing it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

RSA_KEY_BITS = 2048
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_EC_JWK_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_uint(value: int, size: int | None = None) -> str:
    length = size if size is not None else max(1, (value.bit_length() + 7) // 8)
    return _b64url(value.to_bytes(length, "big"))


def key_id(public_key: PublicKey) -> str:
    """upstream's keyIDFromPublicKey."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return _b64url(hashlib.sha256(der).digest())


def algorithm_for(public_key: PublicKey) -> str:
    """The JWS algorithm a key signs with: RS256 for RSA, ES* by EC curve."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RS256"
    algorithm = _EC_ALGORITHMS.get(public_key.curve.name)
    if algorithm is None:
        raise ValueError(f"unsupported EC curve {public_key.curve.name}: "
                         f"must be P-256, P-384 or P-521")
    return algorithm


@dataclass(frozen=True, slots=True)
class SigningKey:
    private_key: PrivateKey
    algorithm: str
    kid: str

    @classmethod
    def from_private_key(cls, private_key: PrivateKey) -> SigningKey:
        public = private_key.public_key()
        return cls(private_key, algorithm_for(public), key_id(public))

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, Any]:
        """The public key as a JSON Web Key, as upstream's JWKS lists it."""
        public = self.public_key
        out: dict[str, Any] = {"use": "sig", "kid": self.kid, "alg": self.algorithm}
        if isinstance(public, rsa.RSAPublicKey):
            numbers = public.public_numbers()
            out.update(kty="RSA", n=_b64url_uint(numbers.n), e=_b64url_uint(numbers.e))
        else:
            ec_numbers = public.public_numbers()
            size = (public.curve.key_size + 7) // 8
            out.update(kty="EC", crv=_EC_JWK_CURVES[public.curve.name],
                       x=_b64url_uint(ec_numbers.x, size), y=_b64url_uint(ec_numbers.y, size))
        return out


def load_or_create(path: Path) -> SigningKey:
    """The key in `path`, made (RSA 2048, mode 0600) when the file does not exist."""
    if not path.exists():
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
        pem = private_key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        tmp.replace(path)
    return load(path)


def load(path: Path) -> SigningKey:
    """A PEM private key (RSA or EC); a file holding anything else is refused."""
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise ValueError(f"{path}: a ServiceAccount key must be an RSA or EC private key")
    return SigningKey.from_private_key(loaded)
