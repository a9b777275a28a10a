"""What a kubelet says about its node (pkg/kubelet/nodestatus/setters.go,
kubelet_node_status.go): the host's facts, read once, and the Node built from them.

- capacity: the host's CPUs, memory (/proc/meminfo MemTotal), ephemeral-storage (the
  size of the filesystem under the kubelet's root dir), pods (maxPods, 110),
  hugepages 0.
- allocatable: capacity minus kube- and system-reserved and the hard eviction
  thresholds on memory.available and nodefs.available (--eviction-hard; upstream's
  defaults 100Mi and 10%).
- addresses: InternalIP (the configured node IP, else the host's source address for
  the default route, else 127.0.0.1) and Hostname.
- conditions: MemoryPressure, DiskPressure, PIDPressure with upstream's reasons, False
  (simulated/nodes.py holds the healthy set) unless the eviction manager reports the
  pressure (eviction/manager.py), and Ready: True, or False with reason
  KubeletNotReady when the runtime says it or its network is not ready.
- nodeInfo from /etc/machine-id, /proc/sys/kernel/random/boot_id, uname and
  /etc/os-release; containerRuntimeVersion from the runtime; images the runtime has.
"""

from __future__ import annotations

import datetime
import os
import platform
import socket
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelite.kubelet import cri
from kubelite.kubelet.config import KubeletConfig, data_dir_usable
from kubelite.kubelet.eviction.thresholds import (
    MEMORY_AVAILABLE, NODEFS_AVAILABLE, parse_thresholds)
from kubelite.kubelet.simulated.nodes import KUBELET_VERSION, conditions as healthy_conditions
from kubelite.kubelet.stats import read_meminfo
from kubelite.machinery.quantity import Quantity, parse_quantity
from kubelite.machinery.timestamps import format_time

Obj = dict[str, Any]

MAX_IMAGES = 50  # nodeStatusMaxImages
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
                 "s390x": "s390x", "riscv64": "riscv64"}


def _read(path: str, default: str = "") -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return default


def os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return "Linux"


def default_node_ip() -> str:
    """The address the host would reach the world from (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"
    return address if not address.startswith("127.") else "127.0.0.1"


@dataclass(frozen=True)
class HostFacts:
    cpus: int
    memory_bytes: int
    storage_bytes: int
    node_ip: str
    hostname: str
    architecture: str
    kernel: str
    os_image: str
    machine_id: str
    boot_id: str

    @classmethod
    def read(cls, config: KubeletConfig) -> HostFacts:
        stat = os.statvfs(data_dir_usable(config.root_dir))
        machine = platform.machine()
        return cls(cpus=os.cpu_count() or 1, memory_bytes=read_meminfo().get("MemTotal", 0),
                   storage_bytes=stat.f_blocks * stat.f_frsize,
                   node_ip=config.node_ip or default_node_ip(),
                   hostname=socket.gethostname(),
                   architecture=ARCHITECTURES.get(machine, machine),
                   kernel=platform.release(), os_image=os_image(),
                   machine_id=_read("/etc/machine-id"),
                   boot_id=_read("/proc/sys/kernel/random/boot_id"))


def capacity(facts: HostFacts, config: KubeletConfig) -> dict[str, str]:
    return {"cpu": str(facts.cpus), "memory": f"{facts.memory_bytes // 1024}Ki",
            "ephemeral-storage": f"{facts.storage_bytes // 1024}Ki",
            "pods": str(config.max_pods), "hugepages-1Gi": "0", "hugepages-2Mi": "0"}


def allocatable(facts: HostFacts, config: KubeletConfig) -> dict[str, str]:
    """capacity - kube-reserved - system-reserved - hard eviction threshold, at least 0."""
    cap = {name: parse_quantity(value) for name, value in capacity(facts, config).items()}
    reserved: dict[str, Quantity] = {}
    for name, value in (*config.kube_reserved, *config.system_reserved):
        reserved[name] = reserved.get(name, Quantity()) + parse_quantity(value)
    for threshold in parse_thresholds(config.eviction_hard):
        # hardEvictionReservation: memory.available and nodefs.available only
        resource = {MEMORY_AVAILABLE: "memory", NODEFS_AVAILABLE: "ephemeral-storage"}.get(
            threshold.signal)
        if resource is not None:
            line = threshold.quantity(cap[resource].value())
            reserved[resource] = reserved.get(resource, Quantity()) + Quantity.from_int(line)
    out = {}
    for name, amount in cap.items():
        left = amount - reserved.get(name, Quantity())
        out[name] = str(left if left.sign() > 0 else Quantity())
    return out


def ready_condition(runtime_conditions: list[cri.RuntimeCondition]) -> tuple[str, str, str]:
    """(status, reason, message) of Ready from the runtime's own conditions."""
    problems = []
    for condition in runtime_conditions:
        if condition.status:
            continue
        if condition.type == "RuntimeReady":
            problems.append("container runtime is down")
        else:
            problems.append(f"container runtime network not ready: {condition.type}=false "
                            f"reason:{condition.reason} message:{condition.message}")
    if problems:
        return "False", "KubeletNotReady", ", ".join(problems)
    return "True", "KubeletReady", "kubelet is posting ready status"


