"""The generic store: create, read, update and delete for every resource.

One `Store` per resource does what upstream's generic registry
(staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go) does: names and
generateName, uid and creationTimestamp, optimistic concurrency on resourceVersion,
generation bumps, finalizers and deletionTimestamp, dry runs. What differs per kind is
asked of its strategy (registry/strategy.py); what crosses objects (namespaces, pod
priorities, Service addresses) is asked of the admission chain (apiserver/admission),
whose mutating phase runs before the strategy and whose validating phase runs on the
finished object just before it is written. Reads come from the watch cache after it
has caught up with the newest revision this server knows of, so a client reads its
own writes.

Stored values are the object's JSON without `metadata.resourceVersion`: the store's
revision is the resourceVersion, stamped on read (watchcache.decode_object).
"""

from __future__ import annotations

import base64
import copy
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from kubelite.api import timefields
from kubelite.api.catalogue import ResourceSpec
from kubelite.apiserver.admission import Attributes, Chain, Operation
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.patch import managed_fields
from kubelite.apiserver.registry.objectmeta import validate_object_meta
from kubelite.apiserver.registry.strategy import Strategy, selectable_field_names
from kubelite.apiserver.watchcache import Cache, Entry, decode_object
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_rfc3339
from kubelite.machinery.validation import field_invalid
from kubelite.storage.backend import (
    Backend,
    KeyExists,
    KeyValue,
    KeyNotFound,
    RevisionMismatch,
)

Obj = dict[str, Any]
Mutator = Callable[[Obj], Awaitable[Obj]]

_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # upstream's: no vowels, no lookalikes
GENERATE_NAME_TRIES = 8


_SUFFIX_LENGTH = 5
_SUFFIXES = len(_SUFFIX_ALPHABET) ** _SUFFIX_LENGTH  # 27**5 < 2**24


class _RandomBytes:
    """The system's random bytes, read 4 KiB at a time: a create needs 16 for its
    uid and a few for a generated name, and each read of the random source is a
    system call costing tens of microseconds. Refilled afresh in a forked child, so
    two processes never hand out the same bytes."""

    def __init__(self) -> None:
        self._pool = b""
        self._pid = 0

    def take(self, n: int) -> bytes:
        if len(self._pool) < n or self._pid != os.getpid():
            self._pool, self._pid = os.urandom(4096), os.getpid()
        out, self._pool = self._pool[:n], self._pool[n:]
        return out


_random = _RandomBytes()


def new_uid() -> str:
    """A random (version 4, RFC 4122 variant) UUID, as str(uuid.uuid4()) spells it."""
    b = bytearray(_random.take(16))
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # variant 10xx
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def generate_name(prefix: str) -> str:
    # One draw of the whole suffix, uniform as five draws of a letter would be
    # (24 random bits, drawn again when at or above 27**5).
    while (n := int.from_bytes(_random.take(3), "big")) >= _SUFFIXES:
        pass
    suffix = []
    for _ in range(_SUFFIX_LENGTH):
        n, digit = divmod(n, len(_SUFFIX_ALPHABET))
        suffix.append(_SUFFIX_ALPHABET[digit])
    return prefix + "".join(suffix)


