"""What the runtime keeps on disk per sandbox and container, so that a kubelet that
restarts (or crashed) finds its pods again.

Layout under the runtime's root (`<data-dir>/agent/runc/`):

    runc/                          runc's own --root (its state.json per container)
    sandboxes/<id>/sandbox.json    SandboxRecord
    sandboxes/<id>/ns/{net,ipc,uts}  the pod's namespaces, bind-mounted (persistent)
    sandboxes/<id>/{hosts,hostname,resolv.conf}, shm/  what each container mounts
    containers/<id>/container.json ContainerRecord
    containers/<id>/{bundle/config.json, bundle/rootfs, upper, work}  overlay and spec
    containers/<id>/{stdin,stdout,stderr}  FIFOs: the container's stdio

A record is rewritten whole, through a temporary file and a rename, so a crash leaves
the old one or the new one and never half of either.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from kubelite.kubelet import cri


@dataclasses.dataclass(slots=True)
class SandboxRecord:
    id: str
    config: cri.PodSandboxConfig
    created_at: int
    state: cri.SandboxState = cri.SandboxState.READY
    ips: tuple[str, ...] = ()
    netns: str = ""  # the namespace file; "" with the host's network
    network_ready: bool = False  # PodNetwork.setup succeeded; teardown owed


@dataclasses.dataclass(slots=True)
class ContainerRecord:
    id: str
    sandbox_id: str
    metadata: cri.ContainerMetadata
    image: str
    created_at: int
    log_path: str = ""  # absolute; "" when the kubelet gave none
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    stop_signal: str = "SIGTERM"
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False
    host_pid: bool = False
    state: cri.ContainerState = cri.ContainerState.CREATED
    pid: int = 0
    started_at: int = 0
    finished_at: int = 0
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    cgroups_path: str = ""  # as in config.json
    # controller -> directory, from runc's state.json ("" is cgroup v2's one hierarchy)
    cgroup_paths: dict[str, str] = dataclasses.field(default_factory=dict)


def sandbox_config_to_json(config: cri.PodSandboxConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def sandbox_config_from_json(data: dict[str, Any]) -> cri.PodSandboxConfig:
    dns = data.get("dns_config")
    return cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(**data["metadata"]),
        hostname=data.get("hostname", ""),
        log_directory=data.get("log_directory", ""),
        dns_config=cri.DNSConfig(
            servers=tuple(dns["servers"]),
            searches=tuple(dns["searches"]),
            options=tuple(dns["options"]),
        )
        if dns
        else None,
        port_mappings=tuple(cri.PortMapping(**p) for p in data.get("port_mappings", ())),
        labels=dict(data.get("labels", {})),
        annotations=dict(data.get("annotations", {})),
        cgroup_parent=data.get("cgroup_parent", ""),
        host_network=data.get("host_network", False),
        host_pid=data.get("host_pid", False),
        host_ipc=data.get("host_ipc", False),
        sysctls=dict(data.get("sysctls", {})),
        host_aliases=tuple((ip, tuple(names)) for ip, names in data.get("host_aliases", ())),
    )


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def save_sandbox(path: Path, record: SandboxRecord) -> None:
    write_json(
        path,
        {
            "id": record.id,
            "config": sandbox_config_to_json(record.config),
            "created_at": record.created_at,
            "state": record.state.value,
            "ips": list(record.ips),
            "netns": record.netns,
            "network_ready": record.network_ready,
        },
    )


def load_sandbox(path: Path) -> SandboxRecord:
    data = json.loads(path.read_text())
    return SandboxRecord(
        id=data["id"],
        config=sandbox_config_from_json(data["config"]),
        created_at=data["created_at"],
        state=cri.SandboxState(data["state"]),
        ips=tuple(data["ips"]),
        netns=data["netns"],
        network_ready=data["network_ready"],
    )


def save_container(path: Path, record: ContainerRecord) -> None:
    data = dataclasses.asdict(record)
    data["state"] = record.state.value
    write_json(path, data)


def load_container(path: Path) -> ContainerRecord:
    data = json.loads(path.read_text())
    data["metadata"] = cri.ContainerMetadata(**data["metadata"])
    data["state"] = cri.ContainerState(data["state"])
    return ContainerRecord(**data)


def sandbox_status(record: SandboxRecord) -> cri.PodSandboxStatus:
    return cri.PodSandboxStatus(
        id=record.id,
        metadata=record.config.metadata,
        state=record.state,
        created_at=record.created_at,
        ips=record.ips,
        host_network=record.config.host_network,
        labels=record.config.labels,
        annotations=record.config.annotations,
    )


def container_status(record: ContainerRecord) -> cri.ContainerStatus:
    return cri.ContainerStatus(
        id=record.id,
        pod_sandbox_id=record.sandbox_id,
        metadata=record.metadata,
        state=record.state,
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        exit_code=record.exit_code,
        image=record.image,
        image_ref=record.image,
        reason=record.reason,
        message=record.message,
        labels=record.labels,
        annotations=record.annotations,
        log_path=record.log_path,
    )
