"""Host-local IP address management: a node hands out the addresses of its podCIDR.

As the CNI host-local plugin does, the allocations live on disk, one file per address
in the store's directory (`<data-dir>/agent/network/ipam/`): the file is named after
the address and holds the sandbox id. Creating it with O_EXCL is the claim, so two
claims on one address cannot both win, and a restart of the kubelet finds every
allocation as it left it. `last_reserved_ip` remembers where the last search ended;
the next one starts after it and wraps around, so an address just released is the
last to be handed out again (a fresh pod does not inherit connections, conntrack
entries or ARP caches meant for the one before).

Addresses handed out: the podCIDR's hosts, less the first (the gateway, on the node's
bridge); never the network or broadcast address. IPv4 only.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network

_LAST_RESERVED = "last_reserved_ip"


class AddressesExhausted(Exception):
    """Every address of the podCIDR is taken."""


def parse_pod_cidr(cidr: str) -> IPv4Network:
    """The node's podCIDR as a network; a clear ValueError for what cannot be one: not
    IPv4, host bits set, or too small to hold a gateway and a pod (/30 at least)."""
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as err:
        raise ValueError(f"invalid podCIDR {cidr!r}: {err}") from None
    if not isinstance(network, IPv4Network):
        raise ValueError(f"podCIDR {cidr!r} is not IPv4; only IPv4 pod networks are supported")
    if network.prefixlen > 30:
        raise ValueError(f"podCIDR {cidr!r} is too small: a node needs a /30 or larger")
    return network


def gateway_of(network: IPv4Network) -> IPv4Address:
    """The first address of the podCIDR: the bridge's, the pods' default gateway."""
    return network.network_address + 1


def first_free(network: IPv4Network, taken: Iterable[IPv4Address],
               last_reserved: IPv4Address | None) -> IPv4Address | None:
    """The address the next allocation gets: the first free one after `last_reserved`
    (or from the start when that is unknown or outside `network`), wrapping around;
    None when none is free. The network, gateway and broadcast addresses are never
    free."""
    first = int(gateway_of(network)) + 1
    last = int(network.broadcast_address) - 1
    size = last - first + 1
    taken_set = {int(a) for a in taken}
    start = first
    if last_reserved is not None and first <= int(last_reserved) <= last:
        start = int(last_reserved) + 1
    for step in range(size):
        candidate = first + (start - first + step) % size
        if candidate not in taken_set:
            return IPv4Address(candidate)
    return None


class HostLocalStore:
    """The allocations of one node, in `directory`. Synchronous file I/O: callers run it
    off the event loop and serialise allocate/release themselves (one kubelet)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def allocations(self) -> Mapping[IPv4Address, str]:
        """Every address held, with its sandbox id."""
        held: dict[IPv4Address, str] = {}
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return held
        for name in names:
            try:
                address = IPv4Address(name)
            except ValueError:
                continue  # last_reserved_ip, or a stray file
            try:
                with open(os.path.join(self.directory, name), encoding="utf-8") as f:
                    held[address] = f.readline().strip()
            except FileNotFoundError:
                continue  # released meanwhile
        return held

    def lookup(self, sandbox_id: str) -> IPv4Address | None:
        for address, owner in self.allocations().items():
            if owner == sandbox_id:
                return address
        return None

    def allocate(self, sandbox_id: str, network: IPv4Network) -> IPv4Address:
        """The sandbox's address in `network`: the one it already holds there, or a new
        one. Raises AddressesExhausted."""
        if not sandbox_id or "\n" in sandbox_id:
            raise ValueError(f"invalid sandbox id {sandbox_id!r}")
        os.makedirs(self.directory, mode=0o755, exist_ok=True)
        held = self.allocations()
        for address, owner in held.items():
            if owner == sandbox_id and address in network:
                return address
        taken = set(held)
        last = self._last_reserved()
        while (candidate := first_free(network, taken, last)) is not None:
            try:
                fd = os.open(os.path.join(self.directory, str(candidate)),
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                taken.add(candidate)  # claimed since we listed
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(sandbox_id + "\n")
            self._write_last_reserved(candidate)
            return candidate
        raise AddressesExhausted(f"no free address left in {network}")

    def release(self, sandbox_id: str) -> list[IPv4Address]:
        """Frees every address the sandbox holds; returns them (none: nothing to do)."""
        freed = [a for a, owner in self.allocations().items() if owner == sandbox_id]
        for address in freed:
            try:
                os.unlink(os.path.join(self.directory, str(address)))
            except FileNotFoundError:
                pass
        return freed

    def _last_reserved(self) -> IPv4Address | None:
        try:
            with open(os.path.join(self.directory, _LAST_RESERVED), encoding="utf-8") as f:
                return IPv4Address(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _write_last_reserved(self, address: IPv4Address) -> None:
        path = os.path.join(self.directory, _LAST_RESERVED)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(str(address))
        os.replace(path + ".tmp", path)
