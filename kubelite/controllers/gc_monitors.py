"""What the garbage collector watches: every resource the API serves that can be
listed, watched and deleted, found through discovery (upstream's
garbagecollector.GetDeletableResources and GraphBuilder.syncMonitors).

`Monitors.sync()` reads /api and /apis (each group's preferred version), keeps the
resources whose verbs include delete, list and watch (no subresources, not Events, as
upstream's default ignored resources), starts an informer for each new one and stops
those whose resource went away; every informer feeds the graph. It runs at start,
every `DISCOVERY_PERIOD` seconds, and whenever a reference names a kind it does not
know yet, so a custom resource is collected soon after its CRD is established.

`resource_for(api_version, kind)` is the REST mapping the collector needs to GET,
patch and delete an object it knows by reference. The informers here are the
collector's own, not the shared ones: the set changes while the manager runs.
"""

from __future__ import annotations

import asyncio
import logging
import time

from kubelite.client.controller import TemporaryError
from kubelite.client.informer import Informer, strip_managed_fields
from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.controllers.gc_graph import Graph, Obj
from kubelite.controllers.informers import SharedInformers
from kubelite.machinery import errors

log = logging.getLogger(__name__)

DISCOVERY_PERIOD = 30.0  # upstream's resync of the collector's resources
REDISCOVERY_MIN_INTERVAL = 1.0  # seconds: unknown kinds rediscover at most this often
SYNC_TIMEOUT = 30.0  # upstream goes on after waiting for the monitors this long
REQUIRED_VERBS = frozenset({"delete", "list", "watch"})
IGNORED = frozenset({("", "events"), ("events.k8s.io", "events")})


class UnknownKind(TemporaryError):
    """Discovery names no resource for an apiVersion and kind (yet): a custom resource
    not established, or a reference to a kind no server serves. Retried with backoff,
    as upstream retries its restMappingError."""


async def deletable_resources(client: Client) -> list[Resource]:
    """The preferred version of every listable, watchable, deletable resource."""
    versions = [("", v) for v in (await client.request("GET", "/api")).get("versions") or []]
    for group in (await client.request("GET", "/apis")).get("groups") or []:
        preferred = (group.get("preferredVersion") or {}).get("version")
        if preferred:
            versions.append((str(group["name"]), str(preferred)))
    found: list[Resource] = []
    for group, version in versions:
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            listing = await client.request("GET", path)
        except errors.NotFound:
            continue  # a group removed (a CRD deleted) between the two reads
        for entry in listing.get("resources") or []:
            plural = str(entry.get("name") or "")
            if "/" in plural or (group, plural) in IGNORED:
                continue
            if not REQUIRED_VERBS <= set(entry.get("verbs") or ()):
                continue
            found.append(Resource(group, version, plural, bool(entry.get("namespaced")),
                                  str(entry.get("kind") or "")))
    return found


class Monitors:
    """One informer per deletable resource feeding the graph. Where the manager's other
    loops watch a resource already (pods, ReplicaSets...), its shared informer is used,
    as upstream's graph builder takes them from the shared informer factory: every pod
    change is then decoded once, not once more for the collector."""

    def __init__(self, client: Client, graph: Graph,
                 shared: SharedInformers | None = None) -> None:
        self.client = client
        self.graph = graph
        self.shared = shared
        self.informers: dict[str, Informer] = {}  # by group_resource
        self._own: set[str] = set()  # those started here (the others are shared)
        self._kinds: dict[tuple[str, str], Resource] = {}  # (group, kind)
        self._lock = asyncio.Lock()
        self._discovered_at = -REDISCOVERY_MIN_INTERVAL

    def resource_for(self, api_version: str, kind: str) -> Resource:
        group = api_version.rpartition("/")[0]
        res = self._kinds.get((group, kind))
        if res is None:
            raise UnknownKind(f"no resource serves {api_version} {kind}")
        return res

    async def resolve(self, api_version: str, kind: str) -> Resource:
        """resource_for, discovering again when the kind is unknown (at most once a
        REDISCOVERY_MIN_INTERVAL, however many references name unknown kinds)."""
        try:
            return self.resource_for(api_version, kind)
        except UnknownKind:
            if self._lock.locked():  # a discovery is under way: its answer will do
                async with self._lock:
                    pass
            elif time.monotonic() - self._discovered_at >= REDISCOVERY_MIN_INTERVAL:
                await self.sync()
            return self.resource_for(api_version, kind)

    async def sync(self) -> None:
        """Discover; start informers for new resources and wait (at most SYNC_TIMEOUT)
        for them to sync; stop those of vanished ones. One discovery at a time."""
        async with self._lock:
            self._discovered_at = time.monotonic()
            resources = await deletable_resources(self.client)
            self._kinds = {(r.group, r.kind): r for r in resources}
            wanted = {r.group_resource: r for r in resources}
            for gone in set(self.informers) - set(wanted):
                log.info("garbage collector stops watching %s", gone)
                informer = self.informers.pop(gone)
                if gone in self._own:
                    self._own.discard(gone)
                    await informer.stop()
            started = [self._start(res) for name, res in wanted.items()
                       if name not in self.informers]
            synced = await asyncio.gather(*(i.wait_for_sync(SYNC_TIMEOUT) for i in started))
            for informer, ok in zip(started, synced, strict=True):
                if not ok:
                    log.warning("garbage collector: %s has not synced yet; going on",
                                informer.resource.group_resource)

    def _start(self, res: Resource) -> Informer:
        shared = self.shared.started(res) if self.shared is not None else None
        informer = self.informers[res.group_resource] = shared or Informer(
            self.client, res, transform=strip_managed_fields)
        api_version, kind = res.api_version, res.kind

        def observe(obj: Obj) -> None:
            self.graph.observe(obj, api_version, kind)

        informer.add_event_handler(
            on_add=observe, on_update=lambda _old, new: observe(new),
            on_delete=lambda obj: self.graph.observe_deleted(obj, api_version, kind))
        if shared is None:
            self._own.add(res.group_resource)
            informer.start()
        return informer

    async def run(self, period: float = DISCOVERY_PERIOD) -> None:
        """Discover again every `period` seconds until cancelled."""
        while True:
            await asyncio.sleep(period)
            try:
                await self.sync()
            except Exception:
                log.exception("garbage collector: discovery failed; trying again later")

    async def stop(self) -> None:
        await asyncio.gather(*(self.informers[name].stop() for name in self._own))
        self.informers.clear()
        self._own.clear()
