"""SharedInformers: one informer per resource for every loop of a controller manager
(client-go's SharedInformerFactory).

The ReplicaSet and ReplicationController loops both watch pods; with an informer each
they would hold two copies of every pod and the API server would stream every pod
change twice. Here a loop asks `informers.informer("pods", indexers=...)` while it is
built; the first ask makes the informer, later asks return the same one (adding any
index it lacks), and each loop adds its own event handlers to it. The manager starts
them all once every loop is built, and waits for them to sync before any loop runs,
so a sync never reads a half-filled cache.

Listers are shared too: what they return must never be modified (copy first).
"""

from __future__ import annotations

import asyncio

from kubelite.client.informer import Informer, strip_managed_fields
from kubelite.client.resource import ResourceLike, resolve
from kubelite.client.rest import Client
from kubelite.client.store import IndexFunc


class SharedInformers:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._informers: dict[str, Informer] = {}
        self._indexes: dict[str, set[str]] = {}
        self._started = False

    def informer(self, resource: ResourceLike, *,
                 indexers: dict[str, IndexFunc] | None = None) -> Informer:
        """The informer of `resource`, made on first ask; `indexers` it lacks are
        added (an index name already there is kept: loops share index names only for
        the same index)."""
        res = resolve(resource)
        informer = self._informers.get(res.group_resource)
        if informer is None:
            if self._started:
                raise RuntimeError(f"informer {res.group_resource} asked for after start")
            informer = self._informers[res.group_resource] = Informer(
                self.client, res, transform=strip_managed_fields)
        known = self._indexes.setdefault(res.group_resource, set())
        missing = {name: func for name, func in (indexers or {}).items() if name not in known}
        if missing:
            informer.add_indexers(missing)
            known.update(missing)
        return informer

    def started(self, resource: ResourceLike) -> Informer | None:
        """The informer of `resource` if a loop asked for it and it has been started: a
        loop that starts watching later (the garbage collector's monitors) shares it."""
        return self._informers.get(resolve(resource).group_resource) if self._started else None

    def resources(self) -> list[str]:
        return sorted(self._informers)

    def start(self) -> None:
        self._started = True
        for informer in self._informers.values():
            informer.start()

    async def wait_for_sync(self) -> None:
        """Until every informer has its first full state (each retries until it does)."""
        await asyncio.gather(*(i.wait_for_sync() for i in self._informers.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(i.stop() for i in self._informers.values()))
