"""Informer: keep a local, indexed copy of one resource in sync with the server.

What client-go's Reflector + DeltaFIFO + sharedIndexInformer do, in one task:

1. Initial state. Preferably by watch-list (`sendInitialEvents=true`,
   `allowWatchBookmarks=true`, `resourceVersionMatch=NotOlderThan`): the server streams
   the current objects as ADDED events and ends them with a BOOKMARK annotated
   `k8s.io/initial-events-end`; the informer gathers them apart and swaps them in
   whole, then keeps reading the same stream. A server that refuses the parameters
   (any Status error other than 410/429/5xx) is remembered as not supporting
   watch-list, and the informer lists instead (paged, following `continue`).
2. Changes. A watch from the last resourceVersion seen (events or bookmarks); when
   the server ends it (its timeout, a restart), a new watch resumes from there.
3. Relist. A 410 Gone (the resourceVersion was compacted away) forgets the version
   and starts again at 1; the swap turns the difference into add/update/delete calls.
4. Errors. Unreachable server or other failures: retry with backoff (0.1 s doubling
   to 30 s), keeping the cache as it is: readers see stale data, not no data.

Handlers run in this task, one event at a time, in the order the server sent them:
`on_add(obj)`, `on_update(old, new)`, `on_delete(obj)`, each sync or async. A relist
reports objects that vanished as deletes of their last known state (client-go wraps
those in DeletedFinalStateUnknown; here the object itself is passed), and every
surviving object as an update, even when unchanged, as upstream does. A periodic
resync (`resync_period`) calls on_update(obj, obj) for every cached object. Keep
handlers quick (turn the object into a key, enqueue it): a slow handler delays every
later event.

`transform` (client-go's SetTransform) maps each object as it arrives, before it is
cached or handed to a handler, to a new object: never in place, since one watch
event's object is shared by every watcher of it in the process (watch.parse_event).
`strip_managed_fields` drops metadata.managedFields,
which kube-scheduler and kube-controller-manager never read and which is a third of a
pod's size; their informers strip it, as upstream's do. An object from such a cache
written back by update keeps its managed fields: the server keeps what a write omits.

`has_synced()` turns true once the first full state is in the cache and its handlers
have run; `wait_for_sync()` awaits that.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import sys
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kubelite.client.resource import ResourceLike, resolve
from kubelite.client.rest import Client
from kubelite.client.store import Indexer, IndexFunc, Lister, object_key
from kubelite.client.transport import TransportError
from kubelite.client.watch import is_initial_events_end
from kubelite.machinery import errors

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Transform = Callable[[Obj], Obj]
AddHandler = Callable[[Obj], Awaitable[None] | None]
UpdateHandler = Callable[[Obj, Obj], Awaitable[None] | None]
DeleteHandler = Callable[[Obj], Awaitable[None] | None]

_BACKOFF_START = 0.1
_BACKOFF_MAX = 30.0


@dataclass(slots=True)
class _Handlers:
    on_add: AddHandler | None
    on_update: UpdateHandler | None
    on_delete: DeleteHandler | None


async def _call(func: Callable[..., Any] | None, *args: Obj) -> None:
    if func is None:
        return
    try:
        result = func(*args)
        if inspect.isawaitable(result):
            await result
    except asyncio.CancelledError:
        raise
    except Exception:
        # One faulty handler must not stop the cache, nor the other handlers.
        log.exception("informer event handler %r failed", func)


def _rv(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class _Shared(dict):  # type: ignore[type-arg]
    """A stripped object as the informers of a process share it: a plain dict that a
    weak reference can point at, so the table below forgets it once no cache holds it."""

    __slots__ = ("__weakref__",)


# One stripped copy of each object version for the whole process, found by what names
# a version (apiVersion, kind, uid, resourceVersion), however its bytes reached the
# informer. The shared decode of a watch event (watch.parse_event) only covers
# watchers that read the event within its last 1,024; during a burst the scheduler,
# the control loops and the simulated kubelets fall further apart than that, and each
# decoded and kept a copy of its own (at 6,000 pods, one pod in six was held twice).
# The table holds its objects weakly: it costs an entry per object some cache holds,
# never an object.
_SHARED: weakref.WeakValueDictionary[tuple[str, str, str, str], Obj] = \
    weakref.WeakValueDictionary()


# Values that name one object alone: interning them would only grow the table.
_OWN_VALUES = frozenset({"name", "uid", "resourceVersion", "generateName"})


def _share_strings(obj: Obj) -> None:
    """Replace each string value with the process's one copy of it (sys.intern).

    Decoding makes a new string for every value, and most of a pod's are the same in
    every pod (image, policies, paths, tolerations, condition types, node and
    namespace names, times to the second): 30,000 pods held about 3.5 KiB each of
    strings repeated elsewhere. An interned string is freed with its last holder.
    Replacing a value by an equal string is invisible to the other holders of the
    nested objects, which this edits in place; the top level and metadata are the
    stripped copy's own."""
    meta: Obj = obj["metadata"]
    for key, value in obj.items():
        if value is meta:
            for meta_key, meta_value in meta.items():
                if meta_key not in _OWN_VALUES:
                    if type(meta_value) is str:
                        meta[meta_key] = sys.intern(meta_value)
                    elif meta_value:
                        _intern_in(meta_value)
        elif type(value) is str:
            obj[key] = sys.intern(value)
        elif value:
            _intern_in(value)


