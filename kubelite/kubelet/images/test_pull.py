from __future__ import annotations

import os

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.images import manifests
from kubelite.kubelet.images.conftest import USERS
from kubelite.kubelet.images.pull import pull
from kubelite.kubelet.images.registry import registry_url
from kubelite.kubelet.images.store import ImageStore
from kubelite.kubelet.images.testing import (
    BUSYBOX, Registry, TokenServer, build_image, build_index, busybox_layer, push, tar_layer)

AMD64 = manifests.Platform("linux", "amd64")
ALICE = cri.AuthConfig(username="alice", password=USERS["alice"])


@pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox-static missing")
@pytest.mark.parametrize("compression,docker", [("gzip", True), ("zstd", False),
                                                 ("none", False)],
                         ids=["docker-gzip", "oci-zstd", "oci-plain"])
async def test_pull_by_tag_unpacks_the_image(store: ImageStore, registry: Registry,
                                             compression: str, docker: bool) -> None:
    image = build_image([busybox_layer(), tar_layer({"etc/motd": b"hi\n"})],
                        config={"Entrypoint": ["/bin/sh"]}, compression=compression,
                        docker=docker)
    manifest_digest = await push(registry.host, "team/busybox", "1", image)
    image_id = await pull(store, f"{registry.host}/team/busybox:1", platform=AMD64)
    assert image_id == image.id
    stored = store.get(image_id)
    assert stored is not None
    assert stored.repo_tags == (f"{registry.host}/team/busybox:1",)
    assert stored.repo_digests == (f"{registry.host}/team/busybox@{manifest_digest}",)
    bottom, top = store.layers(f"{registry.host}/team/busybox:1")
    assert (bottom / "bin/busybox").is_file() and (top / "etc/motd").read_bytes() == b"hi\n"
    assert store.config(image_id) == {"Entrypoint": ["/bin/sh"]}


async def test_pull_picks_the_platform_from_an_index(store: ImageStore,
                                                     registry: Registry) -> None:
    amd = build_image([tar_layer({"amd": b"1"})])
    arm = build_image([tar_layer({"arm": b"1"})], architecture="arm64")
    index = build_index([(arm, manifests.Platform("linux", "arm64", "v8")), (amd, AMD64)])
    index_digest = await push(registry.host, "multi", "v1", amd, index=index, others=[arm])
    assert await pull(store, f"{registry.host}/multi:v1", platform=AMD64) == amd.id
    # by digest: no tag is recorded, as docker does
    assert await pull(store, f"{registry.host}/multi@{index_digest}",
                      platform=manifests.Platform("linux", "arm64", "v8")) == arm.id
    arm_image = store.get(arm.id)
    assert arm_image is not None and arm_image.repo_tags == ()
    assert arm_image.repo_digests == (f"{registry.host}/multi@{index_digest}",)


async def test_pull_downloads_only_layers_it_lacks(store: ImageStore, registry: Registry) -> None:
    base = tar_layer({"base": b"b" * 1000})
    first = build_image([base, tar_layer({"one": b"1"})])
    second = build_image([base, tar_layer({"two": b"2"})])
    await push(registry.host, "app", "1", first)
    await push(registry.host, "app", "2", second)
    await pull(store, f"{registry.host}/app:1", platform=AMD64)
    shared = store.layers(first.id)[0]
    await pull(store, f"{registry.host}/app:2", platform=AMD64)
    assert store.layers(second.id)[0] == shared
    assert len(list((store.root / "layers/sha256").iterdir())) == 3
    assert list((store.root / "tmp").iterdir()) == []


