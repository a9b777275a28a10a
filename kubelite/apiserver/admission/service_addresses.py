"""A Service's ClusterIP and NodePorts, claimed from the cluster's pools as it is
written (upstream does this in the Service REST storage's BeginCreate/BeginUpdate
transaction, pkg/registry/core/service/storage/alloc.go).

The claim is made in the validate phase, on the defaulted and validated Service,
because its type, ports and requested addresses are only final then; a requested
address or port that is taken or out of range is 422. The claim is given back if the
write fails or is a dry run; after an update is stored, whatever the old Service held
and the new one no longer uses goes back to the pools, and when a Service is deleted,
all it held does (every server sharing the store does this; giving back twice is
harmless). The pools themselves, one store key per address or port, are
`registry/allocators.py`.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from kubelite.apiserver.admission.chain import Attributes, Finish
from kubelite.apiserver.admission.stores import Stores
from kubelite.apiserver.registry.allocators import ServiceAllocator
from kubelite.apiserver.watchcache import CacheEvent


class ServiceAddresses:
    name: ClassVar[str] = "ServiceAddresses"

    def __init__(self, *, stores: Stores, allocator: ServiceAllocator) -> None:
        self.stores = stores
        self.allocator = allocator
        self._releasing: set[asyncio.Task[None]] = set()

    def handles(self, attrs: Attributes) -> bool:
        return attrs.is_resource("", "services") and not attrs.subresource

    async def validate(self, attrs: Attributes) -> Finish:
        reserved = await self.allocator.allocate(attrs.obj, attrs.old)
        old, new = attrs.old, attrs.obj

        async def finish(stored: bool) -> None:
            if not stored:
                await self.allocator.release(reserved)
            elif old is not None:
                await self.allocator.release_unused(old, new)
        return finish

    def on_event(self, event: CacheEvent) -> None:
        """A cache listener: a deleted Service's addresses and ports go back."""
        if event.type == "DELETED" and \
                event.key.startswith(self.stores.store_for("", "services").prefix):
            task = asyncio.create_task(self.allocator.release_unused(event.entry.obj, None))
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)
