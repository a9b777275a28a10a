"""ClusterIP and NodePort allocation for Services (pkg/registry/core/service upstream).

Every address or port in use is one store key, created with the store's atomic
create: `/registry/kubelite.io/serviceips/<ip>` and `.../servicenodeports/<port>`, the
way upstream's MultiCIDRServiceAllocator keeps one IPAddress object per ClusterIP. Two
requests (or two API servers sharing an etcd) can never hand out the same value: the
second create fails and the allocator picks again, or rejects a value asked for by
name with 422. The watch cache holds the keys like any object, so choosing a free
value is a lookup in memory.

A reservation belongs to a Service by uid. It is released when that Service's create
fails, when a Service update stops using it, and when the Service is deleted; a
reservation left behind by a crash (older than REPAIR_AGE and owned by no Service) is
removed by `repair`, which `repair_controller` runs every five minutes against the
Services it lists through the API.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import random
from collections.abc import Iterable
from typing import Any

import orjson

from kubelite.apiserver.watchcache import Cache
from kubelite.client.controller import Controller
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_rfc3339, parse_rfc3339
from kubelite.storage.backend import Backend, KeyExists, KeyNotFound

log = logging.getLogger(__name__)

Obj = dict[str, Any]

DEFAULT_SERVICE_CIDR = "10.43.0.0/16"
DEFAULT_NODE_PORT_RANGE = (30000, 32767)
IP_PREFIX = "/registry/kubelite.io/serviceips/"
PORT_PREFIX = "/registry/kubelite.io/servicenodeports/"
RANDOM_TRIES = 64
REPAIR_AGE = datetime.timedelta(minutes=1)


def _invalid(field: str, value: object, why: str) -> errors.Invalid:
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return errors.invalid("", "Service", "", [errors.Cause(
        "FieldValueInvalid", f"Invalid value: {shown}: {why}", field)])


def needs_node_ports(spec: Obj) -> bool:
    kind = spec.get("type")
    if kind == "NodePort":
        return True
    return kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False


def cluster_ips_of(svc: Obj) -> set[str]:
    spec = svc.get("spec") or {}
    ips = set(spec.get("clusterIPs") or ())
    if spec.get("clusterIP"):
        ips.add(spec["clusterIP"])
    return {ip for ip in ips if ip and ip != "None"}


def node_ports_of(svc: Obj) -> set[int]:
    return {int(p["nodePort"]) for p in (svc.get("spec") or {}).get("ports") or ()
            if p.get("nodePort")}


class ServiceAllocator:
    def __init__(self, *, backend: Backend, cache: Cache,
                 cidr: str = DEFAULT_SERVICE_CIDR,
                 port_range: tuple[int, int] = DEFAULT_NODE_PORT_RANGE) -> None:
        self.backend = backend
        self.cache = cache
        self.network = ipaddress.ip_network(cidr)
        self.low, self.high = port_range
        # The network's first address is not handed out; the next one goes to the
        # `kubernetes` Service, as upstream does (10.43.0.1 in k3s).
        self._first = int(self.network.network_address) + 1
        self._last = int(self.network.broadcast_address) - 1

    @property
    def kubernetes_service_ip(self) -> str:
        return str(ipaddress.ip_address(self._first))

    async def _reserve(self, key: str, owner: Obj) -> bool:
        meta = owner.get("metadata") or {}
        value = orjson.dumps({
            "kind": "ServiceReservation",
            "metadata": {"name": key.rsplit("/", 1)[1],
                         "creationTimestamp": now_rfc3339()},
            "service": {"namespace": meta.get("namespace", ""), "name": meta.get("name", ""),
                        "uid": meta.get("uid", "")}})
        try:
            await self.backend.create(key, value)
            return True
        except KeyExists:
            return False

    async def _release_keys(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                await self.backend.delete(key)
            except KeyNotFound:
                pass

    # -- ClusterIPs -------------------------------------------------------------

    async def allocate_ip(self, wanted: str, owner: Obj) -> str:
        if wanted:
            try:
                addr = ipaddress.ip_address(wanted)
            except ValueError:
                raise _invalid("spec.clusterIPs", wanted,
                               "must be a valid IP address") from None
            if addr not in self.network or not self._first <= int(addr) <= self._last:
                raise _invalid("spec.clusterIPs", wanted,
                               f"failed to allocate IP {wanted}: the provided IP "
                               f"({wanted}) is not in the valid range. The range of valid "
                               f"IPs is {self.network}")
            if not await self._reserve(IP_PREFIX + wanted, owner):
                raise _invalid("spec.clusterIPs", wanted,
                               f"failed to allocate IP {wanted}: provided IP is already "
                               f"allocated")
            return wanted
        size = self._last - self._first + 1
        taken = self.cache.bucket(self.cache.prefix_of(IP_PREFIX + "x"))
        for _ in range(RANDOM_TRIES):
            # Skip the kubernetes Service's address unless it is the one asked for.
            candidate = str(ipaddress.ip_address(self._first + 1 + random.randrange(size - 1)))
            if IP_PREFIX + candidate in taken:
                continue
            if await self._reserve(IP_PREFIX + candidate, owner):
                return candidate
        raise errors.InternalError("failed to allocate a serviceIP: range is full")

    # -- NodePorts ----------------------------------------------------------------

    async def allocate_port(self, wanted: int, owner: Obj, field: str) -> int:
        if wanted:
            if not self.low <= wanted <= self.high:
                raise _invalid(field, wanted, f"provided port is not in the valid range. "
                                              f"The range of valid ports is "
                                              f"{self.low}-{self.high}")
            if not await self._reserve(PORT_PREFIX + str(wanted), owner):
                raise _invalid(field, wanted, "provided port is already allocated")
            return wanted
        taken = self.cache.bucket(self.cache.prefix_of(PORT_PREFIX + "x"))
        for _ in range(RANDOM_TRIES):
            candidate = random.randint(self.low, self.high)
            if PORT_PREFIX + str(candidate) in taken:
                continue
            if await self._reserve(PORT_PREFIX + str(candidate), owner):
                return candidate
        raise errors.InternalError("failed to allocate a nodePort: range is full")

    # -- a Service's whole set ---------------------------------------------------------

    async def allocate(self, svc: Obj, old: Obj | None) -> list[str]:
        """Fill in the Service's ClusterIP (on create) and the NodePorts its type needs.
        Returns the keys reserved by this call, for `release` if the write fails; on
        any error what this call reserved is released already."""
        reserved: list[str] = []
        try:
            await self._allocate(svc, old, reserved)
        except BaseException:
            await self._release_keys(reserved)
            raise
        return reserved

    async def _allocate(self, svc: Obj, old: Obj | None, reserved: list[str]) -> None:
        spec = svc.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            return
        if old is None:
            wanted = spec.get("clusterIP") or ""
            if wanted == "None":
                spec["clusterIPs"] = ["None"]
            else:
                ip = await self.allocate_ip(wanted, svc)
                reserved.append(IP_PREFIX + ip)
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
        if not needs_node_ports(spec):
            for port in spec.get("ports") or ():
                port.pop("nodePort", None)
            return
        kept = node_ports_of(old) if old is not None else set()
        for i, port in enumerate(spec.get("ports") or ()):
            wanted = int(port.get("nodePort") or 0)
            if wanted and wanted in kept:
                continue  # this Service holds it already
            port["nodePort"] = await self.allocate_port(wanted, svc,
                                                        f"spec.ports[{i}].nodePort")
            reserved.append(PORT_PREFIX + str(port["nodePort"]))

    async def release(self, keys: Iterable[str]) -> None:
        await self._release_keys(keys)

    async def release_unused(self, old: Obj, new: Obj | None) -> None:
        """After a Service update (or its deletion, new=None): free what it stopped using."""
        keep_ips = cluster_ips_of(new) if new is not None else set()
        keep_ports = node_ports_of(new) if new is not None else set()
        await self._release_keys(
            [IP_PREFIX + ip for ip in cluster_ips_of(old) - keep_ips]
            + [PORT_PREFIX + str(p) for p in node_ports_of(old) - keep_ports])

    async def repair(self, services: Iterable[Obj]) -> None:
        """Drop reservations no Service owns, once they are old enough that the Service
        they were made for cannot still be on its way to the store."""
        owners = {(s.get("metadata") or {}).get("uid") for s in services}
        cutoff = datetime.datetime.now(datetime.UTC) - REPAIR_AGE
        for prefix in (IP_PREFIX, PORT_PREFIX):
            bucket = self.cache.bucket(self.cache.prefix_of(prefix + "x"))
            for key, entry in list(bucket.items()):
                obj = entry.obj
                made = parse_rfc3339(obj.get("metadata", {}).get("creationTimestamp", ""))
                if obj.get("service", {}).get("uid") not in owners and \
                        (made is None or made < cutoff):
                    log.info("releasing %s: no Service owns it", key)
                    await self._release_keys([key])


REPAIR_KEY = "service-reservations"
REPAIR_INTERVAL = 300.0


def repair_controller(allocator: ServiceAllocator, client: Client,
                      interval: float = REPAIR_INTERVAL) -> Controller[str]:
    """Upstream's repair controllers (pkg/registry/core/service/ipallocator/controller,
    portallocator/controller), for reservations a crash left behind: one key,
    REPAIR_KEY, enqueued every `interval`; its sync lists the Services through the API
    (`client`, the server's in-process one, as upstream's repair lists them through its
    loopback client), then compares the reservations with them and drops the orphans.
    The reservations themselves are the store's keys, not an API resource, so they are
    read from the watch cache and released on the store (docs/decisions.md).
    Idempotent: a second pass finds nothing to drop. A failure is retried with backoff."""

    async def sync(key: str) -> None:
        # Services first: a reservation made after this list is younger than REPAIR_AGE.
        services, _ = await client.list_all("services")
        await allocator.repair(services)

    controller: Controller[str] = Controller("service-reservation-repair", sync)
    controller.enqueue_every(interval, lambda: [REPAIR_KEY])
    return controller