def copy_object(value: Any) -> Any:
    """A deep copy of a JSON-shaped value (dicts, lists, scalars), several times
    quicker than copy.deepcopy, which pays for cycles and types an object from the
    wire does not have; anything else is left to copy.deepcopy."""
    kind = type(value)
    if kind is dict:
        return {k: copy_object(v) for k, v in value.items()}
    if kind is list:
        return [copy_object(v) for v in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def encode_for_storage(obj: Obj) -> bytes:
    meta = obj.get("metadata", {})
    if "resourceVersion" in meta:
        meta = {k: v for k, v in meta.items() if k != "resourceVersion"}
        obj = {**obj, "metadata": meta}
    return orjson.dumps(obj)


@dataclass(slots=True)
class WriteOptions:
    dry_run: bool = False
    field_manager: str = ""
    subresource: str = ""
    apply: bool = False  # server-side apply: the patch code records managedFields itself
    user: UserInfo | None = None  # who writes (admission reads it); None: the server itself


class StoreTable(Protocol):
    """What a store asks of the table of stores it belongs to (the Registry)."""

    # Whether a garbage collector runs: orphan and foreground deletion add their
    # finalizers only then, or nothing would ever remove them.
    has_gc: bool

    def store_for(self, group: str, plural: str) -> Store:
        """Another served resource's store (pods/eviction reads PodDisruptionBudgets)."""


class Store:
    def __init__(
        self,
        spec: ResourceSpec,
        *,
        backend: Backend,
        cache: Cache,
        strategy: Strategy,
        subresource_strategies: dict[str, Strategy],
        admission: Chain,
        registry: StoreTable,
    ) -> None:
        self.spec = spec
        self.backend = backend
        self.cache = cache
        self.strategy = strategy
        self.subresource_strategies = subresource_strategies
        self.admission = admission
        self.registry = registry
        self.prefix = spec.key_prefix()
        self.field_names = selectable_field_names(strategy)
        # Values the backend transforms (encryption at rest) are read from it before a
        # write: only that read says whether the stored form is stale and must be
        # rewritten (encryption/backend.py).
        seals = getattr(backend, "transformers_for", None)
        self._writes_start_from_cache = seals is None or seals(self.prefix) is None

    # -- keys ------------------------------------------------------------------

    def key(self, namespace: str, name: str) -> str:
        return f"{self.prefix}{namespace}/{name}" if self.spec.namespaced else self.prefix + name

    def key_prefix(self, namespace: str) -> str:
        return f"{self.prefix}{namespace}/" if self.spec.namespaced and namespace else self.prefix

    def _normalize_times(self, obj: Obj) -> None:
        if self.spec.crd_schemas is None:  # custom resources keep their strings, as upstream
            timefields.normalize(self.spec.gvk(), obj)

    def not_found(self, name: str) -> errors.NotFound:
        return errors.not_found(self.spec.group, self.spec.plural, name)

    # -- reads -----------------------------------------------------------------

    async def sync_cache(self) -> None:
        """Make the cache at least as new as the store (consistent read)."""
        if await self.cache_caught_up() is not None:
            raise errors.Timeout("Timeout: Too large resource version: watch cache is behind")

    async def cached_entry(self, namespace: str, name: str) -> Entry | None:
        """The object as the watch cache holds it, as upstream's admission and
        authenticators read informers; when the cache lacks it, after the cache has
        caught up with the store (an object created a moment ago)."""
        key = self.key(namespace, name)
        entry = self.cache.get(key)
        if entry is None:
            await self.sync_cache()
            entry = self.cache.get(key)
        return entry

    async def cache_caught_up(self) -> int | None:
        """Wait for the cache to reach the store's current revision: None once it has,
        else (after the cache's wait) that revision, for the caller to read the store
        at instead."""
        rev = await self.backend.current_revision()
        return None if await self.cache.wait_for(rev) else rev

    async def get(self, namespace: str, name: str, *, resource_version: str = "") -> Entry:
        """resourceVersion "0": whatever the cache holds. Otherwise the latest object:
        from the cache once it has caught up with the store, else from the store
        itself, as upstream serves such a GET from etcd (a busy server's cache may lag
        by seconds; the client must not get a timeout for it)."""
        key = self.key(namespace, name)
        if resource_version != "0" and await self.cache_caught_up() is not None:
            kv = await self.backend.get(key)
            if kv is None:
                raise self.not_found(name)
            return self.cache.entry_from(kv)
        entry = self.cache.get(key)
        if entry is None:
            raise self.not_found(name)
        return entry

    async def _latest(self, key: str) -> KeyValue | None:
        """The key's newest value, for a write to start from. The watch cache holds it
        when it has seen every revision the store has (no read at all), else it is read
        from the store. Either way the write is a compare-and-swap on that revision, so
        one that raced another writer is retried from a fresh read."""
        if (self._writes_start_from_cache
                and self.cache.revision >= await self.backend.current_revision()):
            entry = self.cache.get(key)
            return None if entry is None else KeyValue(key, entry.raw, 0, entry.revision)
        return await self.backend.get(key)

    def _cached_guess(self, key: str) -> KeyValue | None:
        """The watch cache's copy of the key however far the cache lags, for a write
        that checks it (see guaranteed_update); None where writes must read the store."""
        if not self._writes_start_from_cache:
            return None
        entry = self.cache.get(key)
        return None if entry is None else KeyValue(key, entry.raw, 0, entry.revision)

    async def _read_for_write(self, key: str, name: str) -> tuple[Obj, int]:
        """The current object and its revision (see _latest)."""
        kv = await self._latest(key)
        if kv is None:
            raise self.not_found(name)
        return decode_object(kv), kv.mod_revision

    # -- create ----------------------------------------------------------------

    async def create(self, namespace: str, obj: Obj, opts: WriteOptions) -> Obj:
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.BadRequest("metadata must be an object")
        prefix = str(meta.get("generateName") or "")
        if not meta.get("name") and not prefix:
            raise errors.invalid(self.spec.group, self.spec.kind, "", [
                errors.Cause("FieldValueRequired",
                             "Required value: name or generateName is required",
                             "metadata.name")])
        self._check_namespace_field(namespace, meta)
        # The writer owns what it sent, defaulted, and nothing that admission or
        # PrepareForCreate add (upstream's field manager runs before both).
        requested = copy_object(obj)
        # Mutating admission runs once, before a name is generated, as in upstream's
        # create handler (so its refusals name `generateName`, like `pods "web-"`).
        await self.admission.admit(Attributes(self.spec, Operation.CREATE, namespace,
                                              meta.get("name") or "", obj, dry_run=opts.dry_run,
                                              user=opts.user))
        if meta.get("name"):
            return await self._create(namespace, obj, requested, opts)
        # A generated name can collide; upstream (RetryGenerateName) tries 8 names.
        for attempt in range(GENERATE_NAME_TRIES):
            last = attempt == GENERATE_NAME_TRIES - 1
            candidate, sent = (obj, requested) if last else (copy_object(obj), copy_object(requested))
            candidate["metadata"]["name"] = sent["metadata"]["name"] = generate_name(prefix)
            try:
                return await self._create(namespace, candidate, sent, opts)
            except errors.AlreadyExists:
                if last:
                    raise
        raise AssertionError("unreachable")

    async def _create(self, namespace: str, obj: Obj, requested: Obj, opts: WriteOptions) -> Obj:
        """The rest of a create once mutating admission ran and the name is known."""
        meta = obj["metadata"]
        name = meta["name"]
        attrs = Attributes(self.spec, Operation.CREATE, namespace, name, obj,
                           dry_run=opts.dry_run, user=opts.user)
        self._validate_name(name)
        strategy = self.strategy
        for created in (obj, requested):
            self._reset_system_metadata(created["metadata"])
            self._normalize_times(created)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now_rfc3339()
        strategy.default(requested)
        strategy.prepare_for_create(obj)
        strategy.prepare_for_create_by(obj, opts.user)
        strategy.default(obj)
        causes = strategy.validate(obj) + validate_object_meta(obj["metadata"])
        if causes:
            raise errors.invalid(self.spec.group, self.spec.kind, name, causes)
        key = self.key(namespace, name)
        if self.cache.get(key) is not None:
            # Known to exist: say so before claiming anything for it.
            raise errors.already_exists(self.spec.group, self.spec.plural, name)
        finish = await self.admission.validate(attrs)
        self._record_managed_fields(None, requested, opts)
        if "managedFields" in requested["metadata"]:
            meta["managedFields"] = requested["metadata"]["managedFields"]
        if opts.dry_run:
            await finish(False)
            return obj
        try:
            rev = await self.backend.create(key, encode_for_storage(obj))
        except BaseException as exc:
            await finish(False)
            if isinstance(exc, KeyExists):
                raise errors.already_exists(self.spec.group, self.spec.plural,
                                            name) from None
            raise
        await finish(True)
        meta["resourceVersion"] = str(rev)
        return obj

    def _validate_name(self, name: str) -> None:
        problems = self.strategy.validate_name(name)
        if problems:
            raise errors.invalid(self.spec.group, self.spec.kind, name, [
                field_invalid("metadata.name", name, p) for p in problems])

    def _record_managed_fields(self, old: Obj | None, new: Obj, opts: WriteOptions) -> None:
        # Server-side apply records its own entries (patch/apply.py).
        if opts.field_manager and not opts.apply:
            managed_fields.record_update(self.spec, old, new, manager=opts.field_manager,
                                         subresource=opts.subresource, now=now_rfc3339())

    def _check_namespace_field(self, namespace: str, meta: Obj) -> None:
        if not self.spec.namespaced:
            meta.pop("namespace", None)
            return
        given = meta.get("namespace")
        if given and given != namespace:
            raise errors.BadRequest(
                "the namespace of the provided object does not match the namespace sent on "
                "the request")
        meta["namespace"] = namespace

    @staticmethod
    def _reset_system_metadata(meta: Obj) -> None:
        for field in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "resourceVersion", "generation",
                      "selfLink"):
            meta.pop(field, None)

    # -- update ----------------------------------------------------------------

    async def update(self, namespace: str, name: str, obj: Obj, opts: WriteOptions,
                     *, allow_create: bool = False) -> tuple[Obj, bool]:
        """PUT: replace the object. Returns (object, created)."""
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            raise errors.BadRequest("metadata must be an object")
        if meta.get("name") and meta["name"] != name:
            raise errors.BadRequest(
                f"the name of the object ({meta['name']}) does not match the name on the "
                f"URL ({name})")
        meta["name"] = name
        self._check_namespace_field(namespace, meta)
        wanted_rv = meta.get("resourceVersion") or ""
        key = self.key(namespace, name)
        kv = await self._latest(key)
        if kv is None:
            if allow_create and not opts.subresource:
                return await self.create(namespace, obj, opts), True
            raise self.not_found(name)
        old = decode_object(kv)
        given_uid = meta.get("uid")
        if given_uid and given_uid != old["metadata"].get("uid"):
            # upstream takes a PUT body's uid as a precondition (DefaultUpdatedObjectInfo)
            raise errors.conflict(
                self.spec.group, self.spec.plural, name,
                f"Precondition failed: UID in precondition: {given_uid}, UID in object meta: "
                f"{old['metadata'].get('uid', '')}")
        if not wanted_rv and not self._strategy_for(opts).allow_unconditional_update:
            raise errors.Invalid(
                f'{self._qualified_resource()} "{name}" is invalid: metadata.resourceVersion: '
                f"Invalid value: 0x0: must be specified for an update",
                group=self.spec.group, kind=self.spec.plural, name=name,
                causes=(errors.Cause("FieldValueInvalid",
                                     "Invalid value: 0x0: must be specified for an update",
                                     "metadata.resourceVersion"),))
        if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
            raise self.conflict(name)
        new = await self._prepare_update(old, obj, opts)
        return await self._write_update(key, name, old, kv.mod_revision, new, opts,
                                        rewrite=kv.stale), False

    async def guaranteed_update(self, namespace: str, name: str, mutate: Mutator,
                                opts: WriteOptions, *, create: Mutator | None = None,
                                ) -> tuple[Obj, bool]:
        """Read-modify-write with retries on conflict (PATCH, server-side apply, and the
        server's own writes). `mutate` gets a private copy of the current object.
        If the object is missing and `create` is given, its result is created.
        Returns (object, created).

        A write lost to a concurrent one is retried for as long as that happens, as
        etcd3's GuaranteedUpdate does: every lost round means another writer won, so
        the retries end; a bound would turn 20 concurrent PATCHes into 409s the
        clients never asked for (they carry no resourceVersion).

        The first round starts from the watch cache's copy even while the cache lags
        the store (upstream's cachedExistingObject): a busy server's cache is usually
        a few writes behind, and reading the store for every binding and status patch
        cost more than the rare retry. Such a guess is never trusted for an answer: if
        the change fails, the write loses its compare-and-swap, or the change would
        leave the object as it was, the round is done again from the store."""
        key = self.key(namespace, name)
        guess = None if opts.dry_run else self._cached_guess(key)  # a dry run writes nothing to check
        while True:
            kv, current = (guess, False) if guess is not None else (await self._latest(key), True)
            guess = None
            if kv is None:
                if create is None:
                    raise self.not_found(name)
                obj = await create({})
                try:
                    return await self.create(namespace, obj, opts), True
                except errors.AlreadyExists:
                    continue
            old = decode_object(kv)
            try:
                candidate = await mutate(decode_object(kv))  # a private copy to edit
                cmeta = candidate.setdefault("metadata", {})
                precondition = cmeta.get("resourceVersion")
                if precondition and precondition != old["metadata"]["resourceVersion"]:
                    raise self.conflict(name)
                new = await self._prepare_update(old, candidate, opts)
            except Exception:
                if current:
                    raise
                continue  # judged on a guess (a stale or deleted object): judge the latest
            if not current:
                new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
                if new == old:
                    continue  # a no-op on a guess may be a change of the latest
            try:
                return await self._write_update(key, name, old, kv.mod_revision, new,
                                                opts, rewrite=kv.stale), False
            except errors.Conflict:
                # Someone wrote in between: read again and re-apply. A resourceVersion
                # the change itself carries is checked against the new read above.
                continue
            except errors.NotFound:
                if current:
                    raise
                continue  # the guess was of an object deleted since

    async def update_status(self, namespace: str, name: str, obj: Obj) -> Obj:
        """The server's own write of an object's status (admission charging a quota):
        an update of the status subresource guarded by obj's resourceVersion."""
        written, _ = await self.update(namespace, name, copy_object(obj),
                                       WriteOptions(subresource="status"))
        return written

    def conflict(self, name: str) -> errors.Conflict:
        return errors.conflict(
            self.spec.group, self.spec.plural, name,
            "the object has been modified; please apply your changes to the latest version "
            "and try again")

    def _strategy_for(self, opts: WriteOptions) -> Strategy:
        return self.subresource_strategies.get(opts.subresource, self.strategy)

    def _qualified_resource(self) -> str:
        # How upstream names a resource in some messages: "pods", "widgets.example.com".
        return f"{self.spec.plural}.{self.spec.group}" if self.spec.group else self.spec.plural

    async def _prepare_update(self, old: Obj, new: Obj, opts: WriteOptions) -> Obj:
        strategy = self._strategy_for(opts)
        new.setdefault("apiVersion", old.get("apiVersion"))
        new.setdefault("kind", old.get("kind"))
        meta = new.setdefault("metadata", {})
        old_meta = old["metadata"]
        await self.admission.admit(self._update_attributes(old, new, opts))
        if meta.get("uid") and meta["uid"] != old_meta.get("uid"):
            # a patch that changes the uid (an adoption racing a re-creation) is refused,
            # as upstream's ValidateObjectMetaUpdate refuses it
            raise errors.invalid(self.spec.group, self.spec.kind, old_meta["name"], [
                field_invalid("metadata.uid", meta["uid"], "field is immutable")])
        # System fields are the server's: a client cannot change them with an update.
        for field in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation", "namespace", "name"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        if old_meta.get("deletionTimestamp") and _added_finalizers(old_meta, meta):
            raise errors.invalid(self.spec.group, self.spec.kind, old_meta["name"], [
                errors.Cause("FieldValueForbidden",
                             "Forbidden: no new finalizers can be added if the object is "
                             "being deleted", "metadata.finalizers")])
        strategy.prepare_for_update(new, old)
        self._normalize_times(new)
        strategy.default(new)
        causes = (strategy.validate(new) + strategy.validate_update(new, old)
                  + validate_object_meta(new["metadata"]))
        if causes:
            raise errors.invalid(self.spec.group, self.spec.kind, old_meta["name"], causes)
        if "generation" in old_meta and strategy.bumps_generation(new, old):
            new["metadata"]["generation"] = old_meta["generation"] + 1
        self._record_managed_fields(old, new, opts)
        return new

    def _update_attributes(self, old: Obj, new: Obj, opts: WriteOptions) -> Attributes:
        meta = old["metadata"]
        return Attributes(self.spec, Operation.UPDATE, meta.get("namespace", ""),
                          meta["name"], new, old, subresource=opts.subresource,
                          dry_run=opts.dry_run, user=opts.user)

    async def _write_update(self, key: str, name: str, old: Obj, old_revision: int,
                            new: Obj, opts: WriteOptions, *, rewrite: bool = False) -> Obj:
        """Write `new` over `old` (at `old_revision`) once the validating admission
        plugins have passed it; what they claimed is settled after the write.
        `rewrite`: write even an unchanged object (its stored form is stale)."""
        finish = await self.admission.validate(self._update_attributes(old, new, opts))
        try:
            written = await self._write(key, name, old, old_revision, new, opts, rewrite)
        except BaseException:
            await finish(False)
            raise
        await finish(not opts.dry_run)
        return written

    async def _write(self, key: str, name: str, old: Obj, old_revision: int,
                     new: Obj, opts: WriteOptions, rewrite: bool = False) -> Obj:
        new_meta = new["metadata"]
        new_meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        if new == old and not rewrite:
            return new  # nothing changed: no write, the resourceVersion stays (upstream)
        if opts.dry_run:
            return new
        if new_meta.get("deletionTimestamp") and not new_meta.get("finalizers") \
                and not self.strategy.deletion_finalizers(new):
            # The last finalizer is gone from an object being deleted: delete it now.
            if await self._delete_now(key, name, old_revision):
                new_meta["resourceVersion"] = str(await self.backend.current_revision())
                return new
        try:
            rev = await self.backend.update(key, encode_for_storage(new),
                                            expected_revision=old_revision)
        except RevisionMismatch:
            raise self.conflict(name) from None
        except KeyNotFound:
            raise self.not_found(name) from None
        new_meta["resourceVersion"] = str(rev)
        return new

    async def _delete_now(self, key: str, name: str, revision: int) -> bool:
        try:
            await self.backend.delete(key, expected_revision=revision)
            return True
        except RevisionMismatch:
            raise self.conflict(name) from None
        except KeyNotFound:
            raise self.not_found(name) from None

    # -- delete ----------------------------------------------------------------

    async def delete(self, namespace: str, name: str, options: Obj, opts: WriteOptions,
                     ) -> tuple[Obj, bool]:
        """Returns (object, deleted_now). With finalizers or a grace period the object
        only gets its deletionTimestamp, and deleted_now is False."""
        key = self.key(namespace, name)
        while True:  # lost to a concurrent write: read again (see guaranteed_update)
            obj, revision = await self._read_for_write(key, name)
            meta = obj["metadata"]
            self._check_preconditions(name, meta, options.get("preconditions") or {})
            # As upstream's DELETE handler: the mutating plugins may refuse a delete
            # (NamespaceLifecycle keeps default, kube-system and kube-public).
            await self.admission.admit(Attributes(
                self.spec, Operation.DELETE, namespace, name, obj, obj,
                subresource=opts.subresource, dry_run=opts.dry_run, user=opts.user))
            finalizers = list(meta.get("finalizers") or [])
            policy = options.get("propagationPolicy")
            if options.get("orphanDependents") is True:
                policy = "Orphan"
            if policy == "Orphan" and "orphan" not in finalizers and self.registry.has_gc:
                finalizers.append("orphan")
            if policy == "Foreground" and "foregroundDeletion" not in finalizers \
                    and self.registry.has_gc:
                finalizers.append("foregroundDeletion")
            grace = self.strategy.grace_period(obj, options)
            holding = finalizers + self.strategy.deletion_finalizers(obj)
            if meta.get("deletionTimestamp"):
                if not holding and grace == 0 and not opts.dry_run:
                    await self._delete_now(key, name, revision)
                    return obj, True
                return obj, False  # already being deleted: nothing more to do
            if not holding and grace == 0:
                if opts.dry_run:
                    return obj, True
                try:
                    deleted = await self.backend.delete(key, expected_revision=revision)
                except (RevisionMismatch, KeyNotFound):
                    continue
                meta["resourceVersion"] = str(deleted.mod_revision)
                return obj, True
            meta["finalizers"] = finalizers
            if not finalizers:
                meta.pop("finalizers")
            meta["deletionTimestamp"] = now_rfc3339()
            meta["deletionGracePeriodSeconds"] = grace
            self.strategy.mark_deleting(obj)
            if opts.dry_run:
                return obj, False
            try:
                rev = await self.backend.update(key, encode_for_storage(obj),
                                                expected_revision=revision)
            except (RevisionMismatch, KeyNotFound):
                continue
            meta["resourceVersion"] = str(rev)
            return obj, False

    def _check_preconditions(self, name: str, meta: Obj, pre: Obj) -> None:
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise errors.conflict(
                self.spec.group, self.spec.plural, name,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: "
                f"{meta.get('uid')}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
            raise errors.conflict(
                self.spec.group, self.spec.plural, name,
                f"Precondition failed: ResourceVersion in precondition: "
                f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                f"{meta.get('resourceVersion')}")


def _added_finalizers(old_meta: Obj, new_meta: Obj) -> bool:
    return bool(set(new_meta.get("finalizers") or ()) - set(old_meta.get("finalizers") or ()))


def encode_continue(revision: int, start_key: str) -> str:
    token = orjson.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start_key})
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError
        return int(data["rv"]), str(data["start"])
    except Exception:
        raise errors.BadRequest("continue key is not valid: incorrect encoded start "
                                "resourceVersion (version meta.k8s.io/v1)") from None

