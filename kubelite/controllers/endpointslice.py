"""The EndpointSlice loop (upstream's pkg/controller/endpointslice): EndpointSlices of
every Service with a selector, listing the selected pods that have an IP.

    services, pods, endpointslices informers ── handlers: enqueue the Service key(s)
    sync(namespace/name): Service from the lister (gone, no selector or ExternalName:
        nothing to do; the garbage collector removes slices owned by a deleted Service)
        cache older than our own last writes? look again shortly (SliceTracker)
        desired endpoints: selected pods with an IP of the address type, not terminal,
            each with its conditions, nodeName, zone (its node's label), targetRef
        reconcile (endpointslice_reconcile) and write: updates, creations, deletions

Slices carry kubernetes.io/service-name, endpointslice.kubernetes.io/managed-by and
the Service as controller owner; only slices with both labels are ours. The address
type follows the Service's first IP family (IPv4 unless it says IPv6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kubelite.client.controller import Controller, TemporaryError
from kubelite.client.informer import Informer
from kubelite.client.rest import Client
from kubelite.client.store import object_key, split_key
from kubelite.controllers.context import LoopContext
from kubelite.controllers.endpoint_rules import (
    MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, ZONE_LABEL, address_of, conditions,
    endpoint_ports, has_selector, hostname_for, should_be_in_endpoints)
from kubelite.controllers.endpointslice_reconcile import Plan, reconcile
from kubelite.controllers.pod_control import namespace_terminating
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors, labels

log = logging.getLogger(__name__)

WORKERS = 5  # upstream's --concurrent-service-endpoint-syncs
SERVICE_INDEX = "service"
STALE_RETRY = 0.1  # seconds before looking again at a cache behind our writes


def service_index(endpoint_slice: Obj) -> list[str]:
    slice_labels = meta(endpoint_slice).get("labels") or {}
    if slice_labels.get(MANAGED_BY_LABEL) != MANAGED_BY or SERVICE_NAME_LABEL not in slice_labels:
        return []
    return [f"{meta(endpoint_slice).get('namespace', '')}/{slice_labels[SERVICE_NAME_LABEL]}"]


def selected_pods(pods: list[Obj], service: Obj) -> list[Obj]:
    selector = labels.selector_from_set((service.get("spec") or {}).get("selector") or {})
    return [p for p in pods if selector.matches(meta(p).get("labels") or {})]


def follow_selected_pods(pods: Informer, services: Informer,
                         enqueue: Callable[[str], None]) -> None:
    """On every pod added, changed or deleted, enqueue the key of each selector Service
    that selects it (by its old labels too, when they changed), as upstream's
    getPodServiceMemberships does for both endpoint loops."""

    def changed(pod: Obj) -> None:
        for service in services.lister.list(meta(pod).get("namespace")):
            if has_selector(service) and selected_pods([pod], service):
                enqueue(object_key(service))

    def updated(old: Obj, new: Obj) -> None:
        if meta(old).get("resourceVersion") == meta(new).get("resourceVersion"):
            return
        changed(new)
        if meta(old).get("labels") != meta(new).get("labels"):
            changed(old)

    pods.add_event_handler(on_add=changed, on_update=updated, on_delete=changed)


def address_type_of(service: Obj) -> str:
    families = (service.get("spec") or {}).get("ipFamilies") or ["IPv4"]
    return "IPv6" if families[0] == "IPv6" else "IPv4"


def pod_endpoint(pod: Obj, service: Obj, address: str, zone: str | None) -> Obj:
    """Upstream's podToEndpoint."""
    endpoint: Obj = {"addresses": [address], "conditions": conditions(pod, service)}
    if (hostname := hostname_for(pod, service)) is not None:
        endpoint["hostname"] = hostname
    if node_name := (pod.get("spec") or {}).get("nodeName"):
        endpoint["nodeName"] = node_name
    if zone:
        endpoint["zone"] = zone
    endpoint["targetRef"] = {"kind": "Pod", "namespace": meta(pod).get("namespace", ""),
                             "name": meta(pod).get("name", ""), "uid": meta(pod).get("uid", "")}
    return endpoint


