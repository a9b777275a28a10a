from __future__ import annotations

import base64
import json

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.images import manifests
from kubelite.kubelet.images.conftest import USERS
from kubelite.kubelet.images.credentials import Keyring, keyring_from_secrets, pull_with_keyring
from kubelite.kubelet.images.service import ImageService
from kubelite.kubelet.images.store import ImageStore
from kubelite.kubelet.images.testing import Registry, build_image, push, tar_layer

# (config key, image, matches?) as upstream's keyring_test.go decides them
MATCHES = [
    ("registry.example.com", "registry.example.com/team/app:1", True),
    ("https://registry.example.com", "registry.example.com/app", True),
    ("registry.example.com/team", "registry.example.com/team/app", True),
    ("registry.example.com/team", "registry.example.com/other/app", False),
    ("registry.example.com:5000", "registry.example.com/app", False),
    ("registry.example.com:5000", "registry.example.com:5000/app", True),
    ("*.example.com", "registry.example.com/app", True),
    ("*.example.com", "example.com/app", False),
    ("*.example.com", "a.b.example.com/app", False),
    ("*.*.example.com", "a.b.example.com/app", True),
    ("https://registry.example.com/v2/", "registry.example.com/app", True),
    ("docker.io", "busybox", True),
    ("https://index.docker.io/v1/", "busybox", True),  # Docker Hub's own key
    ("https://index.docker.io/v1/", "journey/busybox:1", True),
    ("https://index.docker.io/v1/", "registry.example.com/app", False),
    ("localhost:5000", "localhost:5000/app", True),
]


@pytest.mark.parametrize("key,image,matches", MATCHES,
                         ids=[f"{k}~{i}" for k, i, _ in MATCHES])
def test_keyring_matches_images_as_upstream(key: str, image: str, matches: bool) -> None:
    keyring = Keyring([{key: {"username": "u", "password": "p"}}])
    assert bool(keyring.lookup(image)) is matches


def test_more_specific_keys_come_first() -> None:
    keyring = Keyring([{"registry.example.com": {"username": "host"},
                        "registry.example.com/team": {"username": "team"}}])
    assert [a.username for a in keyring.lookup("registry.example.com/team/app")] == [
        "team", "host"]


def secret(kind: str, key: str, config: object) -> dict[str, object]:
    data = base64.b64encode(json.dumps(config).encode()).decode()
    return {"metadata": {"name": "pull"}, "type": kind, "data": {key: data}}


def test_keyring_from_secrets_reads_both_docker_config_formats() -> None:
    auth = base64.b64encode(b"alice:wonderland").decode()
    keyring = keyring_from_secrets([
        secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson",
               {"auths": {"a.example.com": {"auth": auth}}}),
        secret("kubernetes.io/dockercfg", ".dockercfg",
               {"b.example.com": {"username": "bob", "password": "pw"}}),
        secret("Opaque", ".dockerconfigjson", {"auths": {"c.example.com": {}}}),
        {"metadata": {"name": "broken"}, "type": "kubernetes.io/dockerconfigjson",
         "data": {".dockerconfigjson": "not base64 json"}},
    ])
    assert keyring.lookup("a.example.com/app") == [
        cri.AuthConfig(username="alice", password="wonderland")]
    assert keyring.lookup("b.example.com/app") == [cri.AuthConfig(username="bob", password="pw")]
    assert keyring.lookup("c.example.com/app") == []


async def test_pull_tries_each_credential_in_turn(store: ImageStore,
                                                  basic_registry: Registry) -> None:
    image = build_image([tar_layer({"f": b"1"})])
    host = basic_registry.host
    await push(host, "app", "1", image, auth=cri.AuthConfig(username="alice",
                                                           password=USERS["alice"]))
    service = ImageService(store, platform=manifests.Platform("linux", "amd64"))
    keyring = Keyring([{f"{host}/app": {"username": "alice", "password": "stale"}},
                       {host: {"username": "alice", "password": USERS["alice"]}}])
    assert await pull_with_keyring(service, f"{host}/app:1", keyring) == image.id
    with pytest.raises(cri.ImagePullError, match="unauthorized"):
        await pull_with_keyring(service, f"{host}/app:1",
                                Keyring([{host: {"username": "alice", "password": "no"}}]))
