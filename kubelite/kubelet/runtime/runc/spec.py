"""The OCI runtime spec (runc's config.json) of a container, from its image config and
its CRI ContainerConfig.

A pure function of its inputs, with the shapes containerd's CRI plugin gives
(internal/cri/server/container_create_linux.go, pkg/oci/spec.go and spec_opts.go):

- args: a command replaces the image's Entrypoint and drops its Cmd; args alone
  replace Cmd (kuberuntime's and containerd's rule).
- env: HOSTNAME, then the image's Env, then the container's envs, a later key
  replacing an earlier one in place; PATH defaults as in containerd when nobody sets it.
- mounts: proc, /dev tmpfs, devpts, mqueue, sysfs and the cgroup filesystem
  read-only (writable when privileged), the pod's /dev/shm, /etc/hosts,
  /etc/hostname and /etc/resolv.conf from the sandbox (unless the container mounts
  those paths itself), then the CRI mounts as recursive binds with their
  propagation.
- capabilities: containerd's default set, with adds and drops ("ALL" in either);
  privileged is every capability the runtime itself has, no masked or read-only
  paths, every host device, and writable sysfs and cgroupfs.
- user: uid, gid and supplementary groups as resolved in the rootfs (users.py);
  no rlimits (the node's are inherited, as containerd's CRI plugin leaves them).
- namespaces: the sandbox's network, IPC and UTS namespaces by path (absent for
  the host's), a pid and a mount namespace of the container's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc.users import User

Spec = dict[str, Any]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# containerd's defaultUnixCaps (pkg/oci/spec.go), Docker's default set.
DEFAULT_CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

# Every capability Linux has (capability.h, through CAP_CHECKPOINT_RESTORE = 40).
ALL_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)  # fmt: skip

# containerd's defaultMaskedPaths and defaultReadonlyPaths (pkg/oci/spec.go), what the
# kubelet sends for procMount Default.
DEFAULT_MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    "/proc/scsi",
)
DEFAULT_READONLY_PATHS = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)

PROPAGATION_OPTION = {
    "PROPAGATION_PRIVATE": "rprivate",
    "PROPAGATION_HOST_TO_CONTAINER": "rslave",
    "PROPAGATION_BIDIRECTIONAL": "rshared",
}

_ENV_NAME = re.compile(r"^[^=]+$")


@dataclass(frozen=True, slots=True)
class SandboxView:
    """What a container takes from its pod's sandbox. A namespace path of None is the
    host's namespace (hostNetwork, hostIPC)."""

    net_path: str | None
    ipc_path: str | None
    uts_path: str | None
    hostname: str
    host_pid: bool = False
    sysctls: Mapping[str, str] = field(default_factory=dict)
    # container path -> host path: /etc/hosts, /etc/hostname, /etc/resolv.conf, /dev/shm
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Device:
    """A host device node, for a privileged container (containerd's HostDevices)."""

    path: str
    type: str  # "c" or "b"
    major: int
    minor: int
    file_mode: int
    uid: int
    gid: int


def process_args(
    command: Sequence[str], args: Sequence[str], image_config: Mapping[str, Any]
) -> list[str]:
    """The argv of the container (kuberuntime and containerd: a command replaces the
    Entrypoint and drops Cmd; args alone replace Cmd)."""
    entrypoint = list(image_config.get("Entrypoint") or [])
    cmd = list(image_config.get("Cmd") or [])
    if command:
        entrypoint, cmd = list(command), []
    if args:
        cmd = list(args)
    return entrypoint + cmd


def process_env(
    hostname: str, image_env: Sequence[str], envs: Sequence[tuple[str, str]]
) -> list[str]:
    """HOSTNAME, the image's Env, then the container's, later keys replacing earlier
    ones where they stood (containerd's WithEnv); PATH defaulted if nobody set it."""
    merged: dict[str, str] = {}
    if hostname:
        merged["HOSTNAME"] = hostname
    for entry in image_env:
        key, sep, value = entry.partition("=")
        if sep and _ENV_NAME.match(key):
            merged[key] = value
    for key, value in envs:
        merged[key] = value
    merged.setdefault("PATH", DEFAULT_PATH)
    return [f"{key}={value}" for key, value in merged.items()]


def capability_set(
    caps: cri.Capabilities, *, privileged: bool, available: Sequence[str] = ALL_CAPABILITIES
) -> list[str]:
    """containerd's default set with the pod spec's adds and drops; "ALL" adds (or
    drops) every one; a drop wins over an add of the same capability. "Every one" is
    what the runtime's own process has (`available`, containerd's
    WithAllCurrentCapabilities): a container cannot be given more than that."""
    if privileged:
        return list(available)

    def canonical(name: str) -> str:
        name = name.upper()
        return name if name.startswith("CAP_") else f"CAP_{name}"

    # containerd's order: ALL added, then ALL dropped, then the named adds and drops,
    # so that add ALL + drop CHOWN is everything but CHOWN, and drop ALL + add
    # NET_BIND_SERVICE is that one alone.
    adds = [canonical(c) for c in caps.add_capabilities]
    drops = {canonical(c) for c in caps.drop_capabilities}
    result = list(available) if "CAP_ALL" in adds else list(DEFAULT_CAPABILITIES)
    if "CAP_ALL" in drops:
        result = []
    result += [c for c in adds if c != "CAP_ALL" and c not in result]
    return [c for c in result if c not in drops]


def base_mounts(*, privileged: bool) -> list[Spec]:
    sys_options = ["nosuid", "noexec", "nodev", "ro" if not privileged else "rw"]
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": sys_options},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": [*sys_options, "relatime"]},
    ]  # fmt: skip


