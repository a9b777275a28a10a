"""KubeletConfig: what one kubelet is told (upstream's KubeletConfiguration, the parts
kubelite's kubelet reads).

Defaults are upstream's: node lease 40 s renewed every 10 s, node status checked every
10 s and reported every 5 min when unchanged, 110 pods, crash-loop and image-pull
back-off from 10 s doubling to 5 min, cluster DNS at the service CIDR's tenth address
(10.43.0.10 for kubelite's default 10.43.0.0/16) and domain cluster.local. Tests shorten
the intervals and back-offs; nothing here is read from the environment.
"""

from __future__ import annotations

import datetime
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kubelite.kubelet.eviction.thresholds import DEFAULT_HARD

Clock = Callable[[], datetime.datetime]


def wall_clock() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def default_node_name() -> str:
    """The host name in lower case, as the kubelet's --hostname-override default."""
    return socket.gethostname().lower()


@dataclass(frozen=True)
class KubeletConfig:
    node_name: str = field(default_factory=default_node_name)
    # pods/<uid> (volumes), logs/pods/<ns>_<name>_<uid> (container logs), runtime/
    root_dir: Path = Path("/var/lib/kubelite/agent")
    node_ip: str = ""  # "" : the first non-loopback IPv4 of the host, else 127.0.0.1
    port: int = 10250  # daemonEndpoints.kubeletEndpoint.Port
    labels: tuple[tuple[str, str], ...] = ()  # --node-labels
    cluster_dns: tuple[str, ...] = ("10.43.0.10",)
    cluster_domain: str = "cluster.local"
    # the pod network's blackholed and routed ranges (kubelite server's --cluster-cidr
    # and --service-cidr)
    cluster_cidr: str = "10.42.0.0/16"
    service_cidr: str = "10.43.0.0/16"
    # the node's pod bridge (--bridge-name): one name per node sharing a network
    # namespace, so clusters side by side on one host keep apart
    bridge_name: str = "kubelite0"
    max_pods: int = 110
    # the CRI socket the `cri` runtime talks to (upstream's --container-runtime-endpoint)
    container_runtime_endpoint: str = "unix:///run/containerd/containerd.sock"
    # allocatable = capacity - reserved - the hard eviction thresholds
    system_reserved: tuple[tuple[str, str], ...] = ()
    kube_reserved: tuple[tuple[str, str], ...] = ()
    # the eviction manager (eviction/): the --eviction-* flags' texts, upstream's defaults
    eviction_hard: str = DEFAULT_HARD
    eviction_soft: str = ""
    eviction_soft_grace_period: str = ""
    eviction_minimum_reclaim: str = ""
    eviction_max_pod_grace_period: float = 0.0
    eviction_pressure_transition_period: float = 300.0
    eviction_monitoring_interval: float = 10.0  # upstream's evictionMonitoringPeriod
    lease_duration_seconds: int = 40
    lease_renew_interval: float = 10.0  # a quarter of the lease duration
    node_status_update_frequency: float = 10.0  # how often the status is computed
    node_status_report_frequency: float = 300.0  # posted this often when unchanged
    crashloop_backoff_initial: float = 10.0
    crashloop_backoff_max: float = 300.0
    image_backoff_initial: float = 10.0
    image_backoff_max: float = 300.0
    # how often a pod is synced when nothing happened (upstream's syncFrequency is 1 min);
    # exits are noticed by the relist, back-offs and deadlines schedule their own pass
    pod_resync_interval: float = 10.0
    housekeeping_interval: float = 2.0
    # how often the runtime is listed for containers that changed (upstream PLEG: 1 s)
    relist_interval: float = 1.0
    # retry of a pod whose volumes or sandbox could not be set up
    volume_retry_interval: float = 2.0
    # The longest a pod's containers get to stop when the node itself stops (the
    # pod's own grace period, capped; upstream's shutdownGracePeriod): a stopping
    # server or agent must not wait out 30 s for a process that ignores SIGTERM.
    shutdown_grace: float = 5.0
    clock: Clock = wall_clock

    def pod_log_dir(self, namespace: str, name: str, uid: str) -> str:
        """As upstream's /var/log/pods/<namespace>_<name>_<uid>."""
        return str(self.root_dir / "logs" / "pods" / f"{namespace}_{name}_{uid}")

    @property
    def pods_dir(self) -> Path:
        """Where the pods' volumes live (<pods dir>/<uid>), as upstream's
        /var/lib/kubelet/pods."""
        return self.root_dir / "pods"


def data_dir_usable(path: Path) -> Path:
    """The nearest existing ancestor of `path`, whose filesystem the node reports
    as ephemeral-storage before the directory exists."""
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current if os.access(current, os.R_OK) else Path("/")
