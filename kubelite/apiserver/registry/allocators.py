"""ClusterIP and NodePort allocation for Services (pkg/registry/core/service upstream).

What is in use is read from the watch cache (every Service's spec.clusterIPs and
nodePorts), so there is no separate allocation map to keep consistent or to rebuild
after a restart. A short-lived `reserved` set covers the gap between choosing a value
and the Service's write reaching the cache, so two concurrent creates never get the
same address from this server.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable
from typing import Any

from kubelite.machinery import errors

Obj = dict[str, Any]

DEFAULT_SERVICE_CIDR = "10.43.0.0/16"
DEFAULT_NODE_PORT_RANGE = (30000, 32767)


class ClusterIPAllocator:
    def __init__(self, cidr: str = DEFAULT_SERVICE_CIDR) -> None:
        self.network = ipaddress.ip_network(cidr)
        self.reserved: set[str] = set()
        # The first address is the network's; the second goes to the `kubernetes`
        # Service, as upstream does (10.43.0.1 in k3s).
        self._first = int(self.network.network_address) + 1
        self._last = int(self.network.broadcast_address) - 1

    @property
    def kubernetes_service_ip(self) -> str:
        return str(ipaddress.ip_address(self._first))

    def allocate(self, wanted: str, in_use: set[str]) -> str:
        """A free address, or `wanted` if it is free and in range; 422 otherwise."""
        taken = in_use | self.reserved
        if wanted:
            try:
                addr = ipaddress.ip_address(wanted)
            except ValueError:
                raise _invalid_ip(wanted, "must be a valid IP address") from None
            if addr not in self.network or int(addr) in (int(self.network.network_address),
                                                        int(self.network.broadcast_address)):
                raise _invalid_ip(wanted, f"the provided IP ({wanted}) is not in the valid "
                                          f"range. The range of valid IPs is {self.network}")
            if wanted in taken:
                raise _invalid_ip(wanted, "provided IP is already allocated")
            self.reserved.add(wanted)
            return wanted
        size = self._last - self._first + 1
        if len(taken) >= size:
            raise errors.InternalError("failed to allocate a serviceIP: range is full")
        start = random.randrange(size)
        for offset in range(size):
            candidate = str(ipaddress.ip_address(self._first + (start + offset) % size))
            if candidate not in taken:
                self.reserved.add(candidate)
                return candidate
        raise errors.InternalError("failed to allocate a serviceIP: range is full")

    def release(self, ips: Iterable[str]) -> None:
        self.reserved.difference_update(ips)


class NodePortAllocator:
    def __init__(self, port_range: tuple[int, int] = DEFAULT_NODE_PORT_RANGE) -> None:
        self.low, self.high = port_range
        self.reserved: set[int] = set()

    def allocate(self, wanted: int, in_use: set[int], field: str) -> int:
        taken = in_use | self.reserved
        if wanted:
            if not self.low <= wanted <= self.high:
                raise errors.invalid("", "Service", "", [errors.Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {wanted}: provided port is not in the valid range. "
                    f"The range of valid ports is {self.low}-{self.high}", field)])
            if wanted in taken:
                raise errors.invalid("", "Service", "", [errors.Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {wanted}: provided port is already allocated", field)])
            self.reserved.add(wanted)
            return wanted
        free = [p for p in range(self.low, self.high + 1) if p not in taken]
        if not free:
            raise errors.InternalError("failed to allocate a nodePort: range is full")
        port = random.choice(free)
        self.reserved.add(port)
        return port

    def release(self, ports: Iterable[int]) -> None:
        self.reserved.difference_update(ports)


def _invalid_ip(ip: str, why: str) -> errors.Invalid:
    return errors.invalid("", "Service", "", [errors.Cause(
        "FieldValueInvalid", f'Invalid value: "{ip}": {why}', "spec.clusterIPs")])


def ips_in_use(services: Iterable[Obj]) -> set[str]:
    out: set[str] = set()
    for svc in services:
        spec = svc.get("spec") or {}
        out.update(ip for ip in spec.get("clusterIPs") or () if ip and ip != "None")
        if spec.get("clusterIP") and spec["clusterIP"] != "None":
            out.add(spec["clusterIP"])
    return out


def node_ports_in_use(services: Iterable[Obj]) -> set[int]:
    return {p["nodePort"] for svc in services
            for p in (svc.get("spec") or {}).get("ports") or () if p.get("nodePort")}


def needs_node_ports(spec: Obj) -> bool:
    kind = spec.get("type")
    if kind == "NodePort":
        return True
    return kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False
