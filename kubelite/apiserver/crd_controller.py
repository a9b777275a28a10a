"""The CRD lifecycle loops: apiextensions-apiserver's naming and establishing
controllers (pkg/controller/status/naming_controller.go, establish/) and its finalizer
controller (pkg/controller/finalizer/crd_finalizer.go).

Upstream runs them inside the API server process but writes them as client-go
controllers over a loopback client; so does kubelite, in the one shape every loop has
(kubelite/controllers/README.md, "Writing a loop"): an informer of CRDs read through
the server's own in-process Client, handlers that only enqueue names, and `sync(name)`
reading the lister and writing through the API.

    CRD informer (in-process Client) ─┬─► NamingLoop: sync(name)
                                      │     live CRD: status = crd_names.desired_status
                                      │     (acceptedNames, NamesAccepted, Established,
                                      │     storedVersions), written when it differs
                                      └─► FinalizerLoop: sync(name)
                                            deleting CRD with the cleanup finalizer:
                                            Terminating InstanceDeletionInProgress,
                                            deletecollection of its objects, list what
                                            is left (TemporaryError while any), then
                                            remove the finalizer: the CRD goes

Serving a CRD's resource is not a loop: crds.Serving registers it from the watch cache
at once. The cleanup finalizer is added by the CRD strategy on the first delete, as
upstream's REST storage does, so no CRD can go before its objects.

Guarantees: a sync writes only what differs, so a settled CRD costs no write and the
loops' own writes cannot make them spin. Names are reserved by one worker only (a
read-then-write over the CRDs of a group), and the names it has just written count
before the informer shows them, so two CRDs of a group are never both given a name.
Objects held by their own finalizers keep a CRD Terminating; the finalizer loop looks
again on a backoff of 5 ms doubling to 1 s (upstream polls every 5 s).
"""

from __future__ import annotations

import asyncio

from kubelite.apiserver.crd_names import Obj, condition, desired_status
from kubelite.apiserver.registry.strategies.apiextensions import CLEANUP_FINALIZER
from kubelite.client.controller import Controller, TemporaryError
from kubelite.client.informer import Informer
from kubelite.client.ratelimiter import (
    BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter)
from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.machinery.conditions import set_condition

CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", namespaced=False,
                kind="CustomResourceDefinition")
RESYNC_SECONDS = 300.0
FINALIZER_WORKERS = 5  # upstream starts the CRD finalizer with 5 workers
CLEANUP_RETRY_MAX_SECONDS = 1.0


def _meta(obj: Obj) -> Obj:
    meta: Obj = obj.get("metadata") or {}
    return meta


class CRDLifecycle:
    """Both loops over one informer of CRDs; the API server runs this."""

    def __init__(self, client: Client) -> None:
        self.crds = Informer(client, CRDS)
        self.naming = NamingLoop(client, self.crds)
        self.finalizer = FinalizerLoop(client, self.crds)

    async def run(self) -> None:
        self.crds.start()
        try:
            await self.crds.wait_for_sync()
            async with asyncio.TaskGroup() as group:
                group.create_task(self.naming.run())
                group.create_task(self.finalizer.run())
        finally:
            await self.crds.stop()


class NamingLoop:
    name = "crd-naming"

    def __init__(self, client: Client, crds: Informer) -> None:
        self.client = client
        self.crds = crds
        # One worker: accepting a name reads every CRD of the group, then writes.
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=1)
        # CRDs as this loop last wrote them, until the informer shows that write:
        # their accepted names already count against other CRDs of the group.
        self._written: dict[str, Obj] = {}
        crds.add_event_handler(on_add=self._changed,
                               on_update=lambda _old, new: self._changed(new),
                               on_delete=self._deleted)
        self.controller.enqueue_every(RESYNC_SECONDS, lambda: [
            _meta(crd)["name"] for crd in self.crds.lister.list()])

    async def run(self) -> None:
        await self.controller.run()

    def _changed(self, crd: Obj) -> None:
        name = str(_meta(crd).get("name") or "")
        written = self._written.get(name)
        if written is not None and _newer_or_same(crd, written):
            del self._written[name]
        self.controller.enqueue(name)

    def _deleted(self, crd: Obj) -> None:
        name = str(_meta(crd).get("name") or "")
        self._written.pop(name, None)
        for other in self._group(crd, but=name):  # its names are free now
            self.controller.enqueue(_meta(other)["name"])

    def _current(self, crd: Obj) -> Obj:
        written = self._written.get(_meta(crd).get("name", ""))
        return written if written is not None and not _newer_or_same(crd, written) else crd

    def _group(self, crd: Obj, *, but: str) -> list[Obj]:
        """The other CRDs of `crd`'s group. A CRD is named <plural>.<group>, so only
        names with that suffix are looked at, not every CRD."""
        group = (crd.get("spec") or {}).get("group")
        if not isinstance(group, str):
            return []
        suffix = "." + group
        candidates = [self._current(c) for c in self.crds.lister.list()
                      if _meta(c).get("name") != but
                      and str(_meta(c).get("name") or "").endswith(suffix)]
        return [c for c in candidates if (c.get("spec") or {}).get("group") == group]

    async def sync(self, name: str) -> None:
        cached = self.crds.lister.get("", name)
        if cached is None or _meta(cached).get("deletionTimestamp"):
            return  # gone, or being deleted: its names stay until it is gone
        crd = self._current(cached)
        status = desired_status(crd, self._group(crd, but=name))
        if status == crd.get("status"):
            return
        try:
            written = await self.client.update_status(CRDS, {**crd, "status": status})
        except errors.NotFound:
            return
        except errors.Conflict:
            raise TemporaryError(f"CRD {name} changed meanwhile") from None
        self._written[name] = written
        if status.get("acceptedNames") != (crd.get("status") or {}).get("acceptedNames"):
            for other in self._group(crd, but=name):  # a name may have been released
                self.controller.enqueue(_meta(other)["name"])


