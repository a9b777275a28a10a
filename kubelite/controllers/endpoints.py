"""The Endpoints loop (upstream's pkg/controller/endpoint): the legacy core/v1
Endpoints named after every Service with a selector.

    services, pods, endpoints informers ── handlers: enqueue the Service key(s)
    sync(namespace/name):
        Service gone: delete its Endpoints (and forget its trigger times)
        no selector: leave its Endpoints alone (they are written by hand)
        selected pods that should be in endpoints (with an IP, not terminal; not
        terminating unless the Service publishes not-ready addresses) ─► subsets
        (endpoints_subsets), ready or not ready; a headless Service without ports
        lists its pods with no ports
        unchanged subsets, labels and capacity annotation: no write; else create or
        update with labels = the Service's (+ headless marker), the trigger-time and
        over-capacity annotations

An Endpoints changed by someone else is put back on the next sync of its Service, which
its own update event asks for.
"""

from __future__ import annotations

import copy

from kubelite.client.controller import Controller
from kubelite.client.store import object_key, split_key
from kubelite.controllers.context import LoopContext
from kubelite.controllers.endpoint_rules import (
    HEADLESS_LABEL, address_of, find_port, has_selector, hostname_for, is_headless,
    publishes_not_ready, should_be_in_endpoints)
from kubelite.controllers.endpoints_subsets import (
    OVER_CAPACITY, TRIGGER_TIME, TriggerTimeTracker, pod_address, repack, truncate)
from kubelite.controllers.endpointslice import address_type_of, follow_selected_pods, selected_pods
from kubelite.controllers.pod_control import namespace_terminating
from kubelite.controllers.pods import Obj, is_ready, meta
from kubelite.machinery import errors

WORKERS = 5  # upstream's --concurrent-endpoint-syncs


def restart_allows_endpoint(pod: Obj) -> bool:
    """A not-ready pod is listed as not ready only while it may still run again
    (upstream's shouldPodBeInEndpoints in the endpoints controller)."""
    phase = (pod.get("status") or {}).get("phase")
    policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    if policy == "Never":
        return phase not in ("Failed", "Succeeded")
    if policy == "OnFailure":
        return phase != "Succeeded"
    return True


def desired_subsets(service: Obj, pods: list[Obj]) -> list[Obj]:
    tolerate_unready = publishes_not_ready(service)
    address_type = address_type_of(service)
    service_ports = (service.get("spec") or {}).get("ports") or []
    entries: list[tuple[Obj, Obj | None, bool]] = []
    for pod in pods:
        if not should_be_in_endpoints(pod, include_terminating=tolerate_unready):
            continue
        ip = address_of(pod, address_type)
        if ip is None:
            continue
        ready = tolerate_unready or is_ready(pod)
        if not ready and not restart_allows_endpoint(pod):
            continue
        address = pod_address(pod, ip, hostname_for(pod, service))
        if not service_ports:
            if is_headless(service):
                entries.append((address, None, ready))
            continue
        for service_port in service_ports:
            number = find_port(pod, service_port)
            if number is None:
                continue
            port: Obj = {"port": number, "protocol": service_port.get("protocol") or "TCP"}
            if service_port.get("name"):
                port["name"] = service_port["name"]
            if service_port.get("appProtocol"):
                port["appProtocol"] = service_port["appProtocol"]
            entries.append((address, port, ready))
    return repack(entries)


def desired_labels(service: Obj) -> dict[str, str]:
    out = {k: v for k, v in (meta(service).get("labels") or {}).items() if k != HEADLESS_LABEL}
    if is_headless(service):
        out[HEADLESS_LABEL] = ""
    return out


class EndpointsLoop:
    name = "endpoint"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.triggers = TriggerTimeTracker()
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.services = ctx.informers.informer("services")
        self.pods = ctx.informers.informer("pods")
        self.endpoints = ctx.informers.informer("endpoints")
        self.services.add_event_handler(
            on_add=self._enqueue, on_update=lambda _old, new: self._enqueue(new),
            on_delete=self._enqueue)
        self.endpoints.add_event_handler(
            on_update=lambda _old, new: self._enqueue(new), on_delete=self._enqueue)
        follow_selected_pods(self.pods, self.services, self.controller.enqueue)

    async def run(self) -> None:
        await self.controller.run()

    def _enqueue(self, obj: Obj) -> None:
        self.controller.enqueue(object_key(obj))

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        service = self.services.lister.get(namespace, name)
        if service is None:
            self.triggers.forget(key)
            if self.endpoints.lister.get(namespace, name) is not None:
                try:
                    await self.client.delete("endpoints", name, namespace=namespace)
                except errors.NotFound:
                    pass
            return
        if not has_selector(service):
            return
        pods = selected_pods(self.pods.lister.list(namespace), service)
        trigger_time, seen = self.triggers.compute(key, service, pods)
        subsets = desired_subsets(service, pods)
        truncated = truncate(subsets)
        labels = desired_labels(service)
        current = self.endpoints.lister.get(namespace, name)
        if current is not None:
            annotations = meta(current).get("annotations") or {}
            if (current.get("subsets") or []) == subsets \
                    and (meta(current).get("labels") or {}) == labels \
                    and (OVER_CAPACITY in annotations) == truncated:
                self.triggers.remember(key, seen)
                return
        endpoints: Obj = copy.deepcopy(current) if current is not None else {
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": namespace}}
        endpoints_meta: Obj = endpoints["metadata"]
        endpoints_meta["labels"] = labels
        annotations = dict(endpoints_meta.get("annotations") or {})
        annotations.pop(TRIGGER_TIME, None)
        annotations.pop(OVER_CAPACITY, None)
        if trigger_time:
            annotations[TRIGGER_TIME] = trigger_time
        if truncated:
            annotations[OVER_CAPACITY] = "truncated"
        endpoints_meta["annotations"] = annotations
        endpoints["subsets"] = subsets
        try:
            if current is None:
                await self.client.create("endpoints", endpoints, namespace=namespace)
            else:
                await self.client.update("endpoints", endpoints, namespace=namespace)
        except errors.StatusError as err:
            if namespace_terminating(err):
                return
            raise
        self.triggers.remember(key, seen)
