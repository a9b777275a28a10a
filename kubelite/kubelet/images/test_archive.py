from __future__ import annotations

import gzip
import json
import os
import tarfile
from pathlib import Path

import pytest

from kubelite.kubelet.images import manifests
from kubelite.kubelet.images.archive import ArchiveError, import_archive
from kubelite.kubelet.images.store import ImageStore
from kubelite.kubelet.images.testing import (
    BUSYBOX, build_image, digest, build_index, busybox_layer, tar_layer, write_docker_archive,
    write_oci_layout)

AMD64 = manifests.Platform("linux", "amd64")
needs_busybox = pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox-static missing")


@needs_busybox
def test_docker_archive_import_names_the_image_as_docker_does(store: ImageStore,
                                                              tmp_path: Path) -> None:
    image = build_image([busybox_layer()], config={"Cmd": ["sh"], "User": "0"})
    write_docker_archive(tmp_path / "bb.tar", [(image, ["journey/busybox:1", "busybox"])])
    [imported] = import_archive(store, tmp_path / "bb.tar")
    assert imported.id == image.id
    assert imported.references == ("docker.io/journey/busybox:1",
                                   "docker.io/library/busybox:latest")
    [layer] = store.layers("journey/busybox:1")
    assert (layer / "bin/busybox").read_bytes() == Path(BUSYBOX).read_bytes()
    assert os.readlink(layer / "bin/sh") == "busybox"
    assert store.config("busybox") == {"Cmd": ["sh"], "User": "0"}
    assert store.resolve(image.id[7:19]) == image.id  # a short id, as crictl prints


def test_oci_layout_picks_the_platform_and_keeps_the_repo_digest(store: ImageStore,
                                                                 tmp_path: Path) -> None:
    amd = build_image([tar_layer({"amd": b"1"})], architecture="amd64", compression="zstd")
    arm = build_image([tar_layer({"arm": b"1"})], architecture="arm64")
    index = build_index([(arm, manifests.Platform("linux", "arm64", "v8")), (amd, AMD64)])
    write_oci_layout(tmp_path, [(index, manifests.OCI_INDEX,
                                 {"org.opencontainers.image.ref.name": "localhost:5000/app:v1"})],
                     [amd, arm])
    [imported] = import_archive(store, tmp_path, AMD64)
    assert imported.id == amd.id
    stored = store.get("localhost:5000/app:v1")
    assert stored is not None and stored.id == amd.id
    index_digest = digest(index)
    assert stored.repo_digests == (f"localhost:5000/app@{index_digest}",)
    assert store.resolve(f"localhost:5000/app@{index_digest}") == amd.id
    assert [p.name for p in store.layers(amd.id)[0].iterdir()] == ["amd"]


def test_oci_archive_prefers_containerds_name_and_imports_unnamed_by_id(
        store: ImageStore, tmp_path: Path) -> None:
    named = build_image([tar_layer({"a": b"1"})])
    unnamed = build_image([tar_layer({"b": b"2"})])
    write_oci_layout(tmp_path / "oci.tar", [
        (named.manifest, named.manifest_media_type,
         {"io.containerd.image.name": "docker.io/team/app:2",
          "org.opencontainers.image.ref.name": "2"}),
        (unnamed.manifest, unnamed.manifest_media_type, {})], [named, unnamed], as_tar=True)
    result = import_archive(store, tmp_path / "oci.tar", AMD64)
    assert [r.id for r in result] == [named.id, unnamed.id]
    assert store.resolve("team/app:2") == named.id
    assert store.get(unnamed.id) is not None and store.get(unnamed.id).repo_tags == ()


