"""Scrape every node's kubelet for resource metrics, once per resolution
(metrics-server's pkg/scraper).

A round reads the Nodes from the informer, fetches `<kubelet>/metrics/resource` from
each with a fixed number of worker coroutines (never a task per node), decodes what
came back and hands the whole batch to the storage at once. A node that does not
answer in time, answers with an error, or sends text that does not parse is left out
of the batch (its metrics vanish until it answers twice again); one log line per
round says how many failed and why the first did.

Where a kubelet is reached: the Node's `kubelite.io/kubelet-url` annotation if it has
one (simulated nodes: one loopback server for all of them), else upstream's
`https://<address>:<status.daemonEndpoints.kubeletEndpoint.Port>` with the first
address of the preferred types (Hostname, InternalDNS, InternalIP, ExternalDNS,
ExternalIP: metrics-server's default order). The transport is a `Fetch`, plain HTTP by
default, so a kubelet with TLS and authentication plugs in as another fetch. Kubelets
in the same process (simulated nodes in `kubelite server`) can be asked first through
`local` getters, which answer the same URLs with the same bodies without a socket; the
workers yield to the event loop after each one, so a round never blocks it for long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from kubelite.api.kubelet_endpoint import kubelet_url
from kubelite.metrics.decode import NodeScrape, decode
from kubelite.metrics.storage import DEFAULT_RESOLUTION, MetricsStorage

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Fetch = Callable[[str, float], Awaitable[str]]  # (url, timeout) -> body
# kubelets in this very process: the body of a URL they serve, None for others
LocalGet = Callable[[str], str | None]

DEFAULT_WORKERS = 16


class Scraper:
    def __init__(self, nodes: Callable[[], list[Obj]], storage: MetricsStorage, *,
                 resolution: float = DEFAULT_RESOLUTION, workers: int = DEFAULT_WORKERS,
                 fetch: Fetch | None = None, local: list[LocalGet] | None = None) -> None:
        if resolution <= 0:
            raise ValueError(f"metric resolution must be > 0, not {resolution}")
        self.nodes = nodes
        self.storage = storage
        self.resolution = resolution
        self.timeout = resolution * 0.9  # a round ends before the next one is due
        self.workers = workers
        self._fetch = fetch
        self.local = list(local or ())
        self._session: aiohttp.ClientSession | None = None
        self.round_done = asyncio.Condition()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                started = loop.time()
                await self.scrape_round()
                await asyncio.sleep(max(0.0, started + self.resolution - loop.time()))
        finally:
            await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def wait_rounds(self, rounds: int) -> None:
        """Until the storage holds `rounds` more batches than now."""
        target = self.storage.rounds + rounds
        async with self.round_done:
            await self.round_done.wait_for(lambda: self.storage.rounds >= target)

    async def _http_fetch(self, url: str, timeout: float) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status != 200:
                raise OSError(f"HTTP {resp.status} from {url}")
            return await resp.text()

    async def scrape_round(self) -> dict[str, NodeScrape]:
        pending = [(str(n["metadata"]["name"]), url) for n in self.nodes()
                   if (url := kubelet_url(n)) is not None]
        batch: dict[str, NodeScrape] = {}
        failures: list[str] = []
        fetch = self._fetch or self._http_fetch

        async def worker() -> None:
            while pending:
                name, url = pending.pop()
                target = f"{url}/metrics/resource"
                try:
                    text = next((t for get in self.local if (t := get(target)) is not None),
                                None)
                    if text is None:
                        async with asyncio.timeout(self.timeout):
                            text = await fetch(target, self.timeout)
                    else:
                        await asyncio.sleep(0)  # let the loop breathe between nodes
                    batch[name] = decode(text)
                except (OSError, ValueError, TimeoutError, aiohttp.ClientError) as err:
                    failures.append(f"{name}: {err or type(err).__name__}")

        count = min(self.workers, len(pending))
        await asyncio.gather(*(worker() for _ in range(count)))
        if failures:
            log.warning("scraping %d of %d nodes failed; %s", len(failures),
                        len(failures) + len(batch), failures[0])
        self.storage.store(batch)
        async with self.round_done:
            self.round_done.notify_all()
        return batch
