"""ImageLocality: favour nodes that already hold the pod's images.

Each image the node reports (status.images[].names, exact name or the name with `:latest`
added) contributes its size scaled by the share of nodes holding it, so an image present
everywhere weighs little; the sum is clamped to [23MB, 1000MB x containers] and mapped
to 0..100, as upstream.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from kubelite.scheduler.framework import MAX_NODE_SCORE, CycleState, Obj, Rows, Scores
from kubelite.scheduler.node_table import NodeTable

MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def normalized_image_name(name: str) -> str:
    """Upstream's normalizedImageName: a name without tag or digest means `:latest`."""
    if name.rfind(":") <= name.rfind("/") and "@" not in name:
        return name + ":latest"
    return name


class ImageLocality:
    name: ClassVar[str] = "ImageLocality"

    def score(self, state: CycleState, pod: Obj, nodes: NodeTable, rows: Rows) -> Scores:
        spec = pod.get("spec") or {}
        containers = list(spec.get("initContainers") or ()) + list(spec.get("containers") or ())
        total = np.zeros(len(rows), dtype=np.int64)
        for container in containers:
            sizes = nodes.image_size(normalized_image_name(container.get("image") or ""))
            holders = int(np.count_nonzero(sizes >= 0))
            if holders:
                spread = holders / len(nodes)
                here = sizes[rows]
                total += np.where(here >= 0, (here * spread).astype(np.int64), 0)
        high = MAX_CONTAINER_THRESHOLD * max(len(containers), 1)
        clamped = np.clip(total, MIN_THRESHOLD, high)
        return MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) // (high - MIN_THRESHOLD)