async def test_pull_with_bearer_tokens_as_docker_hub(store: ImageStore, token_registry: Registry,
                                                     token_server: TokenServer) -> None:
    image = build_image([tar_layer({"secret": b"s"})])
    await push(token_registry.host, "private/app", "1", image, auth=ALICE)
    token_server.requests.clear()
    assert await pull(store, f"{token_registry.host}/private/app:1", ALICE,
                      platform=AMD64) == image.id
    assert token_server.requests == ["repository:private/app:pull"]  # one token per pull
    with pytest.raises(cri.ImagePullError, match="unauthorized") as refused:
        await pull(store, f"{token_registry.host}/private/app:1", platform=AMD64)
    assert refused.value.reason == "ErrImagePull"
    with pytest.raises(cri.ImagePullError, match="token request .* failed"):
        await pull(store, f"{token_registry.host}/private/app:1",
                   cri.AuthConfig(username="alice", password="wrong"), platform=AMD64)


async def test_pull_with_an_identity_token(store: ImageStore, token_registry: Registry,
                                           token_server: TokenServer) -> None:
    image = build_image([tar_layer({"secret": b"s"})])
    await push(token_registry.host, "private/app", "1", image, auth=ALICE)
    identity = cri.AuthConfig(identity_token="refresh-alice")
    assert await pull(store, f"{token_registry.host}/private/app:1", identity,
                      platform=AMD64) == image.id
    with pytest.raises(cri.ImagePullError, match="token request .* failed"):
        await pull(store, f"{token_registry.host}/private/app:1",
                   cri.AuthConfig(identity_token="refresh-mallory"), platform=AMD64)


async def test_pull_with_basic_credentials(store: ImageStore, basic_registry: Registry) -> None:
    image = build_image([tar_layer({"f": b"1"})])
    encoded = cri.AuthConfig(auth="YWxpY2U6d29uZGVybGFuZA==")  # alice:wonderland
    await push(basic_registry.host, "app", "1", image, auth=encoded)
    assert await pull(store, f"{basic_registry.host}/app:1", ALICE, platform=AMD64) == image.id
    with pytest.raises(cri.ImagePullError, match="wants a username and password"):
        await pull(store, f"{basic_registry.host}/app:1", platform=AMD64)


@pytest.mark.parametrize("image,reason,message", [
    ("{host}/nothing:1", "ErrImagePull", r"not found \(MANIFEST_UNKNOWN|NAME_UNKNOWN"),
    ("{host}/app:missing", "ErrImagePull", "MANIFEST_UNKNOWN"),
    ("{host}/App:1", "InvalidImageName", "must be lowercase"),
    ("127.0.0.1:1/app:1", "ErrImagePull", "failed to do request"),
], ids=["unknown-repository", "unknown-tag", "invalid-name", "refused-connection"])
async def test_pull_failures_say_why(store: ImageStore, registry: Registry, image: str,
                                     reason: str, message: str) -> None:
    await push(registry.host, "app", "1", build_image([tar_layer({"f": b"1"})]))
    with pytest.raises(cri.ImagePullError, match=message) as failed:
        await pull(store, image.format(host=registry.host), platform=AMD64)
    assert failed.value.reason == reason


async def test_pull_refuses_an_index_without_our_platform(store: ImageStore,
                                                          registry: Registry) -> None:
    arm = build_image([tar_layer({"arm": b"1"})], architecture="arm64")
    index = build_index([(arm, manifests.Platform("linux", "arm64", "v8"))])
    await push(registry.host, "armonly", "1", arm, index=index)
    with pytest.raises(cri.ImagePullError, match="no image for platform linux/amd64"):
        await pull(store, f"{registry.host}/armonly:1", platform=AMD64)


@pytest.mark.parametrize("domain,url", [
    ("docker.io", "https://registry-1.docker.io"), ("localhost:5000", "http://localhost:5000"),
    ("127.0.0.1:5000", "http://127.0.0.1:5000"), ("[::1]:5000", "http://[::1]:5000"),
    ("localhost", "http://localhost"), ("registry.k8s.io", "https://registry.k8s.io"),
    ("example.com:5000", "https://example.com:5000"),
], ids=lambda v: v)
def test_registry_url_is_plain_http_only_on_loopback(domain: str, url: str) -> None:
    assert registry_url(domain) == url
