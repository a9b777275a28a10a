"""The knobs of the node loops (nodelifecycle, taint-eviction-controller, nodeipam),
upstream's kube-controller-manager flags of the same names, with their defaults.

The manager hands one `NodeSettings` to every loop through the LoopContext; tests give
short periods and an injected clock."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from kubelite.controllers.clock import Clock, utc_now

DEFAULT_CLUSTER_CIDR = "10.42.0.0/16"  # k3s's, as kubelite serves
DEFAULT_NODE_CIDR_MASK_IPV4 = 24
DEFAULT_NODE_CIDR_MASK_IPV6 = 64


@dataclass(frozen=True, slots=True)
class NodeSettings:
    monitor_period: float = 5.0  # --node-monitor-period: how often every node is looked at
    monitor_grace_period: float = 40.0  # --node-monitor-grace-period
    startup_grace_period: float = 60.0  # --node-startup-grace-period
    cluster_cidrs: tuple[str, ...] = (DEFAULT_CLUSTER_CIDR,)  # --cluster-cidr, comma-separated
    node_cidr_mask_ipv4: int = DEFAULT_NODE_CIDR_MASK_IPV4  # --node-cidr-mask-size(-ipv4)
    node_cidr_mask_ipv6: int = DEFAULT_NODE_CIDR_MASK_IPV6  # --node-cidr-mask-size-ipv6
    clock: Clock = field(default=utc_now, compare=False)

    def __post_init__(self) -> None:
        # Bad flags stop the command with the flag's words, before anything runs.
        for name, value in (("--node-monitor-period", self.monitor_period),
                            ("--node-monitor-grace-period", self.monitor_grace_period),
                            ("--node-startup-grace-period", self.startup_grace_period)):
            if value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        if not 1 <= len(self.cluster_cidrs) <= 2:
            raise ValueError(f"--cluster-cidr takes one CIDR or a dual-stack pair, not "
                             f"{','.join(self.cluster_cidrs) or 'none'}")
        families = set()
        for cidr in self.cluster_cidrs:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as err:
                raise ValueError(f"--cluster-cidr: {err}") from None
            mask = self.node_mask(network.version)
            if not network.prefixlen <= mask <= network.max_prefixlen:
                raise ValueError(f"--node-cidr-mask-size /{mask} does not fit in {cidr}")
            if mask - network.prefixlen > 16:
                # upstream's clusterSubnetMaxDiff: at most 65536 node CIDRs a cluster CIDR
                raise ValueError(f"--node-cidr-mask-size /{mask} cuts {cidr} into more "
                                 f"than 65536 node CIDRs")
            families.add(network.version)
        if len(families) != len(self.cluster_cidrs):
            raise ValueError("--cluster-cidr: a dual-stack pair needs one IPv4 and one "
                             "IPv6 CIDR")

    def node_mask(self, version: int) -> int:
        return self.node_cidr_mask_ipv4 if version == 4 else self.node_cidr_mask_ipv6
