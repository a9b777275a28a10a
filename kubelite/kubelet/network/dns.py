"""A pod's /etc/resolv.conf and /etc/hosts, as upstream's kubelet and runtimes write them.

`pod_dns_config` is the kubelet's GetPodDNS (pkg/kubelet/network/dns): from the pod's
dnsPolicy and dnsConfig, the cluster DNS servers and domain, and the node's own
resolv.conf, the cri.DNSConfig of the sandbox, cut to the resolver's limits (3
nameservers; 32 search domains of at most 253 characters, 2048 in all). What it cut or
fell back on comes back as warnings, the messages of upstream's DNSConfigForming and
MissingClusterDNS events, for the kubelet to record.

`resolv_conf` renders a DNSConfig as containerd's CRI plugin does: `search`, then one
`nameserver` line each, then `options`; an empty one means the node's file, copied.
`hosts_file` is the kubelet's managed hosts file (kubelet_pods.go): localhost, the
pod's addresses under its hostname (and its FQDN when it has a subdomain), then the
pod's hostAliases; a hostNetwork pod gets the node's file with the aliases added.

All of it is pure: the caller reads the node's files and writes the pod's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kubelite.kubelet.cri import DNSConfig

Obj = dict[str, Any]

MAX_NAMESERVERS = 3
MAX_SEARCH_PATHS = 32  # ExpandedDNSConfig, GA since 1.28
MAX_SEARCH_CHARS = 2048
MAX_SEARCH_PATH_LENGTH = 253  # a DNS-1123 subdomain
DEFAULT_OPTIONS = ("ndots:5",)

MANAGED_HOSTS_HEADER = "# Kubernetes-managed hosts file.\n"
MANAGED_HOSTS_HEADER_HOST_NETWORK = "# Kubernetes-managed hosts file (host network).\n"


def parse_resolv_conf(text: str) -> DNSConfig:
    """nameserver lines add up; the last search and the last options line win; a search
    domain's trailing dot is dropped (so "a." and "a" count once)."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        fields = line.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "nameserver" and len(fields) >= 2:
            servers.append(fields[1])
        elif fields[0] == "search":
            searches = [s.removesuffix(".") for s in fields[1:]]
        elif fields[0] == "options":
            options = fields[1:]
    return DNSConfig(tuple(servers), tuple(searches), tuple(options))


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _merge_options(existing: Iterable[str], pod_options: Iterable[Obj]) -> tuple[str, ...]:
    """Options by name, the pod's dnsConfig.options overriding (upstream keeps them in a
    Go map, in no order; here the node's order, then the pod's new ones)."""
    merged: dict[str, str] = {}
    for option in existing:
        name, _, value = option.partition(":")
        merged[name] = value
    for pod_option in pod_options:
        merged[str(pod_option.get("name") or "")] = str(pod_option.get("value") or "")
    return tuple(f"{name}:{value}" if value else name for name, value in merged.items() if name)


def _fit_searches(searches: Sequence[str], warnings: list[str]) -> tuple[str, ...]:
    fitted = list(searches[:MAX_SEARCH_PATHS])
    exceeded = len(searches) > MAX_SEARCH_PATHS
    if any(len(s) > MAX_SEARCH_PATH_LENGTH for s in fitted):
        fitted = [s for s in fitted if len(s) <= MAX_SEARCH_PATH_LENGTH]
        exceeded = True
    while fitted and len(" ".join(fitted)) > MAX_SEARCH_CHARS:
        fitted.pop()
        exceeded = True
    if exceeded:
        warnings.append("Search Line limits were exceeded, some search paths have been "
                        f"omitted, the applied search line is: {' '.join(fitted)}")
    return tuple(fitted)


def _fit_servers(servers: Sequence[str], warnings: list[str]) -> tuple[str, ...]:
    if len(servers) <= MAX_NAMESERVERS:
        return tuple(servers)
    kept = tuple(servers[:MAX_NAMESERVERS])
    warnings.append("Nameserver limits were exceeded, some nameservers have been omitted, "
                    f"the applied nameserver line is: {' '.join(kept)}")
    return kept


