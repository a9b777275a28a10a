"""Writing a controller's status the way upstream's loops do: through the status
subresource, and once more over a fresh read when the informer's copy was behind (a 409),
because the status describes the generation this sync acted on, whatever the newer
object says. A second conflict is raised: the loop's retry with backoff takes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelite.client.resource import ResourceLike
from kubelite.client.rest import Client
from kubelite.machinery import errors

Obj = dict[str, Any]


def merged(current: Obj, status: Obj) -> Obj:
    """`current` with `status` laid over its status (fields not in `status` kept)."""
    return {**current, "status": {**(current.get("status") or {}), **status}}


def replaced(current: Obj, status: Obj) -> Obj:
    """`current` with `status` as its whole status."""
    return {**current, "status": status}


async def write_status(client: Client, resource: ResourceLike, obj: Obj, status: Obj,
                       body: Callable[[Obj, Obj], Obj] = merged) -> Obj:
    """Write `status` onto `obj` (as `body` combines them); on a conflict read the object
    again and write once more. The object as written comes back."""
    current = obj
    for attempt in range(2):
        meta = current.get("metadata") or {}
        try:
            written: Obj = await client.update_status(resource, body(current, status),
                                                      namespace=meta.get("namespace"))
            return written
        except errors.Conflict:
            if attempt:
                raise
            current = await client.get(resource, meta["name"], namespace=meta.get("namespace"))
    raise AssertionError("unreachable")
