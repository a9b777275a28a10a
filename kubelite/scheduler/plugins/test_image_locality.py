"""ImageLocality against upstream's image_locality_test.go arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import CycleState
from kubelite.scheduler.plugins.image_locality import MB, ImageLocality, normalized_image_name


def images(*sizes: int) -> list[dict]:
    return [{"names": [f"gcr.io/{size}:latest", f"gcr.io/{size}:v1"], "sizeBytes": size * MB} for size in sizes]


def pod_with(*names: str) -> dict:
    return {"metadata": {"name": "p"}, "spec": {"containers": [{"name": n, "image": n} for n in names]}}


@pytest.mark.parametrize("pod_images, expected", [
    # node1 40MB*1/2 = 20MB < 23MB -> 0; node2 250MB*1/2 = 125MB -> 100*(125-23)/(2000-23) = 5
    (("gcr.io/40", "gcr.io/250"), [0, 5]),
    # node1 (40+300)/2 = 170MB -> 100*(170-23)/(2000-23) = 7; node2 nothing -> 0
    (("gcr.io/40", "gcr.io/300"), [7, 0]),
    # 2000MB is clamped at 1000MB for one container: node2 -> 100; node1 -> 0
    (("gcr.io/2000",), [0, 100]),
    # any of an image's names counts: 300MB*1/2 = 150MB -> 100*(150-23)/(1000-23) = 12
    (("gcr.io/300:v1",), [12, 0]),
], ids=["larger-image-preferred", "two-images-one-node", "clamped-at-max", "tagged-name"])
def test_score_by_image_sizes_scaled_by_spread(pod_images, expected) -> None:
    nodes = table(make_node("node1", images=images(40, 300)), make_node("node2", images=images(250, 10, 2000)))
    pod = pod_with(*pod_images)
    got = ImageLocality().score(CycleState(), pod, nodes, np.arange(2)).tolist()
    assert got == expected


@pytest.mark.parametrize("name, normalized", [
    ("nginx", "nginx:latest"), ("nginx:1.25", "nginx:1.25"), ("registry:5000/nginx", "registry:5000/nginx:latest"),
    ("nginx@sha256:abc", "nginx@sha256:abc"),
], ids=["bare", "tagged", "registry-port", "digest"])
def test_image_names_get_latest_when_untagged(name, normalized) -> None:
    assert normalized_image_name(name) == normalized
