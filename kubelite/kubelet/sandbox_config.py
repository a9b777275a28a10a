"""A pod's sandbox as the runtime is asked for it (kuberuntime_sandbox.go
generatePodSandboxConfig, pkg/kubelet/network/dns/dns.go GetPodDNS).

DNS by dnsPolicy:
- ClusterFirst (the default): the cluster DNS servers, searches `<ns>.svc.<domain>`,
  `svc.<domain>`, `<domain>` then the host's, option ndots:5. A hostNetwork pod with
  ClusterFirst gets the host's resolv.conf instead, as upstream.
- ClusterFirstWithHostNet: the cluster's, hostNetwork or not.
- Default: the host's /etc/resolv.conf.
- None: only what dnsConfig says.
dnsConfig's nameservers and searches are then appended (duplicates dropped) and its
options replace those of the same name.

The sandbox carries the pod's labels and annotations plus upstream's
io.kubernetes.pod.{name,namespace,uid} labels, by which the kubelet finds its pods in
the runtime after a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kubelite.api.qos import qos_class
from kubelite.kubelet import cri
from kubelite.kubelet.config import KubeletConfig

Obj = dict[str, Any]

POD_NAME_LABEL = "io.kubernetes.pod.name"
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
POD_UID_LABEL = "io.kubernetes.pod.uid"
CONTAINER_NAME_LABEL = "io.kubernetes.container.name"
NDOTS = "ndots:5"


def host_resolv_conf(path: str = "/etc/resolv.conf") -> cri.DNSConfig:
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    try:
        text = Path(path).read_text()
    except OSError:
        return cri.DNSConfig()
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            searches = words[1:]
        elif words[0] == "options":
            options += words[1:]
    return cri.DNSConfig(tuple(servers), tuple(searches), tuple(options))


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _merge_options(base: Sequence[str], extra: Sequence[Obj]) -> tuple[str, ...]:
    merged: dict[str, str] = {}
    for option in base:
        merged[option.partition(":")[0]] = option
    for entry in extra:
        name = str(entry.get("name") or "")
        if name:
            value = entry.get("value")
            merged[name] = f"{name}:{value}" if value not in (None, "") else name
    return tuple(merged.values())


def pod_dns(pod: Obj, config: KubeletConfig, host: cri.DNSConfig) -> cri.DNSConfig:
    spec = pod.get("spec") or {}
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "ClusterFirst" and spec.get("hostNetwork"):
        policy = "Default"
    domain = config.cluster_domain
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet") and config.cluster_dns:
        servers: tuple[str, ...] = config.cluster_dns
        searches: tuple[str, ...] = (f"{namespace}.svc.{domain}", f"svc.{domain}", domain,
                                     *host.searches)
        options: tuple[str, ...] = (NDOTS,)
    elif policy == "None":
        servers, searches, options = (), (), ()
    else:  # Default, or a cluster-first pod on a node without cluster DNS
        servers, searches, options = host.servers, host.searches, host.options
    extra = spec.get("dnsConfig") or {}
    return cri.DNSConfig(
        servers=_unique([*servers, *(extra.get("nameservers") or ())]),
        searches=_unique([*searches, *(extra.get("searches") or ())]),
        options=_merge_options(options, extra.get("options") or ()))


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
                   host_dns: cri.DNSConfig | None = None) -> cri.PodSandboxConfig:
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
        dns_config=pod_dns(pod, config, host_dns if host_dns is not None else host_resolv_conf()),
        port_mappings=tuple(ports),
        labels=pod_labels(pod),
        annotations=dict(meta.get("annotations") or {}),
        cgroup_parent=cgroup_parent(pod),
        host_network=bool(spec.get("hostNetwork")),
        host_pid=bool(spec.get("hostPID")),
        host_ipc=bool(spec.get("hostIPC")),
        sysctls={str(s.get("name")): str(s.get("value", "")) for s in security.get("sysctls") or ()},
        host_aliases=aliases)