def _intern_in(value: Any) -> None:
    if type(value) is dict:
        for key, item in value.items():
            if type(item) is str:
                value[key] = sys.intern(item)
            elif type(item) is dict or type(item) is list:
                _intern_in(item)
    elif type(value) is list:
        for i, item in enumerate(value):
            if type(item) is str:
                value[i] = sys.intern(item)
            elif type(item) is dict or type(item) is list:
                _intern_in(item)


def strip_managed_fields(obj: Obj) -> Obj:
    """client-go's TransformStripManagedFields, as a new top level and metadata: the
    event's object may be shared with other watchers (watch.parse_event). Every
    informer of the process that strips the same version of an object gets the same
    stripped object."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    version = (str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""),
               str(meta.get("uid") or ""), str(meta.get("resourceVersion") or ""))
    # All four or nothing: the items of a list may come without apiVersion and kind
    # (kube-apiserver leaves them out), and an Event of core/v1 and of events.k8s.io/v1
    # share their uid and resourceVersion.
    shareable = all(version)
    if shareable:
        hit = _SHARED.get(version)
        if hit is not None:
            return hit
    stripped = _Shared(obj)
    stripped["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    _share_strings(stripped)
    if shareable:
        _SHARED[version] = stripped
    return stripped


class _WatchEnded(Exception):
    """The stream ended before the initial events did: no watch-list support."""


class Informer:
    def __init__(self, client: Client, resource: ResourceLike, *,
                 namespace: str | None = None, label_selector: str | None = None,
                 field_selector: str | None = None, resync_period: float | None = None,
                 indexers: dict[str, IndexFunc] | None = None,
                 use_watch_list: bool = True, page_size: int = 500,
                 watch_timeout: tuple[float, float] = (300.0, 600.0),
                 transform: Transform | None = None) -> None:
        self.client = client
        self.resource = resolve(resource)
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.use_watch_list = use_watch_list
        self.page_size = page_size
        self.watch_timeout = watch_timeout
        self.transform = transform
        self.indexer = Indexer(indexers)
        self.lister = Lister(self.indexer)
        self.last_sync_resource_version = ""
        self._handlers: list[_Handlers] = []
        self._rv: str | None = None  # None: the next round starts from a full state
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- wiring --------------------------------------------------------------------

    def add_event_handler(self, *, on_add: AddHandler | None = None,
                          on_update: UpdateHandler | None = None,
                          on_delete: DeleteHandler | None = None) -> None:
        """A handler added after the informer synced first gets on_add for every
        cached object, as client-go's AddEventHandler does."""
        if self._synced.is_set() and on_add is not None:
            if inspect.iscoroutinefunction(on_add):
                raise TypeError("add async handlers before the informer syncs")
            for obj in self.indexer.list():
                on_add(obj)
        self._handlers.append(_Handlers(on_add, on_update, on_delete))

    def add_indexers(self, indexers: dict[str, IndexFunc]) -> None:
        self.indexer.add_indexers(indexers)

    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_for_sync(self, timeout: float | None = None) -> bool:
        """True once synced; False if `timeout` passed first."""
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow the
            # caller's cancellation when the wait finishes at the same moment
            async with asyncio.timeout(timeout):
                await self._synced.wait()
        except asyncio.TimeoutError:
            return False
        return True

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(
                self.run(), name=f"informer {self.resource.group_resource}")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    # --- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        """List/watch until cancelled."""
        resync = (asyncio.create_task(self._resync_loop()) if self.resync_period else None)
        backoff = _BACKOFF_START
        try:
            while True:
                try:
                    if self._rv is None and self.use_watch_list:
                        await self._watch(initial=True)
                    else:
                        if self._rv is None:
                            await self._list()
                        await self._watch(initial=False)
                    backoff = _BACKOFF_START
                except errors.Gone:
                    log.info("%s: resourceVersion %s expired; relisting",
                             self.resource.group_resource, self._rv)
                    self._rv = None
                except _WatchEnded:
                    log.info("%s: watch-list not honoured; falling back to list+watch",
                             self.resource.group_resource)
                    self.use_watch_list = False
                except errors.StatusError as err:
                    if self._rv is None and self.use_watch_list and err.code < 500 \
                            and err.code != 429:
                        log.info("%s: watch-list refused (%s); using list+watch",
                                 self.resource.group_resource, err)
                        self.use_watch_list = False
                        continue
                    log.warning("%s: %s; retrying in %.1fs", self.resource.group_resource,
                                err, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, _BACKOFF_MAX)
                except (TransportError, OSError, asyncio.TimeoutError) as err:
                    log.warning("%s: %s; retrying in %.1fs", self.resource.group_resource,
                                err, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, _BACKOFF_MAX)
        finally:
            if resync is not None:
                resync.cancel()

    async def _list(self) -> None:
        items, rv = await self.client.list_all(
            self.resource, page_size=self.page_size, namespace=self.namespace,
            label_selector=self.label_selector, field_selector=self.field_selector)
        if self.transform is not None:
            items = [self.transform(obj) for obj in items]
        await self._replace(items, rv)

    async def _watch(self, *, initial: bool) -> None:
        timeout = int(random.uniform(*self.watch_timeout))
        initial_objs: dict[str, Obj] | None = {} if initial else None
        async with self.client.watch(
                self.resource, namespace=self.namespace, label_selector=self.label_selector,
                field_selector=self.field_selector,
                resource_version=None if initial else self._rv, allow_bookmarks=True,
                send_initial_events=True if initial else None,
                timeout_seconds=timeout) as events:
            async for type_, obj in events:
                if self.transform is not None and type_ != "BOOKMARK":
                    obj = self.transform(obj)
                if initial_objs is not None:
                    # Gather the initial state apart: handlers and readers see it only
                    # whole, as after a list.
                    if type_ == "BOOKMARK":
                        if is_initial_events_end(obj):
                            await self._replace(list(initial_objs.values()), _rv(obj))
                            initial_objs = None
                    elif type_ == "DELETED":
                        initial_objs.pop(object_key(obj), None)
                    else:
                        initial_objs[object_key(obj)] = obj
                    continue
                await self._apply(type_, obj)
        if initial_objs is not None:
            raise _WatchEnded()

    async def _apply(self, type_: str, obj: Obj) -> None:
        rv = _rv(obj)
        if type_ == "BOOKMARK":
            pass
        elif type_ == "DELETED":
            # The event's object is the final state the server saw (newer than ours).
            self.indexer.delete(obj)
            for h in self._handlers:
                await _call(h.on_delete, obj)
        else:
            old = self.indexer.update(obj)
            for h in self._handlers:
                if old is None:
                    await _call(h.on_add, obj)
                else:
                    await _call(h.on_update, old, obj)
        if rv:
            self._rv = rv
            self.last_sync_resource_version = rv

    async def _replace(self, objs: list[Obj], rv: str) -> None:
        added, updated, deleted = self.indexer.replace(objs)
        self._rv = rv
        self.last_sync_resource_version = rv
        for h in self._handlers:
            for obj in deleted:
                await _call(h.on_delete, obj)
            for obj in added:
                await _call(h.on_add, obj)
            for old, new in updated:
                await _call(h.on_update, old, new)
        self._synced.set()

    async def _resync_loop(self) -> None:
        assert self.resync_period
        while True:
            await asyncio.sleep(self.resync_period)
            if not self._synced.is_set():
                continue
            for obj in self.indexer.list():
                for h in self._handlers:
                    await _call(h.on_update, obj, obj)
