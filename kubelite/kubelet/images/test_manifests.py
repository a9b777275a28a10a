from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.images.manifests import (
    DOCKER_LIST, OCI_INDEX, OCI_MANIFEST, ManifestError, Platform, media_type, pick_platform)


def index(*platforms: tuple[str, str, str]) -> dict[str, Any]:
    return {"mediaType": OCI_INDEX, "manifests": [
        {"digest": f"sha256:{i}", "platform": {"os": o, "architecture": a,
                                                **({"variant": v} if v else {})}}
        for i, (o, a, v) in enumerate(platforms)]}


# which entry containerd's default matcher takes for a node
PICKS = [
    ("amd64-among-many", [("linux", "arm64", "v8"), ("linux", "amd64", ""),
                          ("windows", "amd64", "")], Platform("linux", "amd64"), 1),
    ("own-variant-first", [("linux", "arm", "v6"), ("linux", "arm", "v7")],
     Platform("linux", "arm", "v7"), 1),
    ("unmarked-variant-next", [("linux", "arm64", ""), ("linux", "arm64", "v8")],
     Platform("linux", "arm64", "v8"), 1),
    ("arm64-unmarked-ok", [("linux", "arm64", "")], Platform("linux", "arm64", "v8"), 0),
    ("attestation-skipped", [("unknown", "unknown", ""), ("linux", "amd64", "")],
     Platform("linux", "amd64"), 1),
]


@pytest.mark.parametrize("offered,wanted,picked", [p[1:] for p in PICKS],
                         ids=[p[0] for p in PICKS])
def test_pick_platform_takes_the_nodes_own(offered: list[tuple[str, str, str]],
                                           wanted: Platform, picked: int) -> None:
    assert pick_platform(index(*offered), wanted)["digest"] == f"sha256:{picked}"


def test_pick_platform_names_what_the_index_offers() -> None:
    with pytest.raises(ManifestError, match="no image for platform linux/amd64 .*linux/arm64/v8, "
                                            "windows/amd64"):
        pick_platform(index(("linux", "arm64", "v8"), ("windows", "amd64", ""),
                            ("unknown", "unknown", "")), Platform("linux", "amd64"))


@pytest.mark.parametrize("document,declared,expected", [
    ({"mediaType": DOCKER_LIST, "manifests": []}, "", DOCKER_LIST),
    ({"schemaVersion": 2, "config": {}, "layers": []}, OCI_MANIFEST + "; charset=utf-8",
     OCI_MANIFEST),
    ({"schemaVersion": 2, "manifests": []}, "application/json", OCI_INDEX),
], ids=["says-so", "served-as", "by-fields"])
def test_media_type(document: dict[str, Any], declared: str, expected: str) -> None:
    assert media_type(document, declared) == expected


def test_schema1_is_refused_clearly() -> None:
    with pytest.raises(ManifestError, match="schema 1 is not supported"):
        media_type({"schemaVersion": 1, "fsLayers": []})
