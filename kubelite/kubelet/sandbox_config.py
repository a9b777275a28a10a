"""A pod's sandbox as the runtime is asked for it (kuberuntime_sandbox.go
generatePodSandboxConfig, pkg/kubelet/network/dns/dns.go GetPodDNS).

DNS by dnsPolicy is network/dns.py's pod_dns_config (upstream's GetPodDNS, with its
limits), given the node's /etc/resolv.conf.

The sandbox carries the pod's labels and annotations plus upstream's
io.kubernetes.pod.{name,namespace,uid} labels, by which the kubelet finds its pods in
the runtime after a restart.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kubelite.api.qos import qos_class
from kubelite.kubelet import cri
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.network.dns import pod_dns_config

log = logging.getLogger(__name__)

Obj = dict[str, Any]

POD_NAME_LABEL = "io.kubernetes.pod.name"
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
POD_UID_LABEL = "io.kubernetes.pod.uid"
CONTAINER_NAME_LABEL = "io.kubernetes.container.name"


def node_resolv_conf(path: str = "/etc/resolv.conf") -> str | None:
    """The node's resolver settings as text (the kubelet's --resolv-conf), None when
    it has none."""
    try:
        return Path(path).read_text()
    except OSError:
        return None


def pod_dns(pod: Obj, config: KubeletConfig, node_resolv: str | None) -> cri.DNSConfig:
    """GetPodDNS (network/dns.py), with the kubelet's cluster DNS and domain; the
    warnings it has (too many servers or searches) go to the log."""
    dns, warnings = pod_dns_config(pod, cluster_dns=config.cluster_dns,
                                   cluster_domain=config.cluster_domain,
                                   node_resolv_conf=node_resolv)
    for warning in warnings:
        log.warning("pod %s/%s: %s", (pod.get("metadata") or {}).get("namespace"),
                    (pod.get("metadata") or {}).get("name"), warning)
    return dns


def pod_hostname(pod: Obj) -> str:
    spec = pod.get("spec") or {}
    return str(spec.get("hostname") or pod["metadata"]["name"])[:63].rstrip("-.")


def cgroup_parent(pod: Obj) -> str:
    """kubepods/pod<uid> for Guaranteed pods, else kubepods/<qos>/pod<uid>."""
    uid = pod["metadata"]["uid"]
    qos = qos_class(pod)
    if qos == "Guaranteed":
        return f"kubepods/pod{uid}"
    return f"kubepods/{qos.lower()}/pod{uid}"


def pod_labels(pod: Obj) -> dict[str, str]:
    meta = pod["metadata"]
    return {**(meta.get("labels") or {}), POD_NAME_LABEL: meta["name"],
            POD_NAMESPACE_LABEL: meta.get("namespace") or "default",
            POD_UID_LABEL: meta["uid"]}


def sandbox_config(pod: Obj, config: KubeletConfig, *, attempt: int = 0,
                   resolv_conf: str | None = None) -> cri.PodSandboxConfig:
    meta = pod["metadata"]
    spec = pod.get("spec") or {}
    namespace = meta.get("namespace") or "default"
    ports = []
    for container in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]:
        for port in container.get("ports") or ():
            if port.get("hostPort"):
                ports.append(cri.PortMapping(
                    container_port=int(port.get("containerPort") or 0),
                    protocol=str(port.get("protocol") or "TCP"),
                    host_port=int(port["hostPort"]), host_ip=str(port.get("hostIP") or "")))
    security = spec.get("securityContext") or {}
    aliases = tuple((str(a.get("ip", "")), tuple(str(h) for h in a.get("hostnames") or ()))
                    for a in spec.get("hostAliases") or () if a.get("ip"))
    return cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(meta["name"], namespace, meta["uid"], attempt),
        hostname="" if spec.get("hostNetwork") else pod_hostname(pod),
        log_directory=config.pod_log_dir(namespace, meta["name"], meta["uid"]),
        dns_config=pod_dns(pod, config,
                           resolv_conf if resolv_conf is not None else node_resolv_conf()),
        port_mappings=tuple(ports),
        labels=pod_labels(pod),
        annotations=dict(meta.get("annotations") or {}),
        cgroup_parent=cgroup_parent(pod),
        host_network=bool(spec.get("hostNetwork")),
        host_pid=bool(spec.get("hostPID")),
        host_ipc=bool(spec.get("hostIPC")),
        sysctls={str(s.get("name")): str(s.get("value", "")) for s in security.get("sysctls") or ()},
        host_aliases=aliases)
