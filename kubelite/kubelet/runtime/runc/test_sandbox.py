from __future__ import annotations

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc.records import sandbox_config_from_json, sandbox_config_to_json
from kubelite.kubelet.runtime.runc.sandbox import hosts_file, resolv_conf

CONFIG = cri.PodSandboxConfig(
    metadata=cri.PodSandboxMetadata("web", "default", "uid-1", 2),
    hostname="web-0",
    log_directory="/var/log/pods/default_web_uid-1",
    dns_config=cri.DNSConfig(servers=("10.43.0.10",), searches=("default.svc.cluster.local", "svc.cluster.local"),
                             options=("ndots:5",)),
    port_mappings=(cri.PortMapping(80, "TCP", 8080, "127.0.0.1"),),
    labels={"app": "web"},
    cgroup_parent="kubepods/burstable/poduid-1",
    sysctls={"net.ipv4.ip_unprivileged_port_start": "0"},
    host_aliases=(("10.0.0.1", ("foo", "bar")),),
)


def test_hosts_file_is_the_kubelets_managed_one() -> None:
    assert hosts_file(CONFIG, ("10.42.0.5",), "web-0") == (
        "# Kubernetes-managed hosts file.\n"
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "fe00::0\tip6-mcastprefix\n"
        "fe00::1\tip6-allnodes\n"
        "fe00::2\tip6-allrouters\n"
        "10.42.0.5\tweb-0\n"
        "# Entries added by HostAliases.\n"
        "10.0.0.1\tfoo\tbar\n"
    )


def test_resolv_conf_from_the_dns_config() -> None:
    assert CONFIG.dns_config is not None
    assert resolv_conf(CONFIG.dns_config) == (
        "search default.svc.cluster.local svc.cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n"
    )


def test_sandbox_config_survives_the_record_on_disk() -> None:
    import json

    assert sandbox_config_from_json(json.loads(json.dumps(sandbox_config_to_json(CONFIG)))) == CONFIG
