"""The CRD lifecycle: upstream's naming, establishing and finalizer controllers
(apiextensions-apiserver pkg/controller/status/naming_controller.go, establish/,
finalizer/crd_finalizer.go) as one `Controller` keyed by CRD name.

Serving follows the watch cache synchronously: each CRD event (re)registers or removes
its resource in the event handler itself (`crds.register`), as upstream's crdHandler
reads the CRD lister on every request, so a CRD is served as soon as the cache has it.
The handler then enqueues the CRD; `sync(name)` makes the writes:

- a live CRD gets the `customresourcecleanup.apiextensions.k8s.io` finalizer, its
  acceptedNames (the requested names that no other CRD of its group has accepted) and
  NamesAccepted condition (False with upstream's PluralConflict, SingularConflict,
  ShortNamesConflict, KindConflict or ListKindConflict reason otherwise), Established
  once its names are accepted, and its storage versions in storedVersions;
- a CRD being deleted is marked Terminating, loses all its objects, then that
  finalizer, then itself. Objects held by their own finalizers make the cleanup wait
  (TemporaryError: retried when one of them goes, or after a second).

`sync` reads the CRD from the cache and writes only what differs, so syncing a settled
CRD writes nothing and its own writes cannot make it loop. Accepting or releasing a
name re-enqueues the other CRDs of the group, which may have been waiting for it. One
worker only: name reservation is a read-then-write over all CRDs of a group.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.apiserver.crds import register
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.watchcache import CacheEvent
from kubelite.client.controller import Controller, TemporaryError
from kubelite.machinery import errors
from kubelite.machinery.conditions import set_condition
from kubelite.machinery.timestamps import now_rfc3339

Obj = dict[str, Any]
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
REMAINING_RETRY_SECONDS = 1.0
RESYNC_SECONDS = 300.0
_OPTS = WriteOptions(field_manager="kube-apiserver")
_STATUS_OPTS = WriteOptions(field_manager="kube-apiserver", subresource="status")


class CRDController:
    """Keeps the registry serving every stored CRD, and runs the CRD lifecycle."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.controller: Controller[str] = Controller("customresourcedefinitions",
                                                      self.sync, workers=1)
        self._crd_store = registry.store_for("apiextensions.k8s.io",
                                             "customresourcedefinitions")
        # resource prefix of a terminating CRD's objects -> the CRD's name: their
        # deletions re-enqueue the CRD, whose cleanup waits for them.
        self._emptying: dict[str, str] = {}
        for entry in list(registry.cache.bucket(self._crd_store.prefix).values()):
            register(registry, entry.obj)
            self.controller.enqueue(entry.name)
        registry.cache.add_listener(self._on_event)
        # For changes the cache never reported as events (it reloads without them).
        self.controller.enqueue_every(RESYNC_SECONDS, self._all)

    def _all(self) -> list[str]:
        return [e.name for e in self.registry.cache.bucket(self._crd_store.prefix).values()]

    async def run(self) -> None:
        await self.controller.run()

    def _on_event(self, ev: CacheEvent) -> None:
        if not ev.key.startswith(self._crd_store.prefix):
            if ev.type == "DELETED" and self._emptying:
                name = self._emptying.get(self.registry.cache.prefix_of(ev.key))
                if name is not None:
                    self.controller.enqueue(name)
            return
        crd = ev.entry.obj
        if ev.type == "DELETED":
            spec = crd.get("spec") or {}
            names = spec.get("names") or {}
            store = self.registry.stores.get((spec.get("group", ""), names.get("plural", "")))
            if store is not None and store.spec.crd_schemas is not None:
                self.registry.remove(store.spec.group, store.spec.plural)
            self._emptying = {p: n for p, n in self._emptying.items() if n != ev.entry.name}
            self._enqueue_group(crd, but=ev.entry.name)  # its names are free now
        else:
            register(self.registry, crd)
            self.controller.enqueue(ev.entry.name)

    def _enqueue_group(self, crd: Obj, *, but: str) -> None:
        for other in self._group(crd, but=but):
            self.controller.enqueue(other["metadata"]["name"])

    def _group(self, crd: Obj, *, but: str) -> list[Obj]:
        """The other CRDs of `crd`'s group. A CRD is named <plural>.<group>, so only
        names with that suffix are decoded, not every CRD in the cache."""
        group = (crd.get("spec") or {}).get("group")
        if not isinstance(group, str):
            return []
        suffix = "." + group
        entries = list(self.registry.cache.bucket(self._crd_store.prefix).values())
        candidates = [e.obj for e in entries if e.name != but and e.name.endswith(suffix)]
        return [obj for obj in candidates if (obj.get("spec") or {}).get("group") == group]

    async def sync(self, name: str) -> None:
        """Bring the CRD named `name` to what it should be (see the module docstring)."""
        entry = self.registry.cache.get(self._crd_store.key("", name))
        if entry is None:
            return  # deleted: the event handler stopped serving it
        crd = entry.obj
        try:
            if entry.deleting:
                if CLEANUP_FINALIZER in (crd["metadata"].get("finalizers") or ()):
                    await self._cleanup(crd)
            else:
                await self._establish(crd)
        except errors.NotFound:
            pass  # deleted meanwhile; its deletion event ends the story

    async def _establish(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        if CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or ()):
            # A separate write: the status subresource never changes metadata.
            await self._crd_store.guaranteed_update("", name, _add_finalizer, _OPTS)
        others = self._group(crd, but=name)
        status = desired_status(crd, others)
        if status == crd.get("status"):
            return

        async def mutate(current: Obj) -> Obj:
            current["status"] = desired_status(current, others)
            return current

        await self._crd_store.guaranteed_update("", name, mutate, _STATUS_OPTS)
        if status.get("acceptedNames") != (crd.get("status") or {}).get("acceptedNames"):
            self._enqueue_group(crd, but=name)  # a name may have been released

    async def _cleanup(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        await self._set_terminating(crd, "InstanceDeletionInProgress",
                                    "CustomResource deletion is in progress")
        spec = crd["spec"]
        store = self.registry.stores.get((spec["group"], spec["names"]["plural"]))
        if store is not None and store.spec.crd_schemas is not None:
            for entry in list(self.registry.cache.bucket(store.prefix).values()):
                try:
                    await store.delete(entry.namespace, entry.name, {}, _OPTS)
                except errors.NotFound:
                    pass
            await store.sync_cache()
            left = len(self.registry.cache.bucket(store.prefix))
            if left:
                self._emptying[store.prefix] = name
                raise TemporaryError(f"{left} {store.spec.plural} remain",
                                     delay=REMAINING_RETRY_SECONDS)
            self._emptying.pop(store.prefix, None)
            self.registry.remove(store.spec.group, store.spec.plural)

        async def drop(current: Obj) -> Obj:
            current["metadata"]["finalizers"] = [
                f for f in current["metadata"].get("finalizers") or ()
                if f != CLEANUP_FINALIZER]
            return current

        await self._crd_store.guaranteed_update("", name, drop, _OPTS)

    async def _set_terminating(self, crd: Obj, reason: str, message: str) -> None:
        conditions = (crd.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Terminating" and c.get("reason") == reason
               for c in conditions):
            return

        async def mutate(current: Obj) -> Obj:
            status = current.setdefault("status", {})
            status["conditions"] = set_condition(
                status.get("conditions") or [],
                _condition("Terminating", "True", reason, message))
            return current

        await self._crd_store.guaranteed_update("", crd["metadata"]["name"], mutate,
                                                _STATUS_OPTS)


def requested_names(crd: Obj) -> Obj:
    """spec.names with the defaults upstream fills in (singular, listKind)."""
    names: Obj = copy.deepcopy(crd["spec"]["names"])
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", names["kind"] + "List")
    return names


def desired_status(crd: Obj, others: list[Obj]) -> Obj:
    """The status a live CRD should have, given the other CRDs: the names it may
    have, NamesAccepted, Established (once names are accepted; never taken back), and
    its storage versions added to storedVersions. Other conditions are kept."""
    status = copy.deepcopy(crd.get("status") or {})
    accepted, names_condition = accept_names(crd, others)
    status["acceptedNames"] = accepted
    conditions = set_condition(status.get("conditions") or [], names_condition)
    established = next((c for c in conditions if c.get("type") == "Established"), None)
    if established is None or established.get("status") != "True":
        if names_condition["status"] == "True":
            established = _condition("Established", "True", "InitialNamesAccepted",
                                     "the initial names have been accepted")
        elif established is None:
            established = _condition("Established", "False", "NotAccepted",
                                     "not all names are accepted")
        conditions = set_condition(conditions, established)
    status["conditions"] = conditions
    status["storedVersions"] = sorted(set(status.get("storedVersions") or []) | {
        v["name"] for v in crd["spec"].get("versions") or () if v.get("storage")})
    return status


def accept_names(crd: Obj, others: list[Obj]) -> tuple[Obj, Obj]:
    """(acceptedNames, NamesAccepted condition): each requested name is accepted if
    it is already this CRD's or no other CRD of the group has accepted it
    (calculateNamesAndConditions upstream; the last conflict found names the reason)."""
    group = crd["spec"]["group"]
    used_resources: set[str] = set()
    used_kinds: set[str] = set()
    for other in others:
        if (other.get("spec") or {}).get("group") != group:
            continue
        taken = (other.get("status") or {}).get("acceptedNames") or {}
        used_resources.update(n for n in (taken.get("plural"), taken.get("singular")) if n)
        used_resources.update(taken.get("shortNames") or ())
        used_kinds.update(n for n in (taken.get("kind"), taken.get("listKind")) if n)
    wanted = requested_names(crd)
    had: Obj = (crd.get("status") or {}).get("acceptedNames") or {}
    accepted = dict(had)
    conflict: tuple[str, str] | None = None

    def fresh(name: str, mine: str | None, used: set[str]) -> bool:
        return name == mine or name not in used

    for field, reason, used in (("plural", "PluralConflict", used_resources),
                                ("singular", "SingularConflict", used_resources)):
        if fresh(wanted[field], had.get(field), used):
            accepted[field] = wanted[field]
        else:
            conflict = (reason, f'"{wanted[field]}" is already in use')
    short = list(wanted.get("shortNames") or ())
    if short != list(had.get("shortNames") or ()):
        mine = set(had.get("shortNames") or ()) | {had.get("plural"), had.get("singular")}
        clashes = [f'"{s}" is already in use' for s in short
                   if s not in mine and s in used_resources]
        if clashes:
            conflict = ("ShortNamesConflict",
                        clashes[0] if len(clashes) == 1 else f"[{', '.join(clashes)}]")
        elif short:
            accepted["shortNames"] = short
        else:
            accepted.pop("shortNames", None)
    for field, reason in (("kind", "KindConflict"), ("listKind", "ListKindConflict")):
        if fresh(wanted[field], had.get(field), used_kinds):
            accepted[field] = wanted[field]
        else:
            conflict = (reason, f'"{wanted[field]}" is already in use')
    if wanted.get("categories"):
        accepted["categories"] = list(wanted["categories"])
    else:
        accepted.pop("categories", None)
    if conflict is None:
        condition = _condition("NamesAccepted", "True", "NoConflicts", "no conflicts found")
    else:
        condition = _condition("NamesAccepted", "False", *conflict)
    return accepted, condition


def _condition(type_: str, status: str, reason: str, message: str) -> Obj:
    return {"type": type_, "status": status, "lastTransitionTime": now_rfc3339(),
            "reason": reason, "message": message}


async def _add_finalizer(crd: Obj) -> Obj:
    finalizers = crd["metadata"].setdefault("finalizers", [])
    if CLEANUP_FINALIZER not in finalizers:
        finalizers.append(CLEANUP_FINALIZER)
    return crd