def _newer_or_same(seen: Obj, written: Obj) -> bool:
    """Whether the informer's `seen` is the loop's write or later (kubelite's
    resourceVersions are its store's revisions: integers that only grow)."""
    try:
        return int(_meta(seen).get("resourceVersion") or 0) >= int(
            _meta(written).get("resourceVersion") or 0)
    except ValueError:
        return True


class FinalizerLoop:
    name = "crd-finalizer"

    def __init__(self, client: Client, crds: Informer) -> None:
        self.client = client
        self.crds = crds
        limiter = MaxOfRateLimiter(
            ItemExponentialFailureRateLimiter(base_delay=0.005,
                                              max_delay=CLEANUP_RETRY_MAX_SECONDS),
            BucketRateLimiter(qps=10.0, burst=100))
        self.controller: Controller[str] = Controller(
            self.name, self.sync, workers=FINALIZER_WORKERS, rate_limiter=limiter)
        crds.add_event_handler(on_add=self._changed,
                               on_update=lambda _old, new: self._changed(new))

    async def run(self) -> None:
        await self.controller.run()

    def _changed(self, crd: Obj) -> None:
        if _meta(crd).get("deletionTimestamp"):
            self.controller.enqueue(str(_meta(crd).get("name") or ""))

    async def sync(self, name: str) -> None:
        crd = self.crds.lister.get("", name)
        if crd is None or not _meta(crd).get("deletionTimestamp") \
                or CLEANUP_FINALIZER not in (_meta(crd).get("finalizers") or ()):
            return
        try:
            crd = await self._set_terminating(crd, "InstanceDeletionInProgress",
                                              "CustomResource deletion is in progress")
            resource = served_resource(crd)
            if resource is not None:
                await self._delete_instances(crd, resource)
            finalizers = [f for f in _meta(crd).get("finalizers") or ()
                          if f != CLEANUP_FINALIZER]
            await self.client.update(CRDS, {**crd, "metadata": {
                **_meta(crd), "finalizers": finalizers}})
        except errors.NotFound:
            return  # gone meanwhile
        except errors.Conflict:
            raise TemporaryError(f"CRD {name} changed meanwhile") from None

    async def _delete_instances(self, crd: Obj, resource: Resource) -> None:
        """Ask every object of the CRD to go; TemporaryError while any is left."""
        try:
            await self.client.delete_collection(resource)
            left = len((await self.client.list(resource)).get("items") or ())
        except (errors.NotFound, errors.MethodNotAllowed):
            return  # not served (its names were refused): no object can exist
        except errors.StatusError as err:
            await self._set_terminating(crd, "InstanceDeletionFailed",
                                        f"could not issue all deletes: {err.message}")
            raise
        if left:
            raise TemporaryError(f"{left} {resource.group_resource} remain")

    async def _set_terminating(self, crd: Obj, reason: str, message: str) -> Obj:
        status = crd.get("status") or {}
        current = status.get("conditions") or []
        conditions = set_condition(current, condition("Terminating", "True", reason, message))
        if conditions == current:
            return crd
        return await self.client.update_status(
            CRDS, {**crd, "status": {**status, "conditions": conditions}})


def served_resource(crd: Obj) -> Resource | None:
    """Where the CRD's objects are served: its storage version when served, else its
    first served version (as crds.spec_from_crd orders them); None when none is."""
    spec = crd.get("spec") or {}
    served = [v for v in spec.get("versions") or () if v.get("served")]
    if not served:
        return None
    version = next((v for v in served if v.get("storage")), served[0])
    names = spec.get("names") or {}
    return Resource(str(spec.get("group") or ""), str(version["name"]),
                    str(names.get("plural") or ""),
                    spec.get("scope", "Namespaced") == "Namespaced",
                    str(names.get("kind") or ""))
