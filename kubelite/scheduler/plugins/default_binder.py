"""DefaultBinder: binds a pod by POSTing pods/<name>/binding (upstream's defaultbinder).

The binding carries the pod's uid, so a pod deleted and recreated under the same name while
its binding was in flight is not bound by mistake: the API server answers Conflict and the
scheduling starts over. Any failure comes back as an Error status carrying the exception,
so the loop can tell a pod that is gone (NotFound) from one to retry.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from kubelite.scheduler.binding_cycle import Handle
from kubelite.scheduler.framework import CycleState, Obj, Status


class DefaultBinder:
    name: ClassVar[str] = "DefaultBinder"

    def __init__(self) -> None:
        self.handle: Handle | None = None

    def use_handle(self, handle: Handle) -> None:
        self.handle = handle

    async def bind(self, state: CycleState, pod: Obj, node: str) -> Status:
        if self.handle is None:
            return Status.from_error(RuntimeError("DefaultBinder has no framework handle"))
        meta: Obj = pod.get("metadata") or {}
        try:
            await self.handle.client.bind(meta.get("name", ""), node,
                                          namespace=meta.get("namespace", ""),
                                          pod_uid=meta.get("uid") or None)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the API's answer (or an outage), as a status
            return Status.from_error(error)
        return Status.success()
