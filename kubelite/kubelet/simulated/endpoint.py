"""The kubelet HTTP endpoint of every simulated node: one loopback server, a path per node.

A real kubelet serves /metrics/resource (and /healthz, logs, exec, ...) on its own
port. Thousands of simulated nodes in one process share one server instead, each
node under its own prefix:

    GET /nodes/<node>/metrics/resource   the kubelet's resource metrics (usage.py)
    GET /nodes/<node>/healthz            ok

and each Node advertises its prefix in the `kubelite.io/kubelet-url` annotation, which
a metrics scraper reads before falling back to upstream's InternalIP and kubelet port.
Nothing here runs per node: a request renders its node's body from the pod
simulator's informer (an index by spec.nodeName) when it comes, so idle nodes cost
nothing and a scrape of one node reads only that node's pods.

`local_get(url)` answers the same URLs without HTTP, for a scraper in the same
process (`kubelite server --simulated-nodes`): the body is the one the server would
send, and a round over 5,000 nodes skips 5,000 loopback requests on both sides.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable

from aiohttp import web

from kubelite.kubelet.simulated.nodes import NodeConfig, Obj
from kubelite.kubelet.simulated.usage import CpuCounters, resource_metrics

log = logging.getLogger(__name__)

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
TERMINAL = ("Succeeded", "Failed")


def _running(pod: Obj) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and not (pod.get("metadata") or {}).get(
        "deletionTimestamp")


class KubeletEndpoint:
    def __init__(self, config: NodeConfig, pods_on: Callable[[str], list[Obj]], *,
                 host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], datetime.datetime]) -> None:
        """`pods_on(node)`: the pods bound to a node, from an informer's cache."""
        self.config = config
        self.pods_on = pods_on
        self.host = host
        self.port = port
        self.clock = clock
        self.counters = CpuCounters()
        self._runner: web.AppRunner | None = None

    def url(self, node: str) -> str:
        return f"http://{self.host}:{self.port}/nodes/{node}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/nodes/{node}/metrics/resource", self._resource_metrics)
        app.router.add_get("/nodes/{node}/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("simulated kubelets serve http://%s:%d/nodes/<node>/", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await asyncio.shield(self._runner.cleanup())
            self._runner = None

    def _node(self, request: web.Request) -> str:
        node = request.match_info["node"]
        if self.config.index_of(node) is None:
            raise web.HTTPNotFound(text=f"no simulated node {node}\n")
        return node

    async def _healthz(self, request: web.Request) -> web.Response:
        self._node(request)
        return web.Response(text="ok")

    async def _resource_metrics(self, request: web.Request) -> web.Response:
        body = self.render(self._node(request))
        return web.Response(body=body.encode(), headers={"Content-Type": PROMETHEUS_TEXT})

    def render(self, node: str) -> str:
        pods = [pod for pod in self.pods_on(node) if _running(pod)]
        return resource_metrics(node, pods, self.counters, self.clock())

    def local_get(self, url: str) -> str | None:
        """The body of GET `url` if it is this endpoint's resource metrics of one of
        its nodes; None for any other URL (the caller goes over the network)."""
        prefix = f"http://{self.host}:{self.port}/nodes/"
        suffix = "/metrics/resource"
        if not self.port or not url.startswith(prefix) or not url.endswith(suffix):
            return None
        node = url[len(prefix):-len(suffix)]
        if "/" in node or self.config.index_of(node) is None:
            return None
        return self.render(node)