# a pressure condition True, as upstream's setters (MemoryPressureCondition...)
UNDER_PRESSURE = {
    "MemoryPressure": ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    "DiskPressure": ("KubeletHasDiskPressure", "kubelet has disk pressure"),
    "PIDPressure": ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
}


def node_conditions(runtime_conditions: list[cri.RuntimeCondition], old: list[Obj],
                    now: datetime.datetime, pressure: Collection[str] = ()) -> list[Obj]:
    """The four conditions, their transition times kept while the status holds;
    `pressure`: the eviction manager's conditions that are True now."""
    stamp = format_time(now)
    before = {c.get("type"): c for c in old if isinstance(c, dict)}
    out = []
    for condition in healthy_conditions(stamp, stamp):
        if condition["type"] == "Ready":
            status, reason, message = ready_condition(runtime_conditions)
            condition.update(status=status, reason=reason, message=message)
        elif condition["type"] in pressure:
            reason, message = UNDER_PRESSURE[condition["type"]]
            condition.update(status="True", reason=reason, message=message)
        prior = before.get(condition["type"])
        if prior is not None and prior.get("status") == condition["status"]:
            condition["lastTransitionTime"] = prior.get("lastTransitionTime", stamp)
        out.append(condition)
    return out


def node_images(images: list[cri.Image]) -> list[Obj]:
    ranked = sorted(images, key=lambda i: i.size, reverse=True)[:MAX_IMAGES]
    return [{"names": [*image.repo_digests, *image.repo_tags] or [image.id],
             "sizeBytes": image.size} for image in ranked]


def node_labels(config: KubeletConfig, architecture: str) -> dict[str, str]:
    return {"kubernetes.io/hostname": config.node_name, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": architecture, "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": architecture, **dict(config.labels)}


def node_status(facts: HostFacts, config: KubeletConfig, runtime: cri.RuntimeVersion,
                runtime_conditions: list[cri.RuntimeCondition], images: list[cri.Image],
                old_conditions: list[Obj], now: datetime.datetime,
                pressure: Collection[str] = ()) -> Obj:
    return {
        "capacity": capacity(facts, config),
        "allocatable": allocatable(facts, config),
        "conditions": node_conditions(runtime_conditions, old_conditions, now, pressure),
        "addresses": [{"type": "InternalIP", "address": facts.node_ip},
                      {"type": "Hostname", "address": facts.hostname}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": config.port}},
        "nodeInfo": {
            "machineID": facts.machine_id, "systemUUID": facts.machine_id,
            "bootID": facts.boot_id, "kernelVersion": facts.kernel,
            "osImage": facts.os_image,
            "containerRuntimeVersion": runtime.container_runtime_version,
            "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": "",
            "operatingSystem": "linux", "architecture": facts.architecture,
        },
        "images": node_images(images),
    }


def node_object(facts: HostFacts, config: KubeletConfig, status: Obj) -> Obj:
    """The Node registerWithAPIServer creates."""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": config.node_name,
                         "labels": node_labels(config, facts.architecture),
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
            "spec": {}, "status": status}


def without_heartbeats(status: Obj) -> Obj:
    """The status with its heartbeat times left out: what "changed" compares."""
    return {**status, "conditions": [{k: v for k, v in c.items() if k != "lastHeartbeatTime"}
                                     for c in status.get("conditions") or ()]}
