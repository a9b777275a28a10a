"""LIST: selectors, resourceVersion semantics and pagination.

Lists are served from the watch cache. A page of a paginated list carries a continue
token naming the revision of the first page and the key to start after; later pages
come from the cache while the resource has not changed since that revision, and from
the store's history at that revision otherwise (so every page belongs to one
consistent snapshot, as upstream guarantees), until compaction makes it 410 Gone.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kubelite.apiserver.registry.store import Store, decode_continue, encode_continue
from kubelite.apiserver.watchcache import Entry
from kubelite.machinery import errors, fields, labels
from kubelite.storage.backend import Compacted, FutureRevision

Obj = dict[str, Any]
Predicate = Callable[[Entry], bool]

GONE_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You "
    "can start a new list without the continue parameter, or use the continue token in "
    "this response to retrieve the remainder of the results. Continuing with the provided "
    "token results in an inconsistent list - objects that were created, modified, or "
    "deleted between the time the first chunk was returned and now may show up in the "
    "list.")


@dataclass(slots=True)
class ListResult:
    entries: list[Entry]
    revision: int
    continue_token: str = ""
    remaining: int | None = None


def make_predicate(store: Store, label_selector: str, field_selector: str) -> Predicate | None:
    """A filter for objects, or None when every object matches."""
    label_sel = labels.parse(label_selector) if label_selector else None
    field_sel = fields.parse(field_selector) if field_selector else None
    if label_sel is not None and label_sel.is_empty():
        label_sel = None
    if field_sel is not None:
        field_sel.check_fields(store.field_names)
        if field_sel.is_empty():
            field_sel = None
    if label_sel is None and field_sel is None:
        return None

    def predicate(entry: Entry) -> bool:
        if label_sel is not None and not label_sel.matches(entry.labels):
            return False
        return field_sel is None or field_sel.matches(entry.fields)

    return predicate


async def list_objects(
    store: Store,
    namespace: str,
    *,
    predicate: Predicate | None,
    limit: int = 0,
    continue_token: str = "",
    resource_version: str = "",
    resource_version_match: str = "",
) -> ListResult:
    cache = store.cache
    prefix = store.key_prefix(namespace)
    if continue_token:
        if resource_version not in ("", "0"):
            raise errors.BadRequest(
                "specifying resource version is not allowed when using continue")
        revision, start = decode_continue(continue_token)
        if not start.startswith(prefix):
            raise errors.BadRequest("continue key is not valid: invalid start key")
        if cache.revision >= revision and cache.unchanged_since(store.prefix, revision):
            return _page_from_cache(store, prefix, predicate, limit, start, revision)
        return await _page_from_store(store, prefix, predicate, limit, start, revision)

    if resource_version_match == "Exact":
        revision = _parse_rv(resource_version)
        if cache.revision >= revision and cache.unchanged_since(store.prefix, revision):
            return _page_from_cache(store, prefix, predicate, limit, prefix, revision)
        return await _page_from_store(store, prefix, predicate, limit, prefix, revision)
    if resource_version == "":
        # A consistent list: from the cache once it has caught up, else from the store
        # at its current revision (upstream's delegator falls back to etcd the same way).
        behind_at = await store.cache_caught_up()
        if behind_at is not None:
            return await _page_from_store(store, prefix, predicate, limit, prefix, behind_at)
    elif resource_version != "0":
        wanted = _parse_rv(resource_version)
        if not await cache.wait_for(wanted):
            raise errors.Timeout(f"Too large resource version: {wanted}, current: "
                                 f"{cache.revision}", retry_after=1)
    return _page_from_cache(store, prefix, predicate, limit, prefix, cache.revision)


def _parse_rv(value: str) -> int:
    try:
        rv = int(value)
        if rv < 0:
            raise ValueError
        return rv
    except ValueError:
        raise errors.BadRequest(f'invalid resource version: "{value}"') from None


def _page_from_cache(store: Store, prefix: str, predicate: Predicate | None, limit: int,
                     start: str, revision: int) -> ListResult:
    cache = store.cache
    bucket = cache.bucket(store.prefix)
    keys = cache.sorted_keys(store.prefix)
    lo = bisect.bisect_left(keys, start)
    hi = bisect.bisect_left(keys, prefix + "\U0010ffff")
    candidates: Iterable[str] = keys[lo:hi] if (lo, hi) != (0, len(keys)) else keys
    out: list[Entry] = []
    if not limit and predicate is None:
        return ListResult([bucket[k] for k in candidates], revision)
    last_key = ""
    scanned = 0
    for key in candidates:
        scanned += 1
        entry = bucket[key]
        if predicate is None or predicate(entry):
            if limit and len(out) == limit:
                remaining = None
                if predicate is None:
                    remaining = (hi - lo) - (scanned - 1)
                return ListResult(out, revision, encode_continue(revision, last_key + "\x00"),
                                  remaining)
            out.append(entry)
            last_key = key
    return ListResult(out, revision)


async def _page_from_store(store: Store, prefix: str, predicate: Predicate | None,
                           limit: int, start: str, revision: int) -> ListResult:
    out: list[Entry] = []
    batch = max(limit, 100) if limit else 0
    while True:
        try:
            result = await store.backend.range(prefix, start=start, limit=batch + 1 if batch
                                               else 0, revision=revision)
        except Compacted:
            raise errors.Gone(GONE_CONTINUE) from None
        except FutureRevision:
            raise errors.Timeout(f"Too large resource version: {revision}") from None
        kvs = result.kvs[:batch] if batch else result.kvs
        for kv in kvs:
            entry = store.cache.entry_from(kv)
            if predicate is None or predicate(entry):
                if limit and len(out) == limit:
                    token = encode_continue(revision, store_key(store, out[-1]) + "\x00")
                    return ListResult(out, revision, token)
                out.append(entry)
        more = bool(batch) and len(result.kvs) > batch
        if not more:
            return ListResult(out, revision)
        start = kvs[-1].key + "\x00"


def store_key(store: Store, entry: Entry) -> str:
    return store.key(entry.namespace, entry.name)