def test_shared_layers_are_unpacked_once_and_removed_with_the_last_user(
        store: ImageStore, tmp_path: Path) -> None:
    base = tar_layer({"etc/os-release": b"kubelite\n"})
    one = build_image([base, tar_layer({"one": b"1"})])
    two = build_image([base, tar_layer({"two": b"2"})])
    write_docker_archive(tmp_path / "two.tar", [(one, ["one"]), (two, ["two"])])
    import_archive(store, tmp_path / "two.tar")
    assert store.layers("one")[0] == store.layers("two")[0]
    assert len(list((store.root / "layers/sha256").iterdir())) == 3
    shared = store.layers("one")[0]
    assert store.remove("one") and not store.remove("one")
    assert shared.is_dir() and len(list((store.root / "layers/sha256").iterdir())) == 2
    assert store.remove("docker.io/library/two:latest")
    assert list((store.root / "layers/sha256").iterdir()) == []
    assert list((store.root / "blobs/sha256").iterdir()) == []
    assert store.images() == []


def test_a_tag_moves_to_the_newer_image(store: ImageStore, tmp_path: Path) -> None:
    old, new = build_image([tar_layer({"v": b"1"})]), build_image([tar_layer({"v": b"2"})])
    write_docker_archive(tmp_path / "old.tar", [(old, ["app:1"])])
    write_docker_archive(tmp_path / "new.tar", [(new, ["app:1"])])
    import_archive(store, tmp_path / "old.tar")
    import_archive(store, tmp_path / "new.tar")
    assert store.resolve("app:1") == new.id
    assert {i.id: i.repo_tags for i in store.images()} == {
        old.id: (), new.id: ("docker.io/library/app:1",)}


def test_docker_25_archive_is_read_by_its_repo_tags(store: ImageStore, tmp_path: Path) -> None:
    image = build_image([tar_layer({"f": b"x"})], compression="none")
    write_docker_archive(tmp_path / "new.tar", [(image, ["team/app:3"])], docker25=True)
    [imported] = import_archive(store, tmp_path / "new.tar")
    # the index.json annotation says only "3"; manifest.json has the name
    assert imported.references == ("docker.io/team/app:3",)


def test_gzipped_docker_archive_with_gzipped_layers(store: ImageStore, tmp_path: Path) -> None:
    image = build_image([tar_layer({"f": b"x"})])
    write_docker_archive(tmp_path / "plain.tar", [(image, ["gz:1"])])
    (tmp_path / "a.tar.gz").write_bytes(gzip.compress((tmp_path / "plain.tar").read_bytes()))
    import_archive(store, tmp_path / "a.tar.gz")
    assert (store.layers("gz:1")[0] / "f").read_bytes() == b"x"


def test_layer_not_matching_its_diff_id_adds_nothing(store: ImageStore, tmp_path: Path) -> None:
    image = build_image([tar_layer({"f": b"x"})])
    tampered = build_image([tar_layer({"f": b"y"})])
    object.__setattr__(tampered, "config", image.config)  # the config of another layer
    object.__setattr__(tampered, "diff_ids", image.diff_ids)
    write_docker_archive(tmp_path / "bad.tar", [(tampered, ["bad:1"])])
    with pytest.raises(Exception, match="not its diff_id"):
        import_archive(store, tmp_path / "bad.tar")
    assert store.images() == []
    assert not (store.root / "layers/sha256").exists() or not any(
        (store.root / "layers/sha256").iterdir())
    assert list((store.root / "tmp").iterdir()) == []


@pytest.mark.parametrize("content,message", [
    (b"not a tar at all", "not a tar archive"),
    (None, "neither an OCI image layout"),
    (json.dumps([{"Config": "missing.json", "RepoTags": []}]).encode(), "no file"),
    (json.dumps([{"Config": "c.json", "RepoTags": ["UPPER:1"]}]).encode(), "lowercase"),
], ids=["garbage", "empty-tar", "missing-config", "bad-tag"])
def test_bad_archives_are_refused_clearly(store: ImageStore, tmp_path: Path,
                                          content: bytes | None, message: str) -> None:
    path = tmp_path / "x.tar"
    if content is None or content.startswith(b"["):
        with tarfile.open(path, "w") as tar:
            if content is not None:
                (tmp_path / "manifest.json").write_bytes(content)
                tar.add(tmp_path / "manifest.json", "manifest.json")
    else:
        path.write_bytes(content)
    with pytest.raises(ArchiveError, match=message):
        import_archive(store, path)