class SliceTracker:
    """The generation of every slice this loop last wrote (None: deleted), so a sync on
    a cache that has not shown them yet waits instead of writing duplicates (upstream's
    endpointSliceTracker)."""

    def __init__(self) -> None:
        self.written: dict[str, dict[str, int | None]] = {}

    def record(self, key: str, name: str, generation: int | None) -> None:
        self.written.setdefault(key, {})[name] = generation

    def stale(self, key: str, cached: list[Obj]) -> bool:
        seen = {meta(s)["name"]: int(meta(s).get("generation") or 0) for s in cached}
        for name, generation in self.written.get(key, {}).items():
            if generation is None and name in seen:
                return True
            if generation is not None and seen.get(name, -1) < generation:
                return True
        self.written.pop(key, None)  # every write seen: nothing left to wait for
        return False

    def forget(self, key: str) -> None:
        self.written.pop(key, None)


class EndpointSliceLoop:
    name = "endpointslice"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.tracker = SliceTracker()
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.services = ctx.informers.informer("services")
        self.pods = ctx.informers.informer("pods")
        self.nodes = ctx.informers.informer("nodes")
        self.slices = ctx.informers.informer("endpointslices.discovery.k8s.io",
                                             indexers={SERVICE_INDEX: service_index})
        self.services.add_event_handler(
            on_add=self._service_changed, on_update=lambda _old, new: self._service_changed(new),
            on_delete=self._service_changed)
        follow_selected_pods(self.pods, self.services, self.controller.enqueue)
        self.slices.add_event_handler(
            on_add=self._slice_changed, on_update=lambda _old, new: self._slice_changed(new),
            on_delete=self._slice_changed)

    async def run(self) -> None:
        await self.controller.run()

    def _service_changed(self, service: Obj) -> None:
        self.controller.enqueue(object_key(service))

    def _slice_changed(self, endpoint_slice: Obj) -> None:
        for key in service_index(endpoint_slice):
            self.controller.enqueue(key)

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        service = self.services.lister.get(namespace, name)
        if service is None or not has_selector(service) \
                or (service.get("spec") or {}).get("type") == "ExternalName":
            self.tracker.forget(key)
            return
        existing = list(self.slices.indexer.by_index(SERVICE_INDEX, key))
        if self.tracker.stale(key, existing):
            raise TemporaryError("endpoint slice cache is behind our writes", delay=STALE_RETRY)
        address_type = address_type_of(service)
        desired = []
        for pod in selected_pods(self.pods.lister.list(namespace), service):
            if not should_be_in_endpoints(pod, include_terminating=True):
                continue
            address = address_of(pod, address_type)
            if address is None:
                continue
            node = self.nodes.lister.get("", str((pod.get("spec") or {}).get("nodeName") or ""))
            zone = (meta(node).get("labels") or {}).get(ZONE_LABEL) if node else None
            desired.append((endpoint_ports(service, pod),
                            pod_endpoint(pod, service, address, zone)))
        plan = reconcile(service, address_type, desired, existing)
        await write_plan(self.client, self.tracker, key, namespace, plan)


async def write_plan(client: Client, tracker: SliceTracker, key: str, namespace: str,
                     plan: Plan) -> None:
    """Apply a reconcile plan (updates, then creations, then deletions), recording each
    write in `tracker`; creations stop quietly in a terminating namespace."""
    resource = "endpointslices.discovery.k8s.io"
    for updated in plan.update:
        written = await client.update(resource, updated, namespace=namespace)
        tracker.record(key, meta(written)["name"], int(meta(written).get("generation") or 0))
    for created in plan.create:
        try:
            written = await client.create(resource, created, namespace=namespace)
        except errors.StatusError as err:
            if namespace_terminating(err):
                return  # the namespace is going away, and its slices with it
            raise
        tracker.record(key, meta(written)["name"], int(meta(written).get("generation") or 0))
    for doomed in plan.delete:
        try:
            await client.delete(resource, meta(doomed)["name"], namespace=namespace)
        except errors.NotFound:
            pass
        tracker.record(key, meta(doomed)["name"], None)
