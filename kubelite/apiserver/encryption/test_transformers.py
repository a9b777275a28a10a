"""The providers seal and open values in upstream's layouts; the prefix list picks
by prefix and key name, reports stale reads, and refuses what no key opens."""

from __future__ import annotations

import base64

import nacl.secret
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kubelite.apiserver.encryption.config import parse
from kubelite.apiserver.encryption.transformers import (
    AESCBCTransformer,
    AESGCMTransformer,
    IdentityTransformer,
    PrefixTransformers,
    SecretboxTransformer,
    TransformError,
    Transformer,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
SECRET = b'{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}'
KEY = b"/registry/core/secrets/default/db"


def fixed(byte: int):  # type: ignore[no-untyped-def]
    return lambda n: bytes([byte]) * n


PROVIDERS = {
    "aescbc": AESCBCTransformer,
    "aesgcm": AESGCMTransformer,
    "secretbox": SecretboxTransformer,
}


@pytest.mark.parametrize("name", [*PROVIDERS, "identity"])
@pytest.mark.parametrize("data", [b"", b"x", bytes(16), SECRET], ids=["empty", "one", "block", "json"])
def test_round_trip(name: str, data: bytes) -> None:
    transformer: Transformer = (IdentityTransformer() if name == "identity"
                                else PROVIDERS[name](KEY_A))
    sealed = transformer.seal(data, KEY)
    if name != "identity":
        assert len(data) < 16 or data not in sealed  # a byte or two may occur by chance
    assert transformer.open(sealed, KEY) == data


def test_aescbc_layout_is_iv_then_pkcs7_padded_cbc() -> None:
    sealed = AESCBCTransformer(KEY_A).seal(SECRET, KEY)
    iv, body = sealed[:16], sealed[16:]
    decryptor = Cipher(algorithms.AES(KEY_A), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    pad = padded[-1]
    assert 1 <= pad <= 16 and padded[-pad:] == bytes([pad]) * pad
    assert padded[:-pad] == SECRET


def test_aesgcm_layout_is_nonce_then_sealed_with_the_key_as_authenticated_data() -> None:
    sealed = AESGCMTransformer(KEY_A).seal(SECRET, KEY)
    assert AESGCM(KEY_A).decrypt(sealed[:12], sealed[12:], KEY) == SECRET


def test_secretbox_layout_is_nonce_then_box() -> None:
    sealed = SecretboxTransformer(KEY_A).seal(SECRET, KEY)
    assert len(sealed) == 24 + 16 + len(SECRET)
    assert nacl.secret.SecretBox(KEY_A).decrypt(sealed[24:], sealed[:24]) == SECRET


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_wrong_key_is_an_error_not_garbage(name: str) -> None:
    # fixed randomness: the outcome is the same on every run
    sealed = PROVIDERS[name](KEY_A, random=fixed(7)).seal(SECRET, KEY)
    with pytest.raises(TransformError):
        PROVIDERS[name](KEY_B).open(sealed, KEY)


def test_aesgcm_refuses_a_value_moved_to_another_key() -> None:
    gcm = AESGCMTransformer(KEY_A)
    sealed = gcm.seal(SECRET, KEY)
    with pytest.raises(TransformError, match="message authentication failed"):
        gcm.open(sealed, b"/registry/core/secrets/default/other")


@pytest.mark.parametrize("name,data,message", [
    ("aescbc", b"short", "shorter than the required size"),
    ("aescbc", bytes(20), "not a multiple of the block size"),
    ("aesgcm", b"short", "shorter than the required size"),
    ("secretbox", bytes(30), "shorter than the required size"),
    ("secretbox", bytes(60), "output array was not large enough for encryption"),
], ids=["cbc-short", "cbc-blocks", "gcm-short", "box-short", "box-forged"])
def test_damaged_values(name: str, data: bytes, message: str) -> None:
    with pytest.raises(TransformError, match=message):
        PROVIDERS[name](KEY_A).open(data, KEY)


def test_identity_refuses_encrypted_data() -> None:
    with pytest.raises(TransformError, match="identity transformer tried to read encrypted data"):
        IdentityTransformer().open(b"k8s:enc:aescbc:v1:key1:....", KEY)


def secret_of(key: bytes) -> str:
    return base64.b64encode(key).decode()


def chain(*providers: tuple[str, str, bytes]) -> PrefixTransformers:
    """The transformers of a config with these (provider, key name, key) in order."""
    entries = []
    for provider, name, key in providers:
        if provider == "identity":
            entries.append({"identity": {}})
        else:
            entries.append({provider: {"keys": [{"name": name, "secret": secret_of(key)}]}})
    config = parse({"apiVersion": "apiserver.config.k8s.io/v1",
                    "kind": "EncryptionConfiguration",
                    "resources": [{"resources": ["secrets"], "providers": entries}]})
    found = config.for_resource("", "secrets")
    assert found is not None
    return found


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_first_key_seals_with_upstreams_prefix(provider: str) -> None:
    sealed = chain((provider, "key1", KEY_A)).seal(SECRET, KEY)
    assert sealed.startswith(f"k8s:enc:{provider}:v1:key1:".encode())


@pytest.mark.parametrize("old,new", [
    (("aescbc", "key1", KEY_A), ("aescbc", "key2", KEY_B)),
    (("aescbc", "key1", KEY_A), ("secretbox", "box", KEY_B)),
    (("secretbox", "box", KEY_A), ("aesgcm", "gcm", KEY_B)),
    (("identity", "", b""), ("aesgcm", "gcm", KEY_B)),
], ids=["new-aescbc-key", "aescbc-to-secretbox", "secretbox-to-aesgcm", "plaintext-to-aesgcm"])
def test_rotation_reads_the_old_key_as_stale_and_seals_with_the_new(old, new) -> None:  # type: ignore[no-untyped-def]
    before = chain(old).seal(SECRET, KEY)
    rotated = chain(new, old)
    assert rotated.open(before, KEY) == (SECRET, True)
    resealed = rotated.seal(SECRET, KEY)
    assert rotated.open(resealed, KEY) == (SECRET, False)
    if new[0] != "identity":
        assert resealed.startswith(f"k8s:enc:{new[0]}:v1:{new[1]}:".encode())


def test_identity_first_decrypts_old_values_and_writes_plaintext() -> None:
    before = chain(("aescbc", "key1", KEY_A)).seal(SECRET, KEY)
    decrypting = chain(("identity", "", b""), ("aescbc", "key1", KEY_A))
    assert decrypting.open(before, KEY) == (SECRET, True)
    assert decrypting.seal(SECRET, KEY) == SECRET


def test_a_key_name_not_configured_is_no_matching_prefix() -> None:
    sealed = chain(("aescbc", "gone", KEY_A)).seal(SECRET, KEY)
    with pytest.raises(TransformError, match="no matching prefix found"):
        chain(("aescbc", "key1", KEY_A)).open(sealed, KEY)


def test_plaintext_without_identity_is_no_matching_prefix() -> None:
    with pytest.raises(TransformError, match="no matching prefix found"):
        chain(("aescbc", "key1", KEY_A)).open(SECRET, KEY)


def test_same_key_name_with_another_secret_is_an_error() -> None:
    sealed = chain(("aesgcm", "key1", KEY_A)).seal(SECRET, KEY)
    with pytest.raises(TransformError, match="message authentication failed"):
        chain(("aesgcm", "key1", KEY_B)).open(sealed, KEY)
