"""What admission plugins may ask of the registry: another resource's store, to look
objects up in the watch cache. Typed by shape, so admission imports nothing of the
registry and the registry's store can depend on the admission chain."""

from __future__ import annotations

from typing import Protocol


class StoreView(Protocol):
    prefix: str

    def key(self, namespace: str, name: str) -> str:
        """The storage key (and watch-cache key) of one object."""

    async def sync_cache(self) -> None:
        """Wait until the watch cache has every revision the store had on the call."""


class Stores(Protocol):
    def store_for(self, group: str, plural: str) -> StoreView:
        """The store of a served resource; KeyError if it is not served."""
