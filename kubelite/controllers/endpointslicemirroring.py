"""The EndpointSlice mirroring loop (upstream's pkg/controller/endpointslicemirroring):
EndpointSlices that mirror the custom core/v1 Endpoints of Services without a selector,
so readers of EndpointSlices (kube-proxy, DNS) see hand-written endpoints too.

    endpoints, services, endpointslices informers ── handlers: enqueue the Endpoints key
    sync(namespace/name):
        Endpoints gone or not to be mirrored (skip-mirror label, leader-election lock),
        Service gone, or the Service has a selector: delete the mirrored slices
        cache older than our own last writes? look again shortly (SliceTracker)
        desired endpoints per address type (endpointslicemirroring_rules), at most
        1000 per subset; Warning Events for invalid and skipped addresses
        per address type: reconcile_slices (the EndpointSlice loop's reconciler, with
        this loop's limit and labels) and write_plan; slices of a type no longer
        desired are deleted

Only slices labelled managed-by endpointslicemirroring-controller.k8s.io are this loop's;
the EndpointSlice loop's (managed-by endpointslice-controller.k8s.io) are never touched,
and the Endpoints the Endpoints loop writes belong to Services with selectors, which
this loop leaves alone. The mirrored slices are owned by the Endpoints, so the garbage
collector removes them too if the loop is not running when it goes.
"""

from __future__ import annotations

from kubelite.client.controller import Controller, TemporaryError
from kubelite.client.store import object_key, split_key
from kubelite.controllers.context import LoopContext
from kubelite.controllers.endpoint_rules import SERVICE_NAME_LABEL, has_selector
from kubelite.controllers.endpointslice import STALE_RETRY, SliceTracker, write_plan
from kubelite.controllers.endpointslice_reconcile import Plan, reconcile_slices
from kubelite.controllers.endpointslicemirroring_rules import (
    MAX_ENDPOINTS_PER_SUBSET, address_identity, desired_endpoints, mirrored_by_us,
    should_mirror, slice_owner)
from kubelite.controllers.pods import Obj, meta

WORKERS = 5  # upstream's --mirroring-concurrent-service-endpoint-syncs
ENDPOINTS_INDEX = "mirrored-endpoints"
COMPONENT = "endpoint-slice-mirroring-controller"


def endpoints_index(endpoint_slice: Obj) -> list[str]:
    """The key of the Endpoints a slice mirrors, for slices this loop manages."""
    name = (meta(endpoint_slice).get("labels") or {}).get(SERVICE_NAME_LABEL)
    if not mirrored_by_us(endpoint_slice) or not name:
        return []
    return [f"{meta(endpoint_slice).get('namespace', '')}/{name}"]


class EndpointSliceMirroringLoop:
    name = "endpointslicemirroring"

    def __init__(self, ctx: LoopContext, *,
                 max_per_subset: int = MAX_ENDPOINTS_PER_SUBSET) -> None:
        self.client = ctx.client
        self.max_per_subset = max_per_subset
        self.recorder = ctx.recorder(COMPONENT)
        self.tracker = SliceTracker()
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.endpoints = ctx.informers.informer("endpoints")
        self.services = ctx.informers.informer("services")
        self.slices = ctx.informers.informer("endpointslices.discovery.k8s.io",
                                             indexers={ENDPOINTS_INDEX: endpoints_index})
        self.endpoints.add_event_handler(
            on_add=self._endpoints_changed, on_update=self._endpoints_updated,
            on_delete=self._endpoints_changed)
        self.services.add_event_handler(
            on_add=self._service_changed, on_update=self._service_updated,
            on_delete=self._service_changed)
        self.slices.add_event_handler(
            on_add=self._slice_changed, on_update=self._slice_updated,
            on_delete=self._slice_changed)

    async def run(self) -> None:
        await self.controller.run()

    def _endpoints_changed(self, endpoints: Obj) -> None:
        if should_mirror(endpoints):
            self.controller.enqueue(object_key(endpoints))

    def _endpoints_updated(self, old: Obj, new: Obj) -> None:
        if should_mirror(old) or should_mirror(new):  # turning off mirroring cleans up
            self.controller.enqueue(object_key(new))

    def _service_changed(self, service: Obj) -> None:
        if not has_selector(service):
            self.controller.enqueue(object_key(service))

    def _service_updated(self, old: Obj, new: Obj) -> None:
        if has_selector(old) != has_selector(new):
            self.controller.enqueue(object_key(new))

    def _slice_changed(self, endpoint_slice: Obj) -> None:
        for key in endpoints_index(endpoint_slice):
            self.controller.enqueue(key)

    def _slice_updated(self, old: Obj, new: Obj) -> None:
        # a slice relabelled away from this loop (or to it) concerns both its names
        self._slice_changed(old)
        self._slice_changed(new)

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        existing = list(self.slices.indexer.by_index(ENDPOINTS_INDEX, key))
        endpoints = self.endpoints.lister.get(namespace, name)
        service = self.services.lister.get(namespace, name)
        if endpoints is None or not should_mirror(endpoints) or service is None \
                or has_selector(service):
            self.tracker.forget(key)
            if existing:
                await write_plan(self.client, self.tracker, key, namespace, Plan(delete=existing))
            return
        if self.tracker.stale(key, existing):
            raise TemporaryError("endpoint slice cache is behind our writes", delay=STALE_RETRY)
        desired = desired_endpoints(endpoints, self.max_per_subset)
        self._record_skipped(endpoints, desired.invalid, desired.skipped)
        owner = slice_owner(endpoints)
        plan = Plan()
        for address_type in sorted({*desired.by_type, *(str(s.get("addressType") or "") for s in existing)}):
            of_type = [s for s in existing if str(s.get("addressType") or "") == address_type]
            wanted = desired.by_type.get(address_type)
            if not wanted:
                plan.delete.extend(of_type)
                continue
            # one slice per subset's port set, as upstream: the limit is per subset
            typed = reconcile_slices(owner, address_type, wanted, of_type,
                                     max_per_slice=self.max_per_subset, identity=address_identity)
            plan.create.extend(typed.create)
            plan.update.extend(typed.update)
            plan.delete.extend(typed.delete)
        if meta(endpoints).get("deletionTimestamp"):
            plan.create.clear()  # no new slices for Endpoints on their way out
        await write_plan(self.client, self.tracker, key, namespace, plan)

    def _record_skipped(self, endpoints: Obj, invalid: int, skipped: int) -> None:
        if invalid:
            self.recorder.event(endpoints, "Warning", "InvalidIPAddress",
                                f"Skipped {invalid} invalid IP addresses when mirroring to "
                                "EndpointSlices")
        if skipped > invalid:
            self.recorder.event(endpoints, "Warning", "TooManyAddressesToMirror",
                                f"A max of {self.max_per_subset} addresses can be mirrored to "
                                f"EndpointSlices per Endpoints subset. {skipped} addresses "
                                "were skipped")
