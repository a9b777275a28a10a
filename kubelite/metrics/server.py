"""MetricsServer: kubelite's metrics-server. Scrapes the kubelets, keeps the latest
points, and serves metrics.k8s.io through the API server as an aggregated API.

    kubelets (/metrics/resource) ──scraper.py──▶ storage.py ──▶ api.py ◀── API server
          ▲                                                        (aggregation.py)
    Nodes (informer): where each kubelet is

It reaches the cluster only through `kubelite/client` (Node and Pod informers) and the
kubelets only through their HTTP endpoints, so it runs unchanged beside any API
server that proxies metrics.k8s.io to it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from kubelite.client.informer import Informer, strip_managed_fields
from kubelite.client.rest import Client
from kubelite.metrics.api import MetricsAPI
from kubelite.metrics.scraper import Fetch, LocalGet, Scraper
from kubelite.metrics.storage import DEFAULT_RESOLUTION, MetricsStorage

Obj = dict[str, Any]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def metadata_only(obj: Obj) -> Obj:
    """A pod as the PodMetrics API reads it: its metadata (names and labels), the way
    upstream's metrics-server keeps pods in a metadata informer. Its spec and status
    would double what the cache holds per pod and are never read."""
    meta = dict(obj.get("metadata") or {})
    meta.pop("managedFields", None)
    return {"apiVersion": obj.get("apiVersion", "v1"), "kind": obj.get("kind", "Pod"),
            "metadata": meta}


class MetricsServer:
    def __init__(self, client: Client, *, resolution: float = DEFAULT_RESOLUTION,
                 fetch: Fetch | None = None, local: list[LocalGet] | None = None,
                 clock: Callable[[], datetime.datetime] = _now) -> None:
        self.nodes = Informer(client, "nodes", transform=strip_managed_fields)
        self.pods = Informer(client, "pods", transform=metadata_only)
        self.storage = MetricsStorage(resolution)
        self.api = MetricsAPI(self.storage, nodes=self.nodes.indexer.list,
                              pods=self.pods.lister.list, clock=clock)
        self.scraper = Scraper(self.nodes.indexer.list, self.storage,
                               resolution=resolution, fetch=fetch, local=local)

    async def run(self) -> None:
        self.nodes.start()
        self.pods.start()
        try:
            await self.nodes.wait_for_sync()
            await self.pods.wait_for_sync()
            await self.scraper.run()
        finally:
            await self.nodes.stop()
            await self.pods.stop()