def pod_dns_config(pod: Obj, *, cluster_dns: Sequence[str], cluster_domain: str,
                   node_resolv_conf: str | None,
                   node_ips: Sequence[str] = ()) -> tuple[DNSConfig, list[str]]:
    """The pod's DNS settings and the warnings to record on it (module docstring).

    `node_resolv_conf` is the text of the kubelet's --resolv-conf file; None when that
    flag is empty, which leaves a pod on the node's DNS with 127.0.0.1 (or ::1) and the
    search "." (no lookups), as upstream does."""
    spec = pod.get("spec") or {}
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    warnings: list[str] = []
    host = parse_resolv_conf(node_resolv_conf or "")
    servers, searches, options = list(host.servers), list(host.searches), list(host.options)

    kind = _dns_kind(policy, bool(spec.get("hostNetwork")))
    if kind == "none":
        servers, searches, options = [], [], []
    elif kind == "cluster":
        if cluster_dns:
            # the cluster DNS server alone: it forwards what it cannot answer
            servers = list(cluster_dns)
            if cluster_domain:
                searches = list(_unique([f"{namespace}.svc.{cluster_domain}",
                                         f"svc.{cluster_domain}", cluster_domain, *searches]))
            options = list(DEFAULT_OPTIONS)
        else:
            warnings.append(
                "kubelet does not have ClusterDNS IP configured and cannot create Pod "
                'using "ClusterFirst" policy. Falling back to "Default" policy.')
            kind = "host"
    if kind == "host" and node_resolv_conf is None:
        servers += ["::1" if ":" in ip else "127.0.0.1" for ip in node_ips] or ["127.0.0.1"]
        searches = ["."]

    pod_dns = spec.get("dnsConfig")
    if isinstance(pod_dns, dict):
        servers = list(_unique([*servers, *(pod_dns.get("nameservers") or [])]))
        searches = list(_unique([*searches, *(pod_dns.get("searches") or [])]))
        options = list(_merge_options(options, pod_dns.get("options") or []))
    return DNSConfig(_fit_servers(servers, warnings), _fit_searches(searches, warnings),
                     tuple(options)), warnings


def _dns_kind(policy: str, host_network: bool) -> str:
    """upstream's getPodDNSType: "none", "cluster" or "host". ClusterFirst on the host
    network means the node's DNS; a policy the API server would have refused counts as
    ClusterFirst."""
    if policy == "None":
        return "none"
    if policy == "Default" or (policy == "ClusterFirst" and host_network):
        return "host"
    return "cluster"


def resolv_conf(config: DNSConfig | None, node_resolv_conf: str) -> str:
    """The pod's /etc/resolv.conf (module docstring)."""
    if config is None or not (config.servers or config.searches or config.options):
        return node_resolv_conf
    lines = []
    if config.searches:
        lines.append("search " + " ".join(config.searches))
    lines += [f"nameserver {server}" for server in config.servers]
    if config.options:
        lines.append("options " + " ".join(config.options))
    return "".join(line + "\n" for line in lines)


def _alias_entries(host_aliases: Sequence[tuple[str, Sequence[str]]]) -> str:
    if not host_aliases:
        return ""
    entries = "".join(f"{ip}\t{name}\n" for ip, names in host_aliases for name in names)
    return "\n# Entries added by HostAliases.\n" + entries


def hosts_file(pod_ips: Sequence[str], hostname: str, host_domain_name: str = "",
               host_aliases: Sequence[tuple[str, Sequence[str]]] = ()) -> str:
    """The managed /etc/hosts of a pod with its own network namespace. host_aliases as
    cri.PodSandboxConfig.host_aliases: (ip, hostnames) pairs."""
    lines = [
        MANAGED_HOSTS_HEADER,
        "127.0.0.1\tlocalhost\n",
        "::1\tlocalhost ip6-localhost ip6-loopback\n",
        "fe00::0\tip6-localnet\n",
        "fe00::0\tip6-mcastprefix\n",
        "fe00::1\tip6-allnodes\n",
        "fe00::2\tip6-allrouters\n",
    ]
    for ip in pod_ips:
        if host_domain_name:
            lines.append(f"{ip}\t{hostname}.{host_domain_name}\t{hostname}\n")
        else:
            lines.append(f"{ip}\t{hostname}\n")
    return "".join(lines) + _alias_entries(host_aliases)


def host_network_hosts_file(node_hosts: str,
                            host_aliases: Sequence[tuple[str, Sequence[str]]] = ()) -> str:
    """A hostNetwork pod's /etc/hosts: the node's, and the pod's hostAliases."""
    return MANAGED_HOSTS_HEADER_HOST_NETWORK + node_hosts + _alias_entries(host_aliases)


def pod_hostname_and_domain(pod: Obj, cluster_domain: str) -> tuple[str, str]:
    """The pod's hostname (spec.hostname, else its name, cut to 63 characters without a
    trailing "-" or ".") and domain (`<subdomain>.<namespace>.svc.<cluster domain>` when
    spec.subdomain is set, else ""), as the kubelet's GeneratePodHostNameAndDomain."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    hostname = spec.get("hostname") or meta.get("name") or ""
    if len(hostname) > 63:
        hostname = hostname[:63].rstrip("-.")
    domain = ""
    subdomain = spec.get("subdomain")
    if subdomain:
        domain = f"{subdomain}.{meta.get('namespace') or 'default'}.svc.{cluster_domain}"
    return hostname, domain
