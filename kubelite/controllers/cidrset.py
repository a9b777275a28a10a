"""A cluster CIDR cut into equal node CIDRs, each free or used (upstream's
pkg/controller/nodeipam/ipam/cidrset).

10.42.0.0/16 with /24 node CIDRs is 256 slots, slot i being 10.42.i.0/24. `allocate()`
hands out the first free slot at or after the one after the last handed out, wrapping
around, so a CIDR just released is not handed out again at once (a node deleted and
re-registered does not receive a stale neighbour's routes). `occupy(cidr)` marks every
slot a CIDR overlaps — a larger CIDR several slots, the whole cluster CIDR all of them,
a smaller one the slot that holds it — and `release(cidr)` frees the same slots. A CIDR
outside the cluster CIDR is refused with ValueError.

At most 2^16 slots, as upstream's clusterSubnetMaxDiff; the used slots are a bytearray.
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_SLOT_BITS = 16


class CIDRSetFull(Exception):
    """No free node CIDR is left in the cluster CIDR."""


class CIDRSet:
    def __init__(self, cluster_cidr: str, node_mask: int) -> None:
        self.cluster = ipaddress.ip_network(cluster_cidr, strict=True)
        if not self.cluster.prefixlen <= node_mask <= self.cluster.max_prefixlen:
            raise ValueError(f"node CIDR mask /{node_mask} does not fit in {cluster_cidr}")
        if node_mask - self.cluster.prefixlen > MAX_SLOT_BITS:
            raise ValueError(f"/{node_mask} cuts {cluster_cidr} into more than "
                             f"{1 << MAX_SLOT_BITS} node CIDRs")
        self.node_mask = node_mask
        self.slots = 1 << (node_mask - self.cluster.prefixlen)
        self._shift = self.cluster.max_prefixlen - node_mask
        self._base = int(self.cluster.network_address)
        self._used = bytearray(self.slots)
        self.used_count = 0
        self._next = 0

    def __str__(self) -> str:
        return str(self.cluster)

    def slot_cidr(self, slot: int) -> Network:
        return ipaddress.ip_network((self._base + (slot << self._shift), self.node_mask))

    def allocate(self) -> Network:
        for step in range(self.slots):
            slot = (self._next + step) % self.slots
            if not self._used[slot]:
                self._mark(slot, True)
                self._next = (slot + 1) % self.slots
                return self.slot_cidr(slot)
        raise CIDRSetFull(f"no node CIDR left in {self.cluster} (all {self.slots} used)")

    def occupy(self, cidr: str) -> None:
        for slot in self._slots_of(cidr):
            self._mark(slot, True)

    def release(self, cidr: str) -> None:
        for slot in self._slots_of(cidr):
            self._mark(slot, False)

    def contains(self, cidr: str) -> bool:
        """Whether `cidr` is of this set's family and overlaps the cluster CIDR."""
        network = ipaddress.ip_network(cidr, strict=False)
        return network.version == self.cluster.version and network.overlaps(self.cluster)

    def is_used(self, cidr: str) -> bool:
        return all(self._used[slot] for slot in self._slots_of(cidr))

    def _mark(self, slot: int, used: bool) -> None:
        if bool(self._used[slot]) != used:
            self._used[slot] = used
            self.used_count += 1 if used else -1

    def _slots_of(self, cidr: str) -> range:
        network = ipaddress.ip_network(cidr, strict=False)
        if not self.contains(cidr):
            raise ValueError(f"CIDR {cidr} is out of the range of cluster CIDR {self.cluster}")
        if network.prefixlen <= self.cluster.prefixlen:
            return range(self.slots)  # it holds the whole cluster CIDR
        first = (int(network.network_address) - self._base) >> self._shift
        last = (int(network.broadcast_address) - self._base) >> self._shift
        return range(first, last + 1)
