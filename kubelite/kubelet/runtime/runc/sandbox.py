"""A pod sandbox on the node: its namespaces and the files its containers mount.

The network, IPC and UTS namespaces the pod's containers share are made once, by
`unshare --net=FILE --ipc=FILE --uts=FILE hostname NAME`, which bind-mounts each new
namespace on a file in the sandbox's directory (as `ip netns add` does) and sets the
pod's hostname inside the new UTS namespace. A bind mount keeps a namespace alive
with no process in it, so a pod has no pause container: nothing to start, nothing
that can die, no image to carry; containers join the namespaces by path in their
config.json. hostNetwork pods share the node's network and UTS namespaces, hostIPC
the node's IPC namespace; none is made for them.

The pod's /etc/hosts, /etc/hostname and /etc/resolv.conf are written here as the
kubelet and containerd write them (pkg/kubelet/kubelet_pods.go's managed hosts
file; dnsConfig rendered by the kubelet's dns configurer), and the pod's /dev/shm is
a 64 MiB tmpfs (containerd's default) shared by its containers like its IPC
namespace.
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.network import dns
from kubelite.kubelet.network.netns import call_in_netns
from kubelite.kubelet.runtime.runc import mounts
from kubelite.kubelet.runtime.runc.spec import SandboxView

SHM_SIZE = 64 * 1024 * 1024
NAMESPACES = ("net", "ipc", "uts")


def namespace_path(sandbox_dir: Path, kind: str) -> Path:
    return sandbox_dir / "ns" / kind


async def make_namespaces(
    sandbox_dir: Path, *, kinds: Sequence[str], hostname: str
) -> dict[str, str]:
    """Makes the persistent namespaces named in `kinds` ("net", "ipc", "uts") and
    returns their paths; the network namespace gets its loopback up."""
    if not kinds:
        return {}
    (sandbox_dir / "ns").mkdir(exist_ok=True)
    paths = {kind: namespace_path(sandbox_dir, kind) for kind in kinds}
    for path in paths.values():
        path.touch()
    command = ["unshare", *(f"--{kind}={path}" for kind, path in paths.items())]
    command += ["hostname", hostname] if "uts" in paths else ["true"]
    proc = await asyncio.create_subprocess_exec(
        *command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        remove_namespaces(sandbox_dir)
        raise cri.CRIError(f"making the pod's namespaces: {err.decode(errors='replace').strip()}")
    if "net" in paths:
        await call_in_netns(str(paths["net"]), lambda: bring_up("lo"))
    return {kind: str(path) for kind, path in paths.items()}


SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def bring_up(interface: str) -> None:
    """Sets IFF_UP on an interface of the calling thread's namespace (SIOCSIFFLAGS,
    as `ip link set lo up`; an ioctl, where a netlink socket would be more to open)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", interface.encode(), 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", interface.encode(), flags | IFF_UP))


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def remove_namespaces(sandbox_dir: Path) -> None:
    for kind in NAMESPACES:
        mounts.unmount(namespace_path(sandbox_dir, kind))


def namespaces_alive(sandbox_dir: Path, config: cri.PodSandboxConfig) -> bool:
    """Whether the pod's namespaces are still mounted (a reboot unmounts them)."""
    if config.host_network and config.host_ipc:
        return True
    return bool(mounts.mounted_under(sandbox_dir / "ns"))


def mount_shm(sandbox_dir: Path) -> Path:
    shm = sandbox_dir / "shm"
    shm.mkdir(exist_ok=True)
    if not mounts.mounted_under(shm):
        mounts.mount_tmpfs(shm, size=SHM_SIZE)
    return shm


def pod_hostname(config: cri.PodSandboxConfig) -> str:
    if config.host_network:
        return socket.gethostname()
    return config.hostname or config.metadata.name


def write_pod_files(
    sandbox_dir: Path, config: cri.PodSandboxConfig, ips: Sequence[str]
) -> dict[str, str]:
    """Writes hosts, hostname and resolv.conf; returns container path -> host path.
    A hostNetwork pod gets the node's own /etc/hosts (as upstream's kubelet copies
    it); a pod without a DNS config the node's /etc/resolv.conf."""
    hostname = pod_hostname(config)
    hosts = sandbox_dir / "hosts"
    if config.host_network:
        hosts.write_text(dns.host_network_hosts_file(_read("/etc/hosts"), config.host_aliases))
    else:
        hosts.write_text(dns.hosts_file(ips, hostname, host_aliases=config.host_aliases))
    (sandbox_dir / "hostname").write_text(hostname + "\n")
    resolv = sandbox_dir / "resolv.conf"
    resolv.write_text(dns.resolv_conf(config.dns_config, _read("/etc/resolv.conf")))
    return {
        "/etc/hosts": str(hosts),
        "/etc/hostname": str(sandbox_dir / "hostname"),
        "/etc/resolv.conf": str(resolv),
    }


def container_view(sandbox_dir: Path, config: cri.PodSandboxConfig) -> SandboxView:
    """What the pod's containers join and mount."""
    return SandboxView(
        net_path=None if config.host_network else str(namespace_path(sandbox_dir, "net")),
        ipc_path=None if config.host_ipc else str(namespace_path(sandbox_dir, "ipc")),
        uts_path=None if config.host_network else str(namespace_path(sandbox_dir, "uts")),
        hostname=pod_hostname(config),
        host_pid=config.host_pid,
        sysctls=config.sysctls,
        files={
            "/etc/hosts": str(sandbox_dir / "hosts"),
            "/etc/hostname": str(sandbox_dir / "hostname"),
            "/etc/resolv.conf": str(sandbox_dir / "resolv.conf"),
            "/dev/shm": "/dev/shm" if config.host_ipc else str(sandbox_dir / "shm"),
        },
    )
