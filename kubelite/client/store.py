"""The informer's cache: a keyed, indexed store of objects, and a read-only Lister.

Like client-go's tools/cache thread_safe_store.go + index.go: objects are kept by key
(`namespace/name`, or `name` for cluster-scoped objects), and every named index maps
an index value to the set of keys whose object produced it. The `namespace` index is
always there; controllers add their own (pods by node name, owners by uid, ...).

Objects in the store are the dicts the watch delivered, shared, never copied:
callers must not modify what a Lister returns (copy.deepcopy before editing), as
client-go's listers require. Single event loop; no locks needed.
"""

from __future__ import annotations

import builtins  # `list` is also a method name in this module's classes

from collections.abc import Callable, Iterable
from typing import Any

from kubelite.machinery import labels

Obj = dict[str, Any]
IndexFunc = Callable[[Obj], Iterable[str]]

NAMESPACE_INDEX = "namespace"


def object_key(obj: Obj) -> str:
    """`namespace/name`, or `name` for a cluster-scoped object (client-go's
    MetaNamespaceKeyFunc)."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta['name']}" if ns else str(meta["name"])


def split_key(key: str) -> tuple[str, str]:
    """(namespace, name); namespace "" for a cluster-scoped key."""
    ns, sep, name = key.partition("/")
    return (ns, name) if sep else ("", ns)


def namespace_index(obj: Obj) -> list[str]:
    ns = (obj.get("metadata") or {}).get("namespace")
    return [ns] if ns else []


class Indexer:
    def __init__(self, indexers: dict[str, IndexFunc] | None = None) -> None:
        self._items: dict[str, Obj] = {}
        self._indexers: dict[str, IndexFunc] = {NAMESPACE_INDEX: namespace_index}
        self._indices: dict[str, dict[str, set[str]]] = {NAMESPACE_INDEX: {}}
        if indexers:
            self.add_indexers(indexers)

    def add_indexers(self, indexers: dict[str, IndexFunc]) -> None:
        """New indexes are built over the objects already stored."""
        for name, func in indexers.items():
            if name in self._indexers:
                raise ValueError(f"indexer {name!r} already exists")
            self._indexers[name] = func
            index: dict[str, set[str]] = {}
            for key, obj in self._items.items():
                for value in func(obj):
                    index.setdefault(value, set()).add(key)
            self._indices[name] = index

    def _reindex(self, key: str, old: Obj | None, new: Obj | None) -> None:
        for name, func in self._indexers.items():
            index = self._indices[name]
            before = set(func(old)) if old is not None else set()
            after = set(func(new)) if new is not None else set()
            for value in before - after:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]  # no empty sets left behind for churned values
            for value in after - before:
                index.setdefault(value, set()).add(key)

    def update(self, obj: Obj) -> Obj | None:
        """Add or replace; returns the object it replaced, if any."""
        key = object_key(obj)
        old = self._items.get(key)
        self._items[key] = obj
        self._reindex(key, old, obj)
        return old

    add = update

    def delete(self, obj: Obj) -> Obj | None:
        key = object_key(obj)
        old = self._items.pop(key, None)
        if old is not None:
            self._reindex(key, old, None)
        return old

    def replace(self, objs: Iterable[Obj]) -> tuple[list[Obj], list[tuple[Obj, Obj]], list[Obj]]:
        """Make the store hold exactly `objs`; returns (added, updated as (old, new),
        deleted), the changes a relist implies."""
        fresh = {object_key(o): o for o in objs}
        added: list[Obj] = []
        updated: list[tuple[Obj, Obj]] = []
        deleted = [self._items[k] for k in self._items.keys() - fresh.keys()]
        for obj in deleted:
            self.delete(obj)
        for key, obj in fresh.items():
            old = self.update(obj)
            if old is None:
                added.append(obj)
            else:
                updated.append((old, obj))
        return added, updated, deleted

    def get_by_key(self, key: str) -> Obj | None:
        return self._items.get(key)

    def keys(self) -> list[str]:
        return list(self._items)

    def list(self) -> list[Obj]:
        return list(self._items.values())

    def index_keys(self, index_name: str, value: str) -> set[str]:
        try:
            return set(self._indices[index_name].get(value, ()))
        except KeyError:
            raise KeyError(f"no indexer named {index_name!r}") from None

    def by_index(self, index_name: str, value: str) -> builtins.list[Obj]:
        return [self._items[k] for k in self.index_keys(index_name, value)]

    def __len__(self) -> int:
        return len(self._items)


class Lister:
    """Reads of an informer's cache, shaped like client-go's generated listers."""

    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer

    def get(self, namespace: str, name: str) -> Obj | None:
        """The object, or None if the cache does not have it (deleted or never seen)."""
        return self.indexer.get_by_key(f"{namespace}/{name}" if namespace else name)

    def list(self, namespace: str | None = None,
             selector: labels.Selector | str | None = None) -> list[Obj]:
        """Objects in `namespace` (None: all) whose labels match `selector`."""
        if isinstance(selector, str):
            selector = labels.parse(selector)
        if selector is not None and selector.is_empty():
            selector = None
        objs = (self.indexer.by_index(NAMESPACE_INDEX, namespace) if namespace
                else self.indexer.list())
        if selector is None:
            return objs
        return [o for o in objs
                if selector.matches((o.get("metadata") or {}).get("labels") or {})]
