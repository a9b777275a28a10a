"""Value transformers: how a stored value is sealed and opened (upstream's
k8s.io/apiserver/pkg/storage/value and value/encrypt/{aes,secretbox,identity}).

A stored value names how it was written: `k8s:enc:<provider>:v1:<key name>:` and the
provider's bytes. The layouts are upstream's, so a store written by kube-apiserver can be
read here and the other way round:

- aescbc:    a random 16-byte IV, then AES-CBC of the value with PKCS#7 padding.
- aesgcm:    a random 12-byte nonce, then AES-GCM's ciphertext and tag; the storage key
             is the authenticated data, so a value copied under another key will not open.
- secretbox: a random 24-byte nonce, then NaCl secretbox (XSalsa20-Poly1305).
- identity:  the value as it is, with no prefix; it refuses to read a `k8s:enc:` value.

`PrefixTransformers` holds one resource's list in the configuration's order: the first
seals every write; reading picks by prefix, so values sealed by any listed key still
open (and are reported stale, so the next update rewrites them with the first: rotation).
A value that opens with no listed key is an error, never garbage.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import nacl.exceptions
import nacl.secret
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENCRYPTED_PREFIX = b"k8s:enc:"
AES_BLOCK = 16
GCM_NONCE = 12

Random = Callable[[int], bytes]


class TransformError(Exception):
    """A stored value cannot be opened with any configured key."""


class Transformer(Protocol):
    def seal(self, data: bytes, context: bytes) -> bytes:
        """The stored form of `data`; `context` is the storage key."""

    def open(self, data: bytes, context: bytes) -> bytes:
        """`data` as written; TransformError when it does not open."""


class AESCBCTransformer:
    """AES-CBC with PKCS#7 padding (upstream's cbc transformer)."""

    def __init__(self, key: bytes, random: Random = os.urandom) -> None:
        self._algorithm = algorithms.AES(key)
        self._random = random

    def seal(self, data: bytes, context: bytes) -> bytes:
        padding = AES_BLOCK - len(data) % AES_BLOCK
        iv = self._random(AES_BLOCK)
        encryptor = Cipher(self._algorithm, modes.CBC(iv)).encryptor()
        return iv + encryptor.update(data + bytes([padding]) * padding) + encryptor.finalize()

    def open(self, data: bytes, context: bytes) -> bytes:
        if len(data) < AES_BLOCK:
            raise TransformError("the stored data was shorter than the required size")
        iv, body = data[:AES_BLOCK], data[AES_BLOCK:]
        if len(body) % AES_BLOCK:
            raise TransformError("the stored data is not a multiple of the block size")
        decryptor = Cipher(self._algorithm, modes.CBC(iv)).decryptor()
        result = decryptor.update(body) + decryptor.finalize()
        padding = result[-1] if result else 0
        if padding == 0 or padding > len(result):
            raise TransformError("invalid PKCS7 data (empty or not padded)")
        if result[-padding:] != bytes([padding]) * padding:
            raise TransformError("invalid padding on input")
        return result[:-padding]


class AESGCMTransformer:
    """AES-GCM with a random 96-bit nonce and the storage key as authenticated data."""

    def __init__(self, key: bytes, random: Random = os.urandom) -> None:
        self._aead = AESGCM(key)
        self._random = random

    def seal(self, data: bytes, context: bytes) -> bytes:
        nonce = self._random(GCM_NONCE)
        return nonce + self._aead.encrypt(nonce, data, context)

    def open(self, data: bytes, context: bytes) -> bytes:
        if len(data) < GCM_NONCE:
            raise TransformError("the stored data was shorter than the required size")
        try:
            return self._aead.decrypt(data[:GCM_NONCE], data[GCM_NONCE:], context)
        except InvalidTag:
            raise TransformError("cipher: message authentication failed") from None


class SecretboxTransformer:
    """NaCl secretbox: XSalsa20 and Poly1305 under a 32-byte key."""

    def __init__(self, key: bytes, random: Random = os.urandom) -> None:
        self._box = nacl.secret.SecretBox(key)
        self._random = random

    def seal(self, data: bytes, context: bytes) -> bytes:
        nonce = self._random(nacl.secret.SecretBox.NONCE_SIZE)
        return bytes(self._box.encrypt(data, nonce))

    def open(self, data: bytes, context: bytes) -> bytes:
        if len(data) < nacl.secret.SecretBox.NONCE_SIZE + nacl.secret.SecretBox.MACBYTES:
            raise TransformError("the stored data was shorter than the required size")
        try:
            return self._box.decrypt(data)
        except nacl.exceptions.CryptoError:
            # upstream's words for a box that does not open
            raise TransformError("output array was not large enough for encryption") from None


class IdentityTransformer:
    """No transformation; encrypted data is refused, not served as if it were JSON."""

    def seal(self, data: bytes, context: bytes) -> bytes:
        return data

    def open(self, data: bytes, context: bytes) -> bytes:
        if data.startswith(ENCRYPTED_PREFIX):
            raise TransformError("identity transformer tried to read encrypted data")
        return data


@dataclass(frozen=True, slots=True)
class PrefixTransformer:
    prefix: bytes  # b"" for identity
    transformer: Transformer


class PrefixTransformers:
    """One resource's providers, in order (upstream's NewPrefixTransformers)."""

    def __init__(self, transformers: Sequence[PrefixTransformer]) -> None:
        if not transformers:
            raise ValueError("at least one transformer is required")
        self.transformers = tuple(transformers)
        self._first = self.transformers[0]

    def seal(self, data: bytes, context: bytes) -> bytes:
        first = self._first
        return first.prefix + first.transformer.seal(data, context)

    def open(self, data: bytes, context: bytes) -> tuple[bytes, bool]:
        """The value as written and whether it is stale (not sealed by the first
        transformer, so the next write should reseal it)."""
        failures: list[str] = []
        for index, candidate in enumerate(self.transformers):
            if not data.startswith(candidate.prefix):
                continue
            try:
                result = candidate.transformer.open(data[len(candidate.prefix):], context)
            except TransformError as err:
                if candidate.prefix:  # identity's refusal lets the keys after it try
                    failures.append(str(err))
                continue
            return result, index != 0
        if failures:
            raise TransformError(failures[0] if len(failures) == 1
                                 else "[" + ", ".join(failures) + "]")
        raise TransformError("no matching prefix found")
