"""What the kubelet asks of a container runtime, in the shapes of the CRI (k8s.io/cri-api v1).

Upstream's kubelet talks to containerd or CRI-O over gRPC with the messages of
api.proto; kubelite's kubelet talks to its runtimes (`runc`, `host`, and a `cri`
client of such a socket) through the two protocols here, RuntimeService and
ImageService, with the same operations and the same fields, as frozen dataclasses
instead of protobuf messages. Field names follow api.proto in snake case, and times
are nanoseconds since the epoch as there, so that a gRPC backend is a translation and
nothing more.

Where the CRI hands back a URL to a streaming server (Exec, Attach, PortForward), the
runtime here hands back the stream itself: the kubelet's own HTTPS server is the
streaming server, and it serves what these calls return (a StreamingProcess, or the
reader and writer of a connection inside the pod's network). A runtime with a
streaming server of its own (the `cri` client of containerd or CRI-O) is also a
StreamingURLs: the kubelet's server then passes the client's upgrade request on to
the URL the runtime answers, as upstream's kubelet does.

A pod's network is set up by a PodNetwork, as containerd calls a CNI plugin: the
runtime makes the sandbox's network namespace and hands its path to
`PodNetwork.setup`, which gives the pod its interface and addresses.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class CRIError(Exception):
    """A runtime call failed; `reason` is what the kubelet reports (as upstream's
    container waiting reasons: CreateContainerError, RunContainerError, ...)."""

    def __init__(self, message: str, reason: str = "RuntimeError") -> None:
        super().__init__(message)
        self.reason = reason


class NotFound(CRIError):
    """The sandbox, container or image named does not exist (gRPC NotFound)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "NotFound")


class ImagePullError(CRIError):
    """An image could not be pulled: `reason` is ErrImagePull, or ErrImageNeverPull,
    InvalidImageName, ... as the kubelet's image manager reports them."""


# ---------------------------------------------------------------------------
# Images


@dataclass(frozen=True)
class AuthConfig:
    """Credentials for one registry, as a kubernetes.io/dockerconfigjson Secret holds
    them (the kubelet picks the entry for the image's registry)."""

    username: str = ""
    password: str = ""
    auth: str = ""  # base64 of "username:password", as in a docker config
    identity_token: str = ""
    registry_token: str = ""


@dataclass(frozen=True)
class Image:
    """An image the node has. `id` is the config digest ("sha256:..."), what
    containerStatuses[].imageID reports as `repo_digests[0]` where there is one."""

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    size: int = 0  # bytes on disk, unpacked
    uid: int | None = None  # the image config's numeric User, if it is one
    username: str = ""  # the image config's User, if it is a name
    pinned: bool = False  # never garbage collected


@dataclass(frozen=True)
class FilesystemUsage:
    """ImageFsInfo: how much of the disk the images take."""

    mountpoint: str
    used_bytes: int
    inodes_used: int
    timestamp: int  # ns


class ImageService(Protocol):
    async def list_images(self) -> list[Image]: ...

    async def image_status(self, image: str) -> Image | None:
        """The image a reference (name:tag, name@digest or an id) names, or None."""
        ...

    async def pull_image(self, image: str, auth: AuthConfig | None = None) -> str:
        """Pulls `image` and returns its id. Raises ImagePullError."""
        ...

    async def remove_image(self, image: str) -> None: ...

    async def image_fs_info(self) -> FilesystemUsage: ...


# ---------------------------------------------------------------------------
# Pod sandboxes


class SandboxState(enum.Enum):
    READY = "SANDBOX_READY"
    NOTREADY = "SANDBOX_NOTREADY"


@dataclass(frozen=True)
class PodSandboxMetadata:
    name: str
    namespace: str
    uid: str
    attempt: int = 0


@dataclass(frozen=True)
class PortMapping:
    container_port: int
    protocol: str = "TCP"  # TCP, UDP, SCTP
    host_port: int = 0
    host_ip: str = ""


