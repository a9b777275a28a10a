"""The store as the API server sees it when resources are encrypted at rest.

`EncryptingBackend` wraps any Backend (SQLite, etcd) and transforms values at the one
place where objects become stored bytes and back, as upstream's etcd3 store applies its
resource's transformer: the store below only ever holds a configured resource's
values sealed; the watch cache, the registry and every client above see plaintext.

- The transformer is chosen by the key's group and resource
  (`/registry/<group or core>/<resource>/...`), once per group-resource and then
  remembered; a value of a resource the configuration does not name passes untouched.
- aesgcm authenticates the storage key, so a value moved to another key will not open.
- A value opened by any key but the first comes back marked stale
  (`KeyValue.stale`): the registry rewrites it on the next update even when nothing
  changed, so `kubectl get secrets -A -o json | kubectl replace -f -` reseals every
  Secret with the new first key (upstream's rotation).
- A value no key opens: a read of the key (get, or the current value a conflict
  carries) fails with upstream's 500, `unable to transform key "...": <reason>`;
  a range or a watch logs it and hands the stored bytes on, which the watch cache
  skips as undecodable, so one bad value does not take the whole resource down.

Without `--encryption-provider-config` the server uses the backend directly: no
request pays for this module.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

from kubelite.apiserver.encryption.config import EncryptionConfig
from kubelite.apiserver.encryption.transformers import PrefixTransformers, TransformError
from kubelite.machinery import errors
from kubelite.storage.backend import (
    Backend,
    Event,
    KeyValue,
    RangeResult,
    RevisionMismatch,
)

log = logging.getLogger(__name__)

_CORE = "core"  # how the registry spells the core group in keys


class EncryptingBackend:
    def __init__(self, inner: Backend, config: EncryptionConfig) -> None:
        self.inner = inner
        self.config = config
        self._by_resource: dict[tuple[str, str], PrefixTransformers | None] = {}

    def transformers_for(self, key: str) -> PrefixTransformers | None:
        parts = key.split("/", 4)  # "", "registry", group, resource, rest
        if len(parts) < 4:
            return None
        group_resource = (parts[2], parts[3])
        try:
            return self._by_resource[group_resource]
        except KeyError:
            group = "" if parts[2] == _CORE else parts[2]
            found = self.config.for_resource(group, parts[3])
            self._by_resource[group_resource] = found
            return found

    # -- the two directions --------------------------------------------------------

    def _seal(self, key: str, value: bytes) -> bytes:
        transformers = self.transformers_for(key)
        if transformers is None:
            return value
        return transformers.seal(value, key.encode())

    def _open(self, kv: KeyValue) -> KeyValue:
        """Plaintext of a stored value; errors.InternalError when it does not open."""
        transformers = self.transformers_for(kv.key)
        if transformers is None:
            return kv
        try:
            value, stale = transformers.open(kv.value, kv.key.encode())
        except TransformError as err:
            raise errors.InternalError(
                f'Internal error occurred: unable to transform key "{kv.key}": {err}'
            ) from None
        return dataclasses.replace(kv, value=value, stale=stale)

    def _open_or_keep(self, kv: KeyValue) -> KeyValue:
        """For ranges and watches: a value that does not open is logged and left as
        stored (the watch cache skips it as undecodable)."""
        try:
            return self._open(kv)
        except errors.InternalError as err:
            log.error("%s", err.message)
            return kv

    def _open_event(self, event: Event) -> Event:
        if self.transformers_for(event.kv.key) is None:
            return event
        prev = None if event.prev is None else self._open_or_keep(event.prev)
        return Event(event.type, self._open_or_keep(event.kv), prev)

    # -- Backend -------------------------------------------------------------------

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def current_revision(self) -> int:
        return await self.inner.current_revision()

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        kv = await self.inner.get(key, revision=revision)
        return None if kv is None else self._open(kv)

    async def range(self, prefix: str, *, start: str = "", limit: int = 0,
                    revision: int = 0) -> RangeResult:
        result = await self.inner.range(prefix, start=start, limit=limit, revision=revision)
        kvs = [self._open_or_keep(kv) for kv in result.kvs]
        return RangeResult(kvs, result.revision, result.more, result.count)

    async def create(self, key: str, value: bytes) -> int:
        return await self.inner.create(key, self._seal(key, value))

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> int:
        try:
            return await self.inner.update(key, self._seal(key, value),
                                           expected_revision=expected_revision)
        except RevisionMismatch as err:
            current = None if err.current is None else self._open_or_keep(err.current)
            raise RevisionMismatch(key, current) from None

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        try:
            deleted = await self.inner.delete(key, expected_revision=expected_revision)
        except RevisionMismatch as err:
            current = None if err.current is None else self._open_or_keep(err.current)
            raise RevisionMismatch(key, current) from None
        return self._open_or_keep(deleted)

    async def watch(self, prefix: str, *, revision: int) -> AsyncIterator[list[Event]]:
        inner = self.inner.watch(prefix, revision=revision)
        try:
            async for events in inner:
                yield [self._open_event(event) for event in events]
        finally:
            close = getattr(inner, "aclose", None)  # ends the store's watch now, not at GC
            if close is not None:
                await close()

    async def compact(self, revision: int) -> None:
        await self.inner.compact(revision)

    async def compact_revision(self) -> int:
        return await self.inner.compact_revision()
