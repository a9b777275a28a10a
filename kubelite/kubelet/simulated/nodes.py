"""What a simulated node says about itself: its Node object, conditions and Lease.

The shapes follow upstream's kubelet: pkg/kubelet/nodestatus/setters.go (addresses,
capacity and allocatable, nodeInfo, daemonEndpoints, the four conditions with their
reasons and messages) and pkg/kubelet/nodelease (a Lease in kube-node-lease named
after the node, owned by it, held by it for 40 s). Everything here is pure: given a
node's index, the configuration and a moment, it builds dicts; the heartbeat and the
simulator send them.

Addressing: node i gets the i-th /24 (`node_cidr_mask`) of the cluster CIDR as its
spec.podCIDR, and the InternalIP 198.18.0.0 + i + 1 from the benchmarking block of
RFC 2544, which no real host uses, so a proxied log/exec request can never reach
another machine's kubelet.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from kubelite.api.annotations import KUBELET_URL
from kubelite.kubelet import node_lease
from kubelite.machinery.timestamps import format_time

Obj = dict[str, Any]

# The version the API server reports at /version (a test holds them equal): kubectl
# shows it in `get nodes`, and skew checks read it.
KUBELET_VERSION = "v1.35.0+kubelite.1"
NODE_LEASE_NAMESPACE = node_lease.NODE_LEASE_NAMESPACE
LEASE_DURATION_SECONDS = 40  # kubelet's nodeLeaseDurationSeconds
RENEW_INTERVAL_FRACTION = 0.25  # nodelease.renewIntervalFraction: renew every 10 s
STATUS_REPORT_FREQUENCY = 300.0  # nodeStatusReportFrequency: 5 min
KUBELET_PORT = 10250
ZONES = ("zone-a", "zone-b", "zone-c")
SIMULATED_LABEL = ("type", "kubelite-simulated")
NODE_ADDRESS_BASE = ipaddress.IPv4Address("198.18.0.0")
RUNTIME_VERSION = "simulated://1"


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """How many nodes, what they are called, and what each one offers."""

    count: int = 0
    name_prefix: str = "sim-"
    cpu: str = "32"
    memory: str = "256Gi"
    pods: str = "110"
    ephemeral_storage: str = "100Gi"
    architecture: str = "amd64"
    cluster_cidr: str = "10.42.0.0/16"
    node_cidr_mask: int = 24
    lease_duration_seconds: int = LEASE_DURATION_SECONDS
    renew_interval: float = LEASE_DURATION_SECONDS * RENEW_INTERVAL_FRACTION
    status_report_frequency: float = STATUS_REPORT_FREQUENCY
    extra_labels: tuple[tuple[str, str], ...] = field(default=())
    # http://host:port of the shared kubelet endpoint (endpoint.py); "" advertises none
    kubelet_endpoint: str = ""

    def __post_init__(self) -> None:
        # Bad flags fail before anything is registered, with the flag's own words.
        if self.count < 0:
            raise ValueError(f"node count must be >= 0, not {self.count}")
        network = ipaddress.ip_network(self.cluster_cidr, strict=True)
        if not isinstance(network, ipaddress.IPv4Network):
            raise ValueError(f"cluster CIDR {self.cluster_cidr} is not IPv4")
        if not network.prefixlen <= self.node_cidr_mask <= 30:
            raise ValueError(f"node CIDR mask /{self.node_cidr_mask} does not fit in "
                             f"{self.cluster_cidr}")
        available = 1 << (self.node_cidr_mask - network.prefixlen)
        if self.count > available:
            raise ValueError(f"{self.cluster_cidr} holds only {available} /"
                             f"{self.node_cidr_mask} pod CIDRs for {self.count} nodes; "
                             f"give a larger cluster CIDR")
        if self.renew_interval <= 0 or self.status_report_frequency <= 0:
            raise ValueError("renew interval and status report frequency must be > 0")

    def name(self, index: int) -> str:
        return f"{self.name_prefix}{index}"

    def index_of(self, name: str) -> int | None:
        """The index of one of these nodes' names, None for any other name."""
        if not name.startswith(self.name_prefix):
            return None
        digits = name[len(self.name_prefix):]
        if not digits.isdigit() or (digits != "0" and digits.startswith("0")):
            return None
        index = int(digits)
        return index if index < self.count else None

    def pod_cidr(self, index: int) -> ipaddress.IPv4Network:
        network = ipaddress.IPv4Network(self.cluster_cidr)
        size = 1 << (32 - self.node_cidr_mask)
        return ipaddress.IPv4Network(
            (int(network.network_address) + index * size, self.node_cidr_mask))

    def capacity(self) -> Obj:
        return {"cpu": self.cpu, "memory": self.memory, "pods": self.pods,
                "ephemeral-storage": self.ephemeral_storage,
                "hugepages-1Gi": "0", "hugepages-2Mi": "0"}


