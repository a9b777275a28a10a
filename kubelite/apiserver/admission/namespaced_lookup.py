"""One namespace's objects of one resource, as the LimitRanger and ResourceQuota plugins
read them: from the watch cache, which the store feeds within moments of each write.

When a namespace seems to have none, the cache may just be behind a LimitRange or
quota created a moment ago, so the lookup first waits for the cache to catch up with
the store (upstream's plugins do a live LIST there). Most namespaces have none, and
every create in them would pay that wait, so the answer "none, even after catching
up" is trusted for `ttl` seconds per namespace, as upstream keeps its live lookups in
an LRU for 30 s. Objects the cache does show are always used at once, and a create of
the resource that this server stored (`forget`) drops the namespace's "none" at once,
so a client that creates a quota and then a pod is held to the quota whatever the
cache shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubelite.apiserver.admission.chain import Finish
from kubelite.apiserver.admission.stores import Stores
from kubelite.apiserver.watchcache import Cache

Obj = dict[str, Any]
LIVE_LOOKUP_TTL = 30.0


class NamespacedLookup:
    def __init__(self, *, stores: Stores, cache: Cache, group: str, plural: str,
                 ttl: float = LIVE_LOOKUP_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stores = stores
        self.cache = cache
        self.group = group
        self.plural = plural
        self.ttl = ttl
        self.clock = clock
        self._empty_since: dict[str, float] = {}

    def forget(self, namespace: str) -> None:
        """The namespace may have objects now: look again before trusting "none"."""
        self._empty_since.pop(namespace, None)

    def forget_once_stored(self, namespace: str) -> Finish:
        """The Finish of a create of this resource: `forget` once it is stored."""
        async def finish(stored: bool) -> None:
            if stored:
                self.forget(namespace)
        return finish

    def cached(self, namespace: str) -> list[Obj]:
        store = self.stores.store_for(self.group, self.plural)
        prefix = store.key_prefix(namespace)
        return [entry.obj for key, entry in self.cache.bucket(store.prefix).items()
                if key.startswith(prefix)]

    async def list(self, namespace: str) -> list[Obj]:
        found = self.cached(namespace)
        if found:
            self._empty_since.pop(namespace, None)
            return found
        checked = self._empty_since.get(namespace)
        if checked is not None and self.clock() - checked < self.ttl:
            return []
        await self.stores.store_for(self.group, self.plural).sync_cache()
        found = self.cached(namespace)
        if not found:
            if len(self._empty_since) > 10_000:  # bounded, as upstream's LRU
                self._empty_since.clear()
            self._empty_since[namespace] = self.clock()
        return found