@dataclass(frozen=True)
class DNSConfig:
    """What goes into the pod's /etc/resolv.conf (the kubelet computes it from
    dnsPolicy and dnsConfig)."""

    servers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class PodSandboxConfig:
    metadata: PodSandboxMetadata
    hostname: str = ""
    # Directory under which the kubelet wants the containers' logs:
    # <root>/pods/<namespace>_<name>_<uid>; a container's log_path is relative to it.
    log_directory: str = ""
    dns_config: DNSConfig | None = None
    port_mappings: tuple[PortMapping, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    # LinuxPodSandboxConfig
    cgroup_parent: str = ""  # the pod's cgroup, relative to the runtime's cgroup root
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    sysctls: Mapping[str, str] = field(default_factory=dict)
    # /etc/hosts entries (pod.spec.hostAliases and the pod's own name), written by the runtime
    host_aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class PodSandboxStatus:
    id: str
    metadata: PodSandboxMetadata
    state: SandboxState
    created_at: int  # ns
    ips: tuple[str, ...] = ()  # the first is status.podIP; empty for host network
    host_network: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Containers


class ContainerState(enum.Enum):
    CREATED = "CONTAINER_CREATED"
    RUNNING = "CONTAINER_RUNNING"
    EXITED = "CONTAINER_EXITED"
    UNKNOWN = "CONTAINER_UNKNOWN"


@dataclass(frozen=True)
class ContainerMetadata:
    name: str
    attempt: int = 0


@dataclass(frozen=True)
class Mount:
    container_path: str
    host_path: str
    readonly: bool = False
    # PROPAGATION_PRIVATE, PROPAGATION_HOST_TO_CONTAINER, PROPAGATION_BIDIRECTIONAL
    propagation: str = "PROPAGATION_PRIVATE"


@dataclass(frozen=True)
class Resources:
    """LinuxContainerResources, as the kubelet computes them from requests and limits
    (pkg/kubelet/kuberuntime/kuberuntime_container_linux.go): 0 means unset."""

    cpu_period: int = 0  # µs
    cpu_quota: int = 0  # µs per period; limits.cpu
    cpu_shares: int = 0  # requests.cpu in shares (1024 per CPU, at least 2)
    memory_limit_in_bytes: int = 0
    oom_score_adj: int = 0


@dataclass(frozen=True)
class Capabilities:
    add_capabilities: tuple[str, ...] = ()  # "NET_ADMIN", "ALL", as in the pod spec
    drop_capabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityContext:
    """LinuxContainerSecurityContext, resolved by the kubelet from the pod's and the
    container's securityContext."""

    privileged: bool = False
    capabilities: Capabilities = Capabilities()
    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_username: str = ""
    supplemental_groups: tuple[int, ...] = ()
    readonly_rootfs: bool = False
    no_new_privs: bool = False
    masked_paths: tuple[str, ...] = ()
    readonly_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerConfig:
    metadata: ContainerMetadata
    image: str  # the image id (or reference) the kubelet pulled
    command: tuple[str, ...] = ()  # the entrypoint; empty: the image's
    args: tuple[str, ...] = ()  # empty with an empty command: the image's Cmd
    working_dir: str = ""
    envs: tuple[tuple[str, str], ...] = ()  # in order, after the image's Env
    mounts: tuple[Mount, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    log_path: str = ""  # relative to PodSandboxConfig.log_directory
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False
    resources: Resources = Resources()
    security_context: SecurityContext = SecurityContext()


@dataclass(frozen=True)
class ContainerStatus:
    id: str
    pod_sandbox_id: str
    metadata: ContainerMetadata
    state: ContainerState
    created_at: int  # ns
    started_at: int = 0  # ns; 0 until started
    finished_at: int = 0  # ns; 0 until exited
    exit_code: int = 0
    image: str = ""  # the reference the container was created with
    image_ref: str = ""  # the image id it runs (containerStatuses[].imageID)
    # why it exited: "Completed", "Error", "OOMKilled", or a runtime's own reason
    reason: str = ""
    message: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    log_path: str = ""  # absolute


@dataclass(frozen=True)
class ExecSyncResult:
    stdout: bytes
    stderr: bytes
    exit_code: int


class StreamingProcess(Protocol):
    """A process the kubelet's streaming server connects a client to (exec, attach).

    stdout carries everything when tty is on (a terminal has one output); stderr is
    None then. `wait` returns the exit code (attach: the container's, when it exits).
    """

    stdin: asyncio.StreamWriter | None
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader | None

    async def wait(self) -> int: ...

    def resize(self, width: int, height: int) -> None: ...

    async def kill(self) -> None: ...


@dataclass(frozen=True)
class ContainerStats:
    """ContainerStats, read from the container's cgroup (or its process, for host)."""

    id: str
    pod_sandbox_id: str
    name: str
    timestamp: int  # ns
    cpu_usage_core_nanoseconds: int = 0  # cumulative
    memory_working_set_bytes: int = 0
    memory_usage_bytes: int = 0
    memory_rss_bytes: int = 0
    writable_layer_used_bytes: int = 0


@dataclass(frozen=True)
class RuntimeVersion:
    runtime_name: str  # "runc", "host", "containerd"
    runtime_version: str
    runtime_api_version: str = "v1"

    @property
    def container_runtime_version(self) -> str:
        """What node.status.nodeInfo.containerRuntimeVersion says: "runc://1.1.5"."""
        return f"{self.runtime_name}://{self.runtime_version}"


@dataclass(frozen=True)
class RuntimeCondition:
    type: str  # "RuntimeReady", "NetworkReady"
    status: bool
    reason: str = ""
    message: str = ""


class RuntimeService(Protocol):
    async def version(self) -> RuntimeVersion: ...

    async def status(self) -> list[RuntimeCondition]: ...

    # sandboxes
    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        """Makes the pod's sandbox (its namespaces, its network through the PodNetwork)
        and returns its id."""
        ...

    async def stop_pod_sandbox(self, pod_sandbox_id: str) -> None:
        """Stops every container of the sandbox (at once, SIGKILL: the kubelet stopped
        them gracefully before) and tears its network down. Idempotent."""
        ...

    async def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        """Removes the sandbox and its containers. Idempotent: a missing one is no error."""
        ...

    async def pod_sandbox_status(self, pod_sandbox_id: str) -> PodSandboxStatus: ...

    async def list_pod_sandboxes(self) -> list[PodSandboxStatus]: ...

    # containers
    async def create_container(
        self, pod_sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str: ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, timeout: float) -> None:
        """SIGTERM (or the image's StopSignal), SIGKILL after `timeout` seconds.
        Idempotent on a container that has exited."""
        ...

    async def remove_container(self, container_id: str) -> None: ...

    async def container_status(self, container_id: str) -> ContainerStatus: ...

    async def list_containers(self, pod_sandbox_id: str | None = None) -> list[ContainerStatus]: ...

    # streaming
    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: float
    ) -> ExecSyncResult:
        """Runs cmd in the container and waits (exec probes, lifecycle hooks).
        A timeout kills it and raises CRIError with reason "Timeout"."""
        ...

    async def exec(
        self, container_id: str, cmd: Sequence[str], *, tty: bool, stdin: bool
    ) -> StreamingProcess: ...

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> StreamingProcess: ...

    async def port_forward(
        self, pod_sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP connection to `port` on localhost inside the pod's network."""
        ...

    # stats
    async def container_stats(self, container_id: str) -> ContainerStats: ...

    async def list_container_stats(self) -> list[ContainerStats]: ...


@runtime_checkable
class StreamingURLs(Protocol):
    """A runtime that serves exec, attach and port-forward from a streaming server of
    its own: each call answers the URL of one session there (CRI's ExecResponse.url
    and the like), to which the kubelet's server proxies the client's upgrade."""

    async def exec_url(self, container_id: str, cmd: Sequence[str], *, tty: bool,
                       stdin: bool, stdout: bool = True, stderr: bool = True) -> str: ...

    async def attach_url(self, container_id: str, *, tty: bool, stdin: bool,
                         stdout: bool = True, stderr: bool = True) -> str: ...

    async def port_forward_url(self, pod_sandbox_id: str, ports: Sequence[int] = ()) -> str: ...


# ---------------------------------------------------------------------------
# Pod networks (a CNI plugin's part)


@dataclass(frozen=True)
class PodNetworkResult:
    ips: tuple[str, ...]  # the pod's addresses, IPv4 first
    gateway: str = ""
    interface: str = "eth0"


class PodNetwork(Protocol):
    async def setup(self, sandbox_id: str, netns_path: str, config: PodSandboxConfig) -> PodNetworkResult:
        """Gives the network namespace at `netns_path` its interface, an address from
        the node's podCIDR and its routes. Idempotent for one sandbox id."""
        ...

    async def teardown(self, sandbox_id: str, netns_path: str) -> None:
        """Releases the sandbox's address and removes its interface. Idempotent."""
        ...

    async def status(self) -> RuntimeCondition:
        """NetworkReady: whether pods can get a network now (the node has a podCIDR)."""
        ...