def node_address(index: int) -> str:
    return str(NODE_ADDRESS_BASE + index + 1)


def conditions(heartbeat: str, transition: str) -> list[Obj]:
    """The four conditions a healthy kubelet reports, in its order (setters.go)."""
    def condition(type_: str, status: str, reason: str, message: str) -> Obj:
        return {"type": type_, "status": status, "lastHeartbeatTime": heartbeat,
                "lastTransitionTime": transition, "reason": reason, "message": message}
    return [
        condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                  "kubelet has sufficient memory available"),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                  "kubelet has no disk pressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID",
                  "kubelet has sufficient PID available"),
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]


def node_object(config: NodeConfig, index: int, now: datetime.datetime) -> Obj:
    """The Node a simulated kubelet registers (registerWithAPIServer's initialNode
    with its status set)."""
    name = config.name(index)
    stamp = format_time(now)
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": config.architecture,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": config.architecture,
        "topology.kubernetes.io/zone": ZONES[index % len(ZONES)],
        SIMULATED_LABEL[0]: SIMULATED_LABEL[1],
        **dict(config.extra_labels),
    }
    cidr = str(config.pod_cidr(index))
    capacity = config.capacity()
    annotations = {"node.alpha.kubernetes.io/ttl": "0"}
    if config.kubelet_endpoint:
        annotations[KUBELET_URL] = f"{config.kubelet_endpoint}/nodes/{name}"
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),  # nothing reserved for a process that isn't
            "conditions": conditions(stamp, stamp),
            "addresses": [{"type": "InternalIP", "address": node_address(index)},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": KUBELET_PORT}},
            "nodeInfo": {
                "machineID": f"{index:032x}", "systemUUID": f"sim-{index:08d}",
                "bootID": f"sim-boot-{index:08d}", "kernelVersion": "simulated",
                "osImage": "kubelite simulated node", "containerRuntimeVersion": RUNTIME_VERSION,
                "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": "",
                "operatingSystem": "linux", "architecture": config.architecture,
            },
        },
    }


def heartbeat_patch(now: datetime.datetime, *, recovered: bool = False) -> Obj:
    """The status patch of a periodic report: the healthy conditions with a new
    lastHeartbeatTime. Conditions merge by type, so transition times stay put, unless
    the node is `recovered` from silence (the node lifecycle loop made them Unknown
    meanwhile), when they transition now."""
    stamp = format_time(now)
    keep = ("type", "status", "reason", "message", "lastHeartbeatTime") + (
        ("lastTransitionTime",) if recovered else ())
    return {"status": {"conditions": [
        {key: c[key] for key in keep} for c in conditions(stamp, stamp)]}}


def lease_object(config: NodeConfig, name: str, node_uid: str,
                 now: datetime.datetime) -> Obj:
    """The node's Lease (nodelease controller's newLease)."""
    return node_lease.lease_object(name, node_uid, config.lease_duration_seconds, now)
