"""What admission plugins may ask of the registry: another resource's store, to look
objects up in the watch cache and, for quota, to write a status. Typed by shape, so
admission imports nothing of the registry and the registry's store can depend on the
admission chain."""

from __future__ import annotations

from typing import Any, Protocol

from kubelite.apiserver.watchcache import Entry


class StoreView(Protocol):
    prefix: str

    def key(self, namespace: str, name: str) -> str:
        """The storage key (and watch-cache key) of one object."""

    def key_prefix(self, namespace: str) -> str:
        """The key prefix of one namespace's objects (every object's, if "")."""

    async def sync_cache(self) -> None:
        """Wait until the watch cache has every revision the store had on the call."""

    async def cached_entry(self, namespace: str, name: str) -> Entry | None:
        """One object from the watch cache, caught up with the store when it lacks it."""

    async def update_status(self, namespace: str, name: str, obj: dict[str, Any]
                            ) -> dict[str, Any]:
        """Write obj's status through the status subresource, guarded by
        obj's metadata.resourceVersion: Conflict if the object has moved on since."""


class Stores(Protocol):
    def store_for(self, group: str, plural: str) -> StoreView:
        """The store of a served resource; KeyError if it is not served."""
