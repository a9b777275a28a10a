"""The core/v1 Endpoints of a Service, as upstream's pkg/controller/endpoint computes
them (pure functions over dicts).

- subsets: every (pod address, resolved Service port) pair, ready or not ready, then
  repacked so addresses with the same port set share one subset; sorted so equal
  contents compare equal (upstream's RepackSubsets and SortSubsets)
- capacity: at most MAX_CAPACITY addresses; beyond that the ready addresses (or, if
  the ready ones fit, the not-ready ones) are cut proportionally across subsets and
  the Endpoints is annotated over-capacity=truncated (upstream's truncateEndpoints)
- trigger time: the earliest change since the last sync of the Service
  (creationTimestamp) or a pod (its Ready condition's lastTransitionTime); a Service
  seen for the first time reports its creationTimestamp (TriggerTimeTracker)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from kubelite.controllers.pods import Obj, meta, ready_condition

MAX_CAPACITY = 1000
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"


def pod_address(pod: Obj, ip: str, hostname: str | None) -> Obj:
    address: Obj = {"ip": ip}
    if hostname:
        address["hostname"] = hostname
    if node_name := (pod.get("spec") or {}).get("nodeName"):
        address["nodeName"] = node_name
    address["targetRef"] = {"kind": "Pod", "namespace": meta(pod).get("namespace", ""),
                            "name": meta(pod).get("name", ""), "uid": meta(pod).get("uid", "")}
    return address


def _port_key(port: Obj) -> str:
    return json.dumps(port, sort_keys=True)


def repack(entries: list[tuple[Obj, Obj | None, bool]]) -> list[Obj]:
    """Subsets from (address, port or None, ready) entries: one per distinct port set,
    an address ready in one entry and not in another counted as ready."""
    ports_of: dict[str, dict[str, Obj]] = {}
    address_of: dict[str, Obj] = {}
    ready_of: dict[str, bool] = {}
    for address, port, ready in entries:
        key = _port_key(address)
        address_of[key] = address
        ports = ports_of.setdefault(key, {})
        if port is not None:
            ports[_port_key(port)] = port
        ready_of[key] = ready_of.get(key, False) or ready
    groups: dict[tuple[str, ...], tuple[list[Obj], list[Obj], list[Obj]]] = {}
    for key, address in address_of.items():
        ports = ports_of[key]
        port_keys = tuple(sorted(ports))
        group = groups.setdefault(port_keys, ([ports[k] for k in port_keys], [], []))
        (group[1] if ready_of[key] else group[2]).append(address)
    subsets = []
    for port_keys in sorted(groups):
        port_list, ready_addresses, not_ready_addresses = groups[port_keys]
        subset: Obj = {}
        if ready_addresses:
            subset["addresses"] = sorted(ready_addresses, key=_address_order)
        if not_ready_addresses:
            subset["notReadyAddresses"] = sorted(not_ready_addresses, key=_address_order)
        if port_list:
            subset["ports"] = port_list
        subsets.append(subset)
    return subsets


def _address_order(address: Obj) -> tuple[str, str]:
    return str(address.get("ip")), str((address.get("targetRef") or {}).get("uid") or "")


def truncate(subsets: list[Obj]) -> bool:
    """Cut `subsets` in place to MAX_CAPACITY addresses; True if it had to."""
    total_ready = sum(len(s.get("addresses") or ()) for s in subsets)
    total_not_ready = sum(len(s.get("notReadyAddresses") or ()) for s in subsets)
    if total_ready + total_not_ready <= MAX_CAPACITY:
        return False
    truncate_ready = total_ready > MAX_CAPACITY
    limit = MAX_CAPACITY if truncate_ready else MAX_CAPACITY - total_ready
    total = total_ready if truncate_ready else total_not_ready
    room = limit
    for subset in subsets:
        field_name = "addresses" if truncate_ready else "notReadyAddresses"
        addresses = list(subset.get(field_name) or ())
        # proportional share, rounded up: the last subsets may get less
        share = min(math.ceil(len(addresses) / total * limit), room)
        subset[field_name] = addresses[:share]
        if truncate_ready:
            subset.pop("notReadyAddresses", None)
        room -= share
        if not subset[field_name]:
            del subset[field_name]
    return True


@dataclass(slots=True)
class _ServiceState:
    pod_times: dict[str, str] = field(default_factory=dict)
    service_time: str = ""


class TriggerTimeTracker:
    """Upstream's TriggerTimeTracker. Times are the API's second-precision RFC 3339
    UTC strings ("2026-01-02T03:04:05Z"), which order as they read."""

    def __init__(self) -> None:
        self.states: dict[str, _ServiceState] = {}

    def compute(self, key: str, service: Obj, pods: list[Obj]) -> tuple[str, _ServiceState]:
        """The trigger time for this sync ("" when nothing changed) and what to
        `remember` once the Endpoints is written, so a failed write reports the same
        time again on the retry."""
        previous = self.states.get(key)
        known = previous or _ServiceState()
        state = _ServiceState()
        changed = []
        for pod in pods:
            condition = ready_condition(pod)
            when = str((condition or {}).get("lastTransitionTime") or "")
            if not when:
                continue
            name = str(meta(pod).get("name") or "")
            state.pod_times[name] = when
            if when > known.pod_times.get(name, ""):
                changed.append(when)
        state.service_time = str(meta(service).get("creationTimestamp") or "")
        if state.service_time > known.service_time:
            changed.append(state.service_time)
        if previous is None:
            return state.service_time, state
        return min(changed, default=""), state

    def remember(self, key: str, state: _ServiceState) -> None:
        self.states[key] = state

    def forget(self, key: str) -> None:
        self.states.pop(key, None)
