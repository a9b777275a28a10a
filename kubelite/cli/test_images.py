from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubelite.cli.images import human_size, image_rows
from kubelite.cli.main import main
from kubelite.kubelet.images import ImageService, ImageStore, store_root
from kubelite.kubelet.images.testing import (
    DOCKER_REGISTRY, Registry, build_image, push, tar_layer, write_docker_archive)


def kubelite(*args: str) -> subprocess.Popen[str]:
    """`kubelite ARGS` as its own process, as a user runs it beside a server."""
    return subprocess.Popen([sys.executable, "-m", "kubelite.cli.main", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


async def test_an_image_imported_by_another_process_is_seen_at_once(tmp_path: Path) -> None:
    base = tar_layer({"bin/sh": b"#!"})
    one, two = build_image([base, tar_layer({"one": b"1"})]), build_image([base])
    write_docker_archive(tmp_path / "one.tar", [(one, ["journey/busybox:1"])])
    write_docker_archive(tmp_path / "two.tar", [(two, ["two"])])
    service = ImageService(ImageStore(store_root(tmp_path / "data")))
    assert await service.list_images() == []  # the running kubelet has looked already
    # two imports at once, sharing a layer: the lock file orders their index updates
    results = await asyncio.gather(*(asyncio.to_thread(finish, kubelite(
        "image", "import", "--data-dir", str(tmp_path / "data"), str(tmp_path / name)))
        for name in ("one.tar", "two.tar")))
    assert [code for code, _, _ in results] == [0, 0], results
    assert results[0][1] == f"Loaded image: docker.io/journey/busybox:1 ({one.id})\n"
    status = await service.image_status("journey/busybox:1")
    assert status is not None and status.id == one.id
    assert {i.id for i in await service.list_images()} == {one.id, two.id}


def test_ls_and_rm_print_as_crictl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = build_image([tar_layer({"f": b"x" * 5000})])
    write_docker_archive(tmp_path / "a.tar", [(image, ["web:1", "localhost:5000/web:2"])])
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["image", "import", *data, str(tmp_path / "a.tar")]) == 0
    capsys.readouterr()
    assert main(["image", "ls", *data]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "SIZE"]
    short = image.id[7:20]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["docker.io/library/web", "1", short], ["localhost:5000/web", "2", short]]
    assert main(["image", "ls", "-q", *data]) == 0
    assert capsys.readouterr().out == f"{image.id}\n"
    assert main(["image", "rm", *data, "web:1", "nothing:1"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == ["Deleted: docker.io/library/web:1",
                                "Deleted: localhost:5000/web:2"]
    assert "no such image 'nothing:1'" in err
    assert main(["image", "ls", "-q", *data]) == 0
    assert capsys.readouterr().out == ""


def test_import_of_a_bad_file_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "junk.tar").write_bytes(b"junk")
    assert main(["image", "import", "--data-dir", str(tmp_path), str(tmp_path / "junk.tar")]) == 1
    assert "not a tar archive or directory" in capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists(DOCKER_REGISTRY), reason="docker-registry missing")
def test_pull(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "registry").mkdir()
    registry = Registry(tmp_path / "registry")
    registry.start()
    try:
        image = build_image([tar_layer({"f": b"1"})])
        asyncio.run(push(registry.host, "app", "1", image))
        data = ["--data-dir", str(tmp_path / "data")]
        assert main(["image", "pull", *data, "--platform", "linux/amd64",
                     f"{registry.host}/app:1"]) == 0
        assert capsys.readouterr().out == f"Image is up to date for {image.id}\n"
        assert main(["image", "pull", *data, f"{registry.host}/app:2"]) == 1
        assert "MANIFEST_UNKNOWN" in capsys.readouterr().err
    finally:
        registry.stop()


@pytest.mark.parametrize("size,text", [(0, "0B"), (999, "999B"), (1000, "1kB"),
                                       (2_035_712, "2.04MB"), (5_300_000_000, "5.3GB")],
                         ids=lambda v: str(v))
def test_human_size_as_docker_units(size: int, text: str) -> None:
    assert human_size(size) == text


def test_rows_of_untagged_images() -> None:
    assert image_rows((), ("docker.io/library/a@sha256:1", "docker.io/library/a@sha256:2")) == [
        ("docker.io/library/a", "<none>")]
    assert image_rows((), ()) == [("<none>", "<none>")]