def cri_mounts(mounts: Sequence[cri.Mount]) -> tuple[list[Spec], str]:
    """The CRI mounts as recursive binds, and the rootfs propagation they need
    (containerd: rshared for a bidirectional mount, rslave for host-to-container)."""
    specs = []
    rootfs_propagation = ""
    for mount in mounts:
        propagation = PROPAGATION_OPTION.get(mount.propagation)
        if propagation is None:
            raise cri.CRIError(
                f"unknown mount propagation {mount.propagation!r} for {mount.container_path}",
                "CreateContainerConfigError",
            )
        if propagation == "rshared":
            rootfs_propagation = "rshared"
        elif propagation == "rslave" and rootfs_propagation != "rshared":
            rootfs_propagation = "rslave"
        options = ["rbind", propagation, "ro" if mount.readonly else "rw"]
        specs.append(
            {
                "destination": mount.container_path,
                "type": "bind",
                "source": mount.host_path,
                "options": options,
            }
        )
    return specs, rootfs_propagation


def sandbox_mounts(
    view: SandboxView, taken: set[str], *, readonly_rootfs: bool
) -> list[Spec]:
    """The pod's files (hosts, hostname, resolv.conf, shm), unless the container
    mounts that path itself; read-only with a read-only rootfs, as containerd."""
    specs = []
    for destination, source in sorted(view.files.items()):
        if destination in taken:
            continue
        options = ["rbind", "rprivate"]
        if destination == "/dev/shm":
            options.append("rw")
        else:
            options.append("ro" if readonly_rootfs else "rw")
        specs.append({"destination": destination, "type": "bind", "source": source, "options": options})
    return specs


def build_spec(
    *,
    config: cri.ContainerConfig,
    image_config: Mapping[str, Any],
    view: SandboxView,
    rootfs: str,
    user: User,
    cgroups_path: str,
    host_devices: Sequence[Device] = (),
    available_capabilities: Sequence[str] = ALL_CAPABILITIES,
) -> Spec:
    """The config.json of one container."""
    security = config.security_context
    privileged = security.privileged
    args = process_args(config.command, config.args, image_config)
    if not args:
        raise cri.CRIError("no command specified", "CreateContainerConfigError")
    cwd = config.working_dir or image_config.get("WorkingDir") or "/"
    capabilities = capability_set(
        security.capabilities, privileged=privileged, available=available_capabilities
    )
    process: Spec = {
        "terminal": config.tty,
        "user": {
            "uid": user.uid,
            "gid": user.gid,
            **({"additionalGids": list(user.additional_gids)} if user.additional_gids else {}),
        },
        "args": args,
        "env": process_env(view.hostname, image_config.get("Env") or (), config.envs),
        "cwd": cwd,
        "capabilities": {
            key: capabilities
            for key in ("bounding", "effective", "permitted")
        },
        "noNewPrivileges": security.no_new_privs,
        "oomScoreAdj": config.resources.oom_score_adj,
    }
    # No rlimits: the container inherits the node's, as containerd's CRI plugin leaves them.

    own_mounts, rootfs_propagation = cri_mounts(config.mounts)
    taken = {m["destination"] for m in own_mounts}
    mounts = [m for m in base_mounts(privileged=privileged) if m["destination"] not in taken]
    mounts += sandbox_mounts(view, taken, readonly_rootfs=security.readonly_rootfs)
    mounts += own_mounts

    namespaces: list[Spec] = [{"type": "mount"}]
    if not view.host_pid:
        namespaces.append({"type": "pid"})
    for kind, path in (("network", view.net_path), ("ipc", view.ipc_path), ("uts", view.uts_path)):
        if path is not None:
            namespaces.append({"type": kind, "path": path})

    resources: Spec = {"devices": [{"allow": privileged, "access": "rwm"}]}
    cpu: Spec = {}
    if config.resources.cpu_shares:
        cpu["shares"] = config.resources.cpu_shares
    if config.resources.cpu_quota:
        cpu["quota"] = config.resources.cpu_quota
    if config.resources.cpu_period:
        cpu["period"] = config.resources.cpu_period
    if cpu:
        resources["cpu"] = cpu
    if config.resources.memory_limit_in_bytes:
        resources["memory"] = {"limit": config.resources.memory_limit_in_bytes}

    linux: Spec = {
        "namespaces": namespaces,
        "resources": resources,
        "cgroupsPath": cgroups_path,
        "sysctl": dict(view.sysctls),
    }
    if not privileged:
        linux["maskedPaths"] = list(security.masked_paths or DEFAULT_MASKED_PATHS)
        linux["readonlyPaths"] = list(security.readonly_paths or DEFAULT_READONLY_PATHS)
    else:
        linux["devices"] = [
            {
                "path": d.path,
                "type": d.type,
                "major": d.major,
                "minor": d.minor,
                "fileMode": d.file_mode,
                "uid": d.uid,
                "gid": d.gid,
            }
            for d in host_devices
        ]
    if rootfs_propagation:
        linux["rootfsPropagation"] = rootfs_propagation

    spec: Spec = {
        "ociVersion": "1.0.2-dev",
        "process": process,
        "root": {"path": rootfs, "readonly": security.readonly_rootfs},
        "mounts": mounts,
        "linux": linux,
        "annotations": {
            "io.kubernetes.cri.container-name": config.metadata.name,
            **{k: v for k, v in config.annotations.items()},
        },
    }
    return spec
